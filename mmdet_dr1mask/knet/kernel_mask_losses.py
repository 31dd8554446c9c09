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
from typing import Dict

import torch
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType
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


@MODELS.register_module()
class KernelMaskLoss(nn.Module):
    """Mask BCE and dice of the matched kernels, and the rank loss if given.

    One module for both K-Net heads that supervise masks (``KNetKernelInitHead``
    and every ``KernelUpdateHead``), so the loss settings are stated once.

    Args:
        loss_mask (dict): Per-pixel loss, BCE with logits by default.
        loss_dice (dict): Dice loss of weight 4 by default (the official setting).
        loss_rank (dict | None): Cross-entropy over the kernel axis (panoptic
            K-Net, weight 0.1); None for no rank loss.
        ignore_index (int): Label of pixels the rank loss ignores. Defaults to 255.
    """

    def __init__(self,
                 loss_mask: ConfigType = dict(type='CrossEntropyLoss', use_sigmoid=True,
                                              loss_weight=1.0),
                 loss_dice: ConfigType = dict(type='DiceLoss', loss_weight=4.0),
                 loss_rank: OptConfigType = None,
                 ignore_index: int = 255) -> None:
        super().__init__()
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_rank = MODELS.build(loss_rank) if loss_rank else None
        self.ignore_index = ignore_index

    def forward(self, mask_preds: Tensor, mask_targets: Tensor,
                pos: Tensor) -> Dict[str, Tensor]:
        """The losses of one set of kernel masks.

        Args:
            mask_preds (Tensor): (B, N, H, W) mask logits.
            mask_targets (Tensor): (B, N, H, W) targets (zeros for unmatched kernels).
            pos (Tensor): (B, N) bool, the matched kernels.

        Returns:
            dict[str, Tensor]: ``loss_mask``, ``loss_dice`` and, with a rank loss,
            ``loss_rank``.
        """
        if not pos.any():
            zero = mask_preds.sum() * 0
            losses = dict(loss_mask=zero, loss_dice=zero)
            if self.loss_rank is not None:
                losses['loss_rank'] = zero
            return losses
        pos_preds, pos_targets = mask_preds[pos], mask_targets[pos]  # (P, H, W)
        losses = dict(loss_mask=self.loss_mask(pos_preds, pos_targets),
                      loss_dice=self.loss_dice(pos_preds, pos_targets))
        if self.loss_rank is not None:
            target = rank_targets(mask_targets, pos, self.ignore_index)  # (B, H, W)
            losses['loss_rank'] = self.loss_rank(mask_preds, target,
                                                 ignore_index=self.ignore_index)
        return losses
