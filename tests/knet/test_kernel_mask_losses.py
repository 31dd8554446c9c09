"""Rank targets and the mask losses of matched kernels."""
import torch

from mmdet_dr1mask.knet import KernelMaskLoss, rank_targets


def test_rank_target_is_the_matched_kernel_later_ones_win_and_rest_ignored():
    targets = torch.zeros(1, 3, 2, 3)
    targets[0, 0, 0, :2] = 1.0
    targets[0, 1, 0, 1:] = 0.5   # soft target counts; overlaps kernel 0 at (0, 1)
    targets[0, 2, 1, :] = 1.0    # unmatched kernel: ignored
    pos = torch.tensor([[True, True, False]])
    assert rank_targets(targets, pos, 255).tolist() == [[[0, 1, 1], [255, 255, 255]]]


RANK = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1)


def test_no_match_gives_zero_losses_in_the_graph():
    preds = torch.randn(2, 4, 8, 8, requires_grad=True)
    out = KernelMaskLoss(loss_rank=RANK)(preds, torch.zeros_like(preds),
                                         torch.zeros(2, 4, dtype=bool))
    assert set(out) == {'loss_mask', 'loss_dice', 'loss_rank'}
    assert all(v.item() == 0 and v.requires_grad for v in out.values())


def test_matched_kernels_get_positive_losses():
    preds = torch.randn(1, 4, 8, 8)
    targets = torch.zeros_like(preds)
    targets[0, 1, 2:5, 2:5] = 1
    pos = torch.tensor([[False, True, False, False]])
    out = KernelMaskLoss(loss_rank=RANK)(preds, targets, pos)
    assert all(v > 0 for v in out.values())
    assert 'loss_rank' not in KernelMaskLoss()(preds, targets, pos)
