"""Rank targets and the mask losses of matched kernels."""
import torch
from mmdet.models.losses import CrossEntropyLoss, DiceLoss

from mmdet_dr1mask.models.losses import kernel_mask_losses, rank_targets


def test_rank_target_is_the_matched_kernel_later_ones_win_and_rest_ignored():
    targets = torch.zeros(1, 3, 2, 3)
    targets[0, 0, 0, :2] = 1.0
    targets[0, 1, 0, 1:] = 0.5   # soft target counts; overlaps kernel 0 at (0, 1)
    targets[0, 2, 1, :] = 1.0    # unmatched kernel: ignored
    pos = torch.tensor([[True, True, False]])
    assert rank_targets(targets, pos, 255).tolist() == [[[0, 1, 1], [255, 255, 255]]]


def losses():
    return (CrossEntropyLoss(use_sigmoid=True), DiceLoss(loss_weight=4.0),
            CrossEntropyLoss(use_sigmoid=False, loss_weight=0.1))


def test_no_match_gives_zero_losses_in_the_graph():
    preds = torch.randn(2, 4, 8, 8, requires_grad=True)
    out = kernel_mask_losses(preds, torch.zeros_like(preds), torch.zeros(2, 4, dtype=bool),
                             *losses())
    assert set(out) == {'loss_mask', 'loss_dice', 'loss_rank'}
    assert all(v.item() == 0 and v.requires_grad for v in out.values())


def test_matched_kernels_get_positive_losses():
    preds = torch.randn(1, 4, 8, 8)
    targets = torch.zeros_like(preds)
    targets[0, 1, 2:5, 2:5] = 1
    pos = torch.tensor([[False, True, False, False]])
    out = kernel_mask_losses(preds, targets, pos, *losses())
    assert all(v > 0 for v in out.values())
    assert 'loss_rank' not in kernel_mask_losses(preds, targets, pos, *losses()[:2])
