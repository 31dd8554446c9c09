"""K-Net's panoptic output through MMDetection's evaluation: the ground truth given as
kernel masks and merged by ``merge_stuff_thing`` scores PQ 100; one test run of the
tiny model reports PQ and box/mask AP."""
import os.path as osp

import torch
from conftest import REPO_ROOT, synthetic_panoptic_val
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner
from mmengine.structures import PixelData

from mmdet_dr1mask.knet.kernel_panoptic_merge import merge_stuff_thing

register_all_modules()
TINY = osp.join(REPO_ROOT, 'configs', 'knet', 'knet-s3_r18_fpn_tiny_synthetic-panoptic.py')
NUM_THINGS, NUM_STUFF = 3, 4


def gt_as_kernels(sample):
    """One kernel per ground-truth thing (crowd regions included) and per stuff class
    present: (K, H, W) probabilities 0/1 and (K,) labels."""
    sem = sample.gt_sem_seg.sem_seg[0].long()
    things = [sample.gt_instances]
    if 'ignored_instances' in sample:
        things.append(sample.ignored_instances)
    masks, labels = [], []
    for inst in things:
        masks += list(inst.masks.to_tensor(torch.float, 'cpu'))
        labels += inst.labels.tolist()
    for label in range(NUM_THINGS, NUM_THINGS + NUM_STUFF):
        if (sem == label).any():
            masks.append((sem == label).float())
            labels.append(label)
    return torch.stack(masks), torch.tensor(labels)


def test_ground_truth_through_the_kernel_merge_scores_pq_100(synthetic_root):
    dataset = synthetic_panoptic_val(synthetic_root)
    evaluator = Evaluator(dict(
        type='CocoPanopticMetric', ann_file=osp.join(synthetic_root, 'annotations',
                                                     'panoptic_val.json'),
        seg_prefix=osp.join(synthetic_root, 'annotations', 'panoptic_val')))
    evaluator.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        probs, labels = gt_as_kernels(sample)
        pan = merge_stuff_thing(probs, labels, torch.ones(len(labels)), NUM_THINGS,
                                NUM_THINGS + NUM_STUFF, stuff_max_area=0)
        sample.pred_panoptic_seg = PixelData(sem_seg=pan[None])
        evaluator.process([sample])
    metrics = evaluator.evaluate(len(dataset))
    assert metrics['coco_panoptic/PQ'] == 100.0
    assert metrics['coco_panoptic/PQ_th'] == 100.0 and metrics['coco_panoptic/PQ_st'] == 100.0


def test_one_run_reports_pq_and_mask_ap(synthetic_root, tmp_path):
    cfg = Config.fromfile(TINY)
    root = synthetic_root + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    cfg.test_evaluator[0].ann_file = root + 'annotations/panoptic_val.json'
    cfg.test_evaluator[0].seg_prefix = root + 'annotations/panoptic_val/'
    cfg.test_evaluator[1].ann_file = root + 'annotations/instances_val.json'
    cfg.work_dir = str(tmp_path)
    metrics = Runner.from_cfg(cfg).test()
    for key in ('coco_panoptic/PQ', 'coco_panoptic/PQ_th', 'coco_panoptic/PQ_st',
                'coco/bbox_mAP', 'coco/segm_mAP'):
        assert key in metrics and metrics[key] >= 0, key
