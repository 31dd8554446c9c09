"""How many of a model's detections duplicate a higher-scored detection of the same object.

    python tools/analysis_tools/duplicate_detections.py CONFIG CHECKPOINT IMAGES \
        [--score-thr 0.3] [--iou 0.5] [--cfg-options KEY=VALUE ...]

Among the detections scoring at least ``--score-thr`` on every image of the folder IMAGES,
a detection is counted as a duplicate when its mask IoU with a higher-scored one is above
``--iou``. Box NMS lets such detections through; a panoptic step that gives every
detection a segment (DR1Mask's layer without ``drop_duplicates``) splits their object
between them (docs/benchmarks.md §5.1).
"""
import argparse
from typing import Dict, List, Optional

import torch
from mmdet.apis import inference_detector, init_detector
from mmdet.utils import register_all_modules
from mmengine.config import DictAction

from mmdet_dr1mask.support import list_images, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', help='folder of images')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='count detections scoring at least this')
    parser.add_argument('--iou', type=float, default=0.5,
                        help='mask IoU above which a detection duplicates a higher-scored one')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def count_duplicates(masks: torch.Tensor, iou_thr: float) -> int:
    """How many of the (K, H, W) bool ``masks`` (sorted by score) have a mask IoU above
    ``iou_thr`` with an earlier one."""
    if len(masks) < 2:
        return 0
    flat = masks.flatten(1).float()
    inter = flat @ flat.t()
    areas = flat.sum(1)
    iou = inter / (areas[:, None] + areas[None] - inter).clamp(min=1)
    return int((iou.triu(1) > iou_thr).any(0).sum())


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args.config)
    cfg.merge_from_dict(args.cfg_options)
    model = init_detector(cfg, args.checkpoint, device=args.device)
    images = list_images(args.images)
    detections = duplicates = 0
    for path in images:
        result = inference_detector(model, path).pred_instances
        masks = result.masks[result.scores >= args.score_thr]
        detections += len(masks)
        duplicates += count_duplicates(masks, args.iou)
    print(f'{len(images)} images: {detections} detections scoring >= {args.score_thr}, '
          f'{duplicates} with a mask IoU > {args.iou} with a higher-scored one')
    return dict(images=len(images), detections=detections, duplicates=duplicates)


if __name__ == '__main__':
    main()
