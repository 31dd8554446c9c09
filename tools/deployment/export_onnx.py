"""Export DR1Mask or BlendMask to one ONNX graph with its post-processing.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT [--out model.onnx] \
        [--image IMG] [--verify IMAGE_OR_DIR [--num-images 10]] [--cfg-options K=V ...]

The graph takes the normalised, padded image and its two sizes and returns final boxes,
scores, labels, masks at the original image size and, for DR1Mask panoptic configs, the
panoptic map (docs/deployment.md). ``--image`` is the example traced (any image: sizes
stay dynamic; default a random 480x640 image). ``--verify`` then runs the graph with
ONNX Runtime and the checkpoint with PyTorch on the same images and prints how close they
are; it exits with status 1 when a parity limit is missed. CHECKPOINT ``none`` exports
random weights (for speed measurements).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.apis import init_detector
from mmdet.utils import register_all_modules
from mmengine.config import DictAction

from mmdet_dr1mask.deploy import OnnxRuntimeSegmentor, export_onnx
from mmdet_dr1mask.deploy.ort_backend import graph_inputs, prepare
from mmdet_dr1mask.deploy.parity import compare, within_limits
from mmdet_dr1mask.support import inference_pipeline, list_images, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='DR1Mask or BlendMask config')
    parser.add_argument('checkpoint', help="weights, or 'none' for random weights")
    parser.add_argument('--out', help='the .onnx file (default: next to the checkpoint, '
                        'named after the config)')
    parser.add_argument('--image', help='example image to trace (default: random 480x640)')
    parser.add_argument('--verify', help='image or folder: compare ONNX Runtime with PyTorch')
    parser.add_argument('--num-images', type=int, default=10, help='images of --verify')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config settings (e.g. test_cfg thresholds)')
    return parser.parse_args(argv)


def random_image(folder: str) -> str:
    """A random 480x640 BGR image written into ``folder``."""
    path = osp.join(folder, 'example.png')
    cv2.imwrite(path, np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8))
    return path


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args.config)
    cfg.merge_from_dict(args.cfg_options)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'CHECKPOINT: no such file {checkpoint}')
    if checkpoint is None and cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # random weights: nothing to download
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join(osp.dirname(checkpoint) if checkpoint else '.', name + '.onnx')
    model = init_detector(cfg, checkpoint, device='cpu')
    pipeline = inference_pipeline(cfg)
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        batch = model.data_preprocessor(prepare(pipeline, args.image or random_image(tmp)),
                                        False)
        export_onnx(model, graph_inputs(batch)[0], out)
    print(f'wrote {out}')
    if not args.verify:
        return 0
    images = list_images(args.verify) if osp.isdir(args.verify) else [args.verify]
    runtime = OnnxRuntimeSegmentor(out, cfg)
    failed = 0
    for index, path in enumerate(images[:args.num_images]):
        data = prepare(pipeline, path, index)
        with torch.no_grad():
            reference = model.test_step(data)[0]
        stats = compare(reference, runtime.test_step(data)[0])
        missed = within_limits(stats)
        failed += bool(missed)
        figures = ', '.join(f'{k} {v:.4g}' for k, v in stats.items())
        verdict = ' MISSED: ' + '; '.join(missed) if missed else ''
        print(f'{os.path.basename(path)}: {figures}{verdict}')
    print(f'{failed} of {min(len(images), args.num_images)} images outside the parity limits')
    return int(failed > 0)


if __name__ == '__main__':
    sys.exit(main())
