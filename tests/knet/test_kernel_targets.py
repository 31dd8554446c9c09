"""K-Net targets: GT at the target stride, Hungarian matching, stuff kernel targets."""
import numpy as np
import torch
from mmdet.models.task_modules import HungarianAssigner
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from mmdet_dr1mask.knet import gt_masks_at_stride, match_kernels, stuff_kernel_targets

T, S = 2, 3


def sample(h=12, w=16, pad=(16, 16)):
    masks = np.zeros((1, h, w), np.uint8)
    masks[0, 0:8, 0:8] = 1
    sem = torch.full((h, w), 2)
    sem[8:, :] = 4
    sem[0, :] = 255
    s = DetDataSample(metainfo=dict(batch_input_shape=pad, img_shape=(h, w)))
    s.gt_instances = InstanceData(labels=torch.tensor([1]), masks=BitmapMasks(masks, h, w))
    s.gt_sem_seg = PixelData(sem_seg=sem[None])
    return s


def test_gt_masks_at_stride_pads_resamples_and_splits_stuff():
    things, stuff = gt_masks_at_stride([sample()], stride=4, num_thing_classes=T,
                                       with_stuff=True)
    assert things[0].masks.shape == (1, 4, 4) and things[0].labels.tolist() == [1]
    assert things[0].masks[0, :2, :2].min() > 0 and things[0].masks[0, 3].max() == 0
    assert stuff[0].labels.tolist() == [2, 4]  # void 255 and thing labels skipped
    assert stuff[0].masks.shape == (2, 4, 4)
    assert gt_masks_at_stride([sample()], 4, T, with_stuff=False)[1] is None


def test_matching_picks_the_kernel_whose_mask_fits_and_sets_targets():
    assigner = HungarianAssigner(match_costs=[
        dict(type='FocalLossCost', weight=2.0), dict(type='MaskAgreementCost', weight=1.0),
        dict(type='DiceCost', weight=4.0, pred_act=True, naive_dice=False)])
    gt_mask = torch.zeros(1, 8, 8)
    gt_mask[0, 2:6, 2:6] = 1
    preds = torch.full((3, 8, 8), -5.0)
    preds[2] = gt_mask[0] * 10 - 5
    gt = InstanceData(labels=torch.tensor([1]), masks=gt_mask)
    for cls in (None, torch.zeros(3, T)):
        labels, targets, pos = match_kernels(assigner, preds, cls, gt, num_classes=T + S)
        assert pos.tolist() == [False, False, True]
        assert labels.tolist() == [T + S, T + S, 1]
        assert torch.equal(targets[2], gt_mask[0]) and targets[:2].sum() == 0
    empty = InstanceData(labels=torch.zeros(0, dtype=torch.long), masks=torch.zeros(0, 8, 8))
    labels, targets, pos = match_kernels(assigner, preds, None, empty, num_classes=T + S)
    assert not pos.any() and (labels == T + S).all()


def test_stuff_kernel_i_is_stuff_class_i_scored_on_its_class_only():
    stuff = InstanceData(labels=torch.tensor([3]), masks=torch.ones(1, 4, 4))
    labels, weights, targets, pos = stuff_kernel_targets(stuff, T, S, (4, 4))
    assert labels.tolist() == [T + S, 3, T + S] and pos.tolist() == [False, True, False]
    assert weights.tolist() == [[0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]
    assert targets[1].sum() == 16 and targets[[0, 2]].sum() == 0
