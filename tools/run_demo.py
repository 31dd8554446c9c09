"""The main job on its embedded default: the synthetic dataset and pictures of it.

With no data of the user's, this writes the deterministic synthetic dataset
(COCO instances + panoptic) and draws its validation images with MMDetection's
``DetLocalVisualizer``: image | instance masks and boxes | panoptic segments.

    python tools/run_demo.py --work-dir work_dirs/demo
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
from mmdet.datasets import CocoPanopticDataset
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData
from tqdm import tqdm

from mmdet_dr1mask.datasets import SYNTHETIC_PANOPTIC_METAINFO, SyntheticConfig, generate_split
from mmdet_dr1mask.structures import panoptic_map_from_gt


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--num-train', type=int, default=64)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--img-size', nargs=2, type=int, default=[192, 256], metavar=('H', 'W'))
    parser.add_argument('--num-pictures', type=int, default=8, help='val images to draw')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def make_dataset(args: argparse.Namespace) -> str:
    data_root = osp.join(args.work_dir, 'data')
    cfg = SyntheticConfig(img_size=tuple(args.img_size), max_things=6, crowd_prob=0.2,
                          void_prob=0.2)
    for split, count in (('train', args.num_train), ('val', args.num_val)):
        generate_split(data_root, split, count, seed=args.seed, cfg=cfg, progress=True)
    return data_root


def draw_ground_truth(data_root: str, out_dir: str, num_pictures: int) -> List[str]:
    """Draw image | instances | panoptic for the first val images; return the files."""
    register_all_modules()
    dataset = CocoPanopticDataset(
        data_root=data_root, ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
        metainfo=SYNTHETIC_PANOPTIC_METAINFO, test_mode=True, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPanopticAnnotations', with_bbox=True, with_mask=True, with_seg=True),
            dict(type='PackDetInputs')])
    meta = dataset.metainfo
    num_things, num_classes = len(meta['thing_classes']), len(meta['classes'])
    vis = DetLocalVisualizer(alpha=0.6)
    vis.dataset_meta = meta
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for i in tqdm(range(min(num_pictures, len(dataset))), desc='pictures'):
        item = dataset[i]
        sample: DetDataSample = item['data_samples']
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1].copy()  # BGR -> RGB
        things = sample.gt_instances
        inst_only = DetDataSample(gt_instances=things.clone())
        inst_only.gt_instances.bboxes = things.bboxes.tensor  # the visualizer wants a Tensor
        vis.add_datasample('instances', image, inst_only, draw_pred=False)
        instances_img = vis.get_image()
        pan = panoptic_map_from_gt(sample.gt_sem_seg.sem_seg[0], things.masks.to_tensor(
            bool, 'cpu'), things.labels, num_things, num_classes)
        pan_only = DetDataSample(gt_panoptic_seg=PixelData(sem_seg=pan[None].numpy()))
        vis.add_datasample('panoptic', image, pan_only, draw_pred=False)
        panoptic_img = vis.get_image()
        out_file = osp.join(out_dir, f'{sample.img_id:06d}_gt.png')
        row = np.concatenate([image, instances_img, panoptic_img], axis=1)
        cv2.imwrite(out_file, row[..., ::-1])
        files.append(out_file)
    return files


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    print('[1/2] writing the synthetic dataset')
    data_root = make_dataset(args)
    print('[2/2] drawing the validation ground truth (image | instances | panoptic)')
    files = draw_ground_truth(data_root, osp.join(args.work_dir, 'pictures'), args.num_pictures)
    print(f'dataset: {osp.abspath(data_root)}')
    print(f'pictures: {len(files)} PNG files in {osp.abspath(osp.dirname(files[0]))}'
          if files else 'pictures: none (no validation images)')


if __name__ == '__main__':
    main()
