"""Pictures of a model's predictions: instance masks and boxes, and panoptic segments.

    python tools/demo.py IMAGE_OR_DIR CONFIG --weights CKPT [--out-dir DIR] \
        [--score-thr 0.3] [--device cpu] [--show-gt [--data-root DIR]]

Built on MMDetection's ``DetInferencer`` (test pipeline, batch inference) and
``DetLocalVisualizer``; writes one PNG per input image into ``--out-dir``
(image | prediction), with panoptic segments drawn when the model predicts them.
``--show-gt`` draws ground truth | prediction instead: the inputs must be images of the
config's test dataset (``--data-root`` aims it elsewhere), whose annotations are loaded
by the test pipeline's own annotation loader at the original image size.

A file that is not a readable image (empty, not an image, a truncated JPEG) is skipped
with a warning naming it; the others are drawn, and the skipped files are listed at the
end, with exit status 1. Grayscale, RGBA and 16-bit images are drawn as 8-bit colour.
"""
import argparse
import copy
import os
import os.path as osp
import warnings
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.apis import DetInferencer
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.utils import register_all_modules
from mmengine.dataset import Compose
from mmengine.structures import PixelData

from mmdet_dr1mask.support import (
    ANNOTATION_LOADERS,
    CheckedLoadImageFromFile,
    list_images,
    load_config,
    retarget_data_root,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image or a folder of images')
    parser.add_argument('config', help='model config')
    parser.add_argument('--weights', required=True, help='checkpoint')
    parser.add_argument('--out-dir', default='outputs/demo', help='where the PNGs go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='drawn instances')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--show-gt', action='store_true',
                        help="ground truth | prediction, from the config's test dataset")
    parser.add_argument('--data-root', help="with --show-gt: the test dataset's root")
    return parser.parse_args(argv)


def list_inputs(path: str) -> List[str]:
    if osp.isdir(path):
        return list_images(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no such image or folder: {path}')
    return [path]


class GroundTruth:
    """Annotations of the config's test images, by file name, at the original image size
    (loaded by the test pipeline's own annotation loader, nothing resized).

    Raises:
        ValueError: the config's test pipeline loads no annotations.
    """

    def __init__(self, config: str, data_root: Optional[str] = None) -> None:
        register_all_modules()
        cfg = load_config(config)
        if data_root is not None:
            retarget_data_root(cfg, data_root)
        dataset_cfg = cfg.test_dataloader.dataset
        loaders = [step for step in dataset_cfg.pipeline if step['type'] in ANNOTATION_LOADERS]
        if not loaders:
            raise ValueError(f'--show-gt: the test pipeline of {config} loads no annotations')
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
        self.source = osp.join(dataset.data_root, dataset.ann_file)
        self.num_classes = len(dataset.metainfo['classes'])
        self.ignore_index = loaders[0].get('ignore_index', 255)
        self.infos = {osp.basename(info['img_path']): info
                      for info in map(dataset.get_data_info, range(len(dataset)))}
        self.pipeline = Compose([TRANSFORMS.build(step) for step in (
            dict(type='LoadImageFromFile'), loaders[0], dict(type='PackDetInputs'))])

    def __call__(self, path: str) -> DetDataSample:
        """The data sample (``gt_instances``, ``gt_panoptic_seg``) of the image ``path``."""
        info = self.infos.get(osp.basename(path))
        if info is None:
            raise KeyError(f'--show-gt: {path} is not an image of {self.source}')
        sample = self.pipeline(copy.deepcopy(info))['data_samples']
        gt = sample.gt_instances
        if isinstance(gt.get('bboxes'), BaseBoxes):
            gt.bboxes = gt.bboxes.tensor  # the visualizer draws tensors
        if 'gt_sem_seg' in sample:  # panoptic: things on top of the stuff labels
            panoptic = sample.gt_sem_seg.sem_seg.clone()
            panoptic[panoptic == self.ignore_index] = self.num_classes  # MMDetection's VOID
            masks = gt.masks.to_tensor(torch.bool, panoptic.device)
            for k, (label, mask) in enumerate(zip(gt.labels, masks), 1):
                panoptic[0][mask] = label + k * INSTANCE_OFFSET
            sample.gt_panoptic_seg = PixelData(sem_seg=panoptic.numpy())  # as drawn
            del sample.gt_sem_seg
        return sample


def unreadable(path: str) -> Optional[str]:
    """Why ``path`` is not a readable image (as the checked loader words it), or None."""
    try:  # decodes as the test pipeline's LoadImageFromFile does, and names the file
        CheckedLoadImageFromFile()(dict(img_path=path))
    except (ValueError, OSError) as e:
        return str(e)
    return None


def main(argv: Optional[List[str]] = None) -> List[str]:
    """Draw every readable image; returns the PNGs written.

    Raises:
        SystemExit: status 1, listing the skipped files, when any file was skipped.
    """
    args = parse_args(argv)
    images = list_inputs(args.inputs)
    if not osp.isfile(args.weights):
        raise FileNotFoundError(f'--weights: no such checkpoint {args.weights}')
    inferencer = DetInferencer(model=args.config, weights=args.weights, device=args.device,
                               show_progress=False)
    os.makedirs(args.out_dir, exist_ok=True)
    warnings.filterwarnings('ignore', message='.*out of bounds', category=UserWarning)
    ground_truth = GroundTruth(args.config, args.data_root) if args.show_gt else None
    written, skipped = [], []
    for path in images:
        reason = unreadable(path)
        if reason is not None:  # one bad file must not end the run
            warnings.warn(f'skipped {reason}', stacklevel=2)
            skipped.append(reason)
            continue
        out_file = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        if ground_truth is None:
            result = inferencer(path, return_vis=True, no_save_vis=True, no_save_pred=True,
                                pred_score_thr=args.score_thr)
            drawn = result['visualization'][0]  # RGB
            cv2.imwrite(out_file, np.concatenate([cv2.imread(path), drawn[..., ::-1]], axis=1))
        else:
            sample = ground_truth(path)
            pred = inferencer(path, return_datasamples=True, no_save_vis=True,
                              no_save_pred=True)['predictions'][0]
            for key in ('pred_instances', 'pred_panoptic_seg'):
                if key in pred:
                    sample.set_field(pred.get(key), key)
            inferencer.visualizer.add_datasample(  # ground truth | prediction
                'demo', cv2.imread(path)[..., ::-1], sample, draw_gt=True, draw_pred=True,
                pred_score_thr=args.score_thr)
            cv2.imwrite(out_file, inferencer.visualizer.get_image()[..., ::-1])
        written.append(out_file)
    print(f'{len(written)} pictures in {osp.abspath(args.out_dir)}')
    if skipped:
        raise SystemExit(f'{len(skipped)} file(s) skipped, not readable images:\n  ' +
                         '\n  '.join(skipped))
    return written


if __name__ == '__main__':
    main()
