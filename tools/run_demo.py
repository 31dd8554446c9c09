"""The main job on its embedded default: synthetic data -> tiny DR1Mask -> AP -> pictures.

With no data of the user's this
1. writes the deterministic synthetic dataset (COCO instances + panoptic),
2. trains the tiny DR1Mask of ``configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py``
   on the CPU for a few minutes (progress bar with ETA),
3. evaluates box and mask AP on the validation split (MMDetection's CocoMetric),
4. draws ground truth | prediction for validation images.

    python tools/run_demo.py --work-dir work_dirs/demo [--iters 600]
"""
import argparse
import json
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional

import cv2
import torch
from mmdet.visualization import DetLocalVisualizer
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner
from tqdm import tqdm

from mmdet_dr1mask.support import (
    SyntheticConfig,
    generate_split,
    retarget_data_root,
    shorten_schedule,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--iters', type=int, default=600, help='training iterations (batch 4)')
    parser.add_argument('--num-train', type=int, default=64)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--img-size', nargs=2, type=int, default=[192, 256], metavar=('H', 'W'))
    parser.add_argument('--num-pictures', type=int, default=8, help='val images to draw')
    parser.add_argument('--score-thr', type=float, default=0.3, help='drawn predictions')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def make_dataset(args: argparse.Namespace) -> str:
    data_root = osp.join(args.work_dir, 'data')
    cfg = SyntheticConfig(img_size=tuple(args.img_size), max_things=6, crowd_prob=0.2,
                          void_prob=0.2)
    for split, count in (('train', args.num_train), ('val', args.num_val)):
        generate_split(data_root, split, count, seed=args.seed, cfg=cfg, progress=True)
    return data_root


def demo_config(data_root: str, work_dir: str, iters: int, seed: int) -> Config:
    """The tiny config aimed at ``data_root``, trained for ``iters`` iterations."""
    cfg = Config.fromfile(DEMO_CONFIG)
    retarget_data_root(cfg, osp.abspath(data_root))
    shorten_schedule(cfg, iters, lr_drops=(0.8, ))  # evaluate and save once, at the end
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = max(iters // 10, 1)
    cfg.custom_hooks = [dict(type='ProgressBarHook', desc='train tiny DR1Mask')]
    cfg.randomness = dict(seed=seed)
    return cfg


def draw_predictions(runner: Runner, out_dir: str, num_pictures: int,
                     score_thr: float) -> List[str]:
    """Ground truth | prediction for the first validation images; returns the files."""
    dataset = runner.test_dataloader.dataset
    vis = DetLocalVisualizer(alpha=0.6)
    vis.dataset_meta = dataset.metainfo
    os.makedirs(out_dir, exist_ok=True)
    # boxes touching the border are legal; MMEngine warns about each one
    warnings.filterwarnings('ignore', message='.*out of bounds', category=UserWarning)
    model = runner.model.eval()
    files = []
    for i in tqdm(range(min(num_pictures, len(dataset))), desc='pictures'):
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([dataset[i]]))[0]
        image = cv2.imread(sample.img_path)[..., ::-1]  # RGB
        out_file = osp.join(out_dir, f'{sample.img_id:06d}_gt_pred.png')
        vis.add_datasample('prediction', image, sample, pred_score_thr=score_thr,
                           out_file=out_file)
        files.append(out_file)
    return files


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    print('[1/4] writing the synthetic dataset')
    data_root = make_dataset(args)
    print(f'[2/4] training the tiny DR1Mask for {args.iters} iterations on the CPU')
    cfg = demo_config(data_root, osp.join(args.work_dir, 'train'), args.iters, args.seed)
    runner = Runner.from_cfg(cfg)
    runner.train()
    print('[3/4] evaluating box and mask AP on the validation split')
    metrics = runner.test()
    print('[4/4] drawing ground truth | prediction')
    files = draw_predictions(runner, osp.join(args.work_dir, 'pictures'), args.num_pictures,
                             args.score_thr)
    summary = {k: float(v) for k, v in metrics.items()}
    with open(osp.join(args.work_dir, 'metrics.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print(f'dataset: {osp.abspath(data_root)}')
    print(f'checkpoint: {osp.abspath(osp.join(cfg.work_dir, f"iter_{args.iters}.pth"))}')
    print('box AP {:.3f}, mask AP {:.3f} (coco/bbox_mAP, coco/segm_mAP; metrics.json)'.format(
        summary.get('coco/bbox_mAP', float('nan')), summary.get('coco/segm_mAP', float('nan'))))
    if files:
        print(f'pictures: {len(files)} PNG files in {osp.abspath(osp.dirname(files[0]))}')
    return summary


if __name__ == '__main__':
    main()
