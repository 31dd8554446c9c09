"""Mask losses of K-Net's kernels (K-Net Sec. 3.4, Eq. 6; ``loss`` of the official
``ConvKernelHead`` and ``KernelUpdateHead``, github.com/ZwwWayne/K-Net, knet/det/).

The matched kernels' masks get a binary cross-entropy and a dice loss against
their targets; the panoptic model adds the *rank* loss: at every pixel covered by
a matched target, a softmax over all kernels' mask logits should pick the kernel
matched to it (cross-entropy with the other pixels ignored). With no matched
kernel every loss is 0, kept in the graph.

Deviation from the official implementation: the rank target is built with one
vectorised max instead of a Python loop over kernels (same result: where
targets overlap, the later kernel wins).
"""
from typing import Dict, Optional

import torch
from torch import Tensor, nn


def rank_targets(mask_targets: Tensor, pos: Tensor, ignore_index: int = 255) -> Tensor:
    """Per-pixel index of the matched kernel whose target covers the pixel.

    Args:
        mask_targets (Tensor): (B, N, H, W) targets, soft or binary.
        pos (Tensor): (B, N) bool, the matched kernels.
        ignore_index (int): Value of pixels no matched target covers. Defaults to 255.

    Returns:
        Tensor: (B, H, W) long, a kernel index in [0, N) or ``ignore_index``.
    """
    covered = (mask_targets > 0) & pos[..., None, None]  # (B, N, H, W)
    index = torch.arange(1, covered.shape[1] + 1, device=covered.device)
    best = (covered * index[None, :, None, None]).amax(dim=1)  # (B, H, W), 0 = none
    return torch.where(best > 0, best - 1, torch.full_like(best, ignore_index))


def kernel_mask_losses(mask_preds: Tensor, mask_targets: Tensor, pos: Tensor,
                       loss_mask: nn.Module, loss_dice: nn.Module,
                       loss_rank: Optional[nn.Module] = None,
                       ignore_index: int = 255) -> Dict[str, Tensor]:
    """Mask BCE and dice of the matched kernels, and the rank loss if given.

    Args:
        mask_preds (Tensor): (B, N, H, W) mask logits.
        mask_targets (Tensor): (B, N, H, W) targets (zeros for unmatched kernels).
        pos (Tensor): (B, N) bool, the matched kernels.
        loss_mask (nn.Module): e.g. ``CrossEntropyLoss(use_sigmoid=True)``.
        loss_dice (nn.Module): e.g. ``DiceLoss``.
        loss_rank (nn.Module | None): e.g. ``CrossEntropyLoss(use_sigmoid=False)``
            over the kernel axis; None for no rank loss.
        ignore_index (int): Label of pixels the rank loss ignores. Defaults to 255.

    Returns:
        dict[str, Tensor]: ``loss_mask``, ``loss_dice`` and maybe ``loss_rank``.
    """
    if not pos.any():
        zero = mask_preds.sum() * 0
        losses = dict(loss_mask=zero, loss_dice=zero)
        if loss_rank is not None:
            losses['loss_rank'] = zero
        return losses
    pos_preds, pos_targets = mask_preds[pos], mask_targets[pos]  # (P, H, W)
    losses = dict(loss_mask=loss_mask(pos_preds, pos_targets),
                  loss_dice=loss_dice(pos_preds, pos_targets))
    if loss_rank is not None:
        target = rank_targets(mask_targets, pos, ignore_index)
        losses['loss_rank'] = loss_rank(mask_preds, target, ignore_index=ignore_index)
    return losses
