"""The evaluation path: PQ and mask AP from one run; ground truth as a prediction is PQ 100."""
import os.path as osp

import torch
from conftest import REPO_ROOT, synthetic_panoptic_val
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner
from mmengine.structures import PixelData

from mmdet_dr1mask.models.seg_heads.dr1_panoptic_head import covered_things, encode_panoptic

register_all_modules()
TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic-panoptic.py')
NUM_THINGS, NUM_STUFF = 3, 4


def gt_as_channel_maps(sample):
    """The ground truth written as the panoptic head's arg-max maps (stuff, then things)."""
    sem = sample.gt_sem_seg.sem_seg[0].long()
    full = torch.zeros_like(sem)  # void pixels: any stuff channel; PQ ignores them
    is_stuff = (sem >= NUM_THINGS) & (sem < NUM_THINGS + NUM_STUFF)
    full[is_stuff] = sem[is_stuff] - NUM_THINGS
    things = [sample.gt_instances]
    if 'ignored_instances' in sample:
        things.append(sample.ignored_instances)  # crowd regions become their own segments
    labels, areas = [], []
    for inst in things:
        for mask, label in zip(inst.masks.to_tensor(torch.bool, 'cpu'), inst.labels):
            full[mask] = NUM_STUFF + len(labels)
            labels.append(int(label))
            areas.append(int(mask.sum()))
    return full, torch.tensor(labels).long(), torch.tensor(areas)


def test_ground_truth_through_the_output_encoding_scores_pq_100(synthetic_root):
    dataset = synthetic_panoptic_val(synthetic_root)
    evaluator = Evaluator(dict(
        type='CocoPanopticMetric', ann_file=osp.join(synthetic_root, 'annotations',
                                                     'panoptic_val.json'),
        seg_prefix=osp.join(synthetic_root, 'annotations', 'panoptic_val')))
    evaluator.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        full, labels, areas = gt_as_channel_maps(sample)
        assert not covered_things(full, areas, NUM_STUFF, overlap_thr=0.5).any()
        pan = encode_panoptic(full, labels, NUM_THINGS, NUM_STUFF, stuff_area_limit=0)
        sample.pred_panoptic_seg = PixelData(sem_seg=pan[None].int())
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
    cfg.model.test_cfg.score_thr = 0.0  # untrained weights: keep detections for AP
    cfg.work_dir = str(tmp_path)
    metrics = Runner.from_cfg(cfg).test()
    for key in ('coco_panoptic/PQ', 'coco_panoptic/PQ_th', 'coco_panoptic/PQ_st',
                'coco/bbox_mAP', 'coco/segm_mAP'):
        assert key in metrics and metrics[key] >= 0, key
