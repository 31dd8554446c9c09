"""Pictures of a model's predictions: instance masks and boxes, and panoptic segments.

    python tools/demo.py IMAGE_OR_DIR CONFIG --weights CKPT [--out-dir DIR] \
        [--score-thr 0.3] [--device cpu]

Built on MMDetection's ``DetInferencer`` (test pipeline, batch inference) and
``DetLocalVisualizer``; writes one PNG per input image into ``--out-dir``
(image | prediction), with panoptic segments drawn when the model predicts them.
"""
import argparse
import os
import os.path as osp
import warnings
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.apis import DetInferencer

from mmdet_dr1mask.support import list_images


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image or a folder of images')
    parser.add_argument('config', help='model config')
    parser.add_argument('--weights', required=True, help='checkpoint')
    parser.add_argument('--out-dir', default='outputs/demo', help='where the PNGs go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='drawn instances')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def list_inputs(path: str) -> List[str]:
    if osp.isdir(path):
        return list_images(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no such image or folder: {path}')
    return [path]


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    images = list_inputs(args.inputs)
    if not osp.isfile(args.weights):
        raise FileNotFoundError(f'--weights: no such checkpoint {args.weights}')
    inferencer = DetInferencer(model=args.config, weights=args.weights, device=args.device,
                               show_progress=False)
    os.makedirs(args.out_dir, exist_ok=True)
    warnings.filterwarnings('ignore', message='.*out of bounds', category=UserWarning)
    written = []
    for path in images:
        result = inferencer(path, return_vis=True, no_save_vis=True, no_save_pred=True,
                            pred_score_thr=args.score_thr)
        drawn = result['visualization'][0]  # RGB
        image = cv2.imread(path)
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        cv2.imwrite(out_file, np.concatenate([image, drawn[..., ::-1]], axis=1))
        written.append(out_file)
    print(f'{len(written)} pictures in {osp.abspath(args.out_dir)}')
    return written


if __name__ == '__main__':
    main()
