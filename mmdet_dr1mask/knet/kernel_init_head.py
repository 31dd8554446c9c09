"""K-Net's initial kernels (K-Net Sec. 3.3 and 4; ``ConvKernelHead`` of
github.com/ZwwWayne/K-Net, knet/det/kernel_head.py, as the official configs use it).

N learned proposal kernels (1×1 convolutions) act on the localization map and
give the initial instance masks; a 1×1 conv on the semantic map gives the
semantic segmentation, trained by an auxiliary focal loss over all classes. The
feature map the update stages read is the sum of the two maps. Each thing
kernel starts as its learned weights plus the sum of the features under its
initial binary mask; for panoptic segmentation the stuff rows of the semantic
conv join as stuff kernels, with their semantic masks.

Training (official ``forward_train``): the initial masks, up-sampled ×2 to the
target stride, are matched to the instances by mask costs only and get mask
BCE, dice (and, panoptic, rank) losses; keys ``init.loss_*``.

Deviations from the official implementation:

* only the options of the official configs are kept (1×1 kernels, one 1×1
  conv-GN-ReLU on each map, binary masks for the kernel features, no feature
  refinement convs); the semantic FPN is a neck of the detector
  (:class:`KNetSemanticFPN`), not a part of this head;
* matching uses MMDetection's ``HungarianAssigner`` with the official mask cost
  (:class:`MaskAgreementCost`) and MMDetection's ``DiceCost`` (see
  ``kernel_targets.py``);
* semantic targets mark every instance's pixels (the official code marks the
  matched ones, i.e. all of them when there are at most N instances).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule, bias_init_with_prob, normal_init
from mmengine.structures import InstanceData
from torch import Tensor, nn

from .kernel_targets import match_kernels

KernelState = Tuple[Tensor, Tensor, Tensor]  # features, kernels, masks


@MODELS.register_module()
class KNetKernelInitHead(BaseModule):
    """Initial kernels, masks and the auxiliary semantic segmentation of K-Net.

    Args:
        num_proposals (int): Number N of thing kernels. Defaults to 100.
        in_channels (int): Channels C of the two input maps. Defaults to 256.
        num_thing_classes (int): Defaults to 80.
        num_stuff_classes (int): 0 for instance segmentation; otherwise one stuff
            kernel per class is appended (panoptic). Defaults to 0.
        kernel_init_std (float): Std of the initial kernels. Defaults to 1.0.
        upsample_ratio (int): Up-sampling of masks and semantic logits for
            matching and losses (stride 8 -> 4). Defaults to 2.
        hard_mask_thr (float): Sigmoid threshold of the masks that gather
            kernel features. Defaults to 0.5.
        norm_cfg (dict): Normalisation of the two 1×1 convs. Defaults to GN(32).
        assigner (dict): ``HungarianAssigner`` with mask costs.
        loss_seg (dict): Semantic loss (sigmoid focal loss).
        loss_kernel_mask (dict): Mask, dice and (panoptic) rank losses of the
            matched kernels, a ``KernelMaskLoss``.
        init_cfg (dict | None): Defaults to None (the official initialisation).
    """

    def __init__(self,
                 num_proposals: int = 100,
                 in_channels: int = 256,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 0,
                 kernel_init_std: float = 1.0,
                 upsample_ratio: int = 2,
                 hard_mask_thr: float = 0.5,
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 assigner: ConfigType = dict(
                     type='HungarianAssigner',
                     match_costs=[dict(type='MaskAgreementCost', weight=1.0),
                                  dict(type='DiceCost', weight=4.0, pred_act=True,
                                       naive_dice=False)]),
                 loss_seg: ConfigType = dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                                             alpha=0.25, loss_weight=1.0),
                 loss_kernel_mask: ConfigType = dict(type='KernelMaskLoss'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        self.num_proposals = num_proposals
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_thing_classes + num_stuff_classes
        self.kernel_init_std = kernel_init_std
        self.upsample_ratio = upsample_ratio
        self.hard_mask_thr = hard_mask_thr
        self.loc_conv = ConvModule(in_channels, in_channels, 1, norm_cfg=norm_cfg)
        self.seg_conv = ConvModule(in_channels, in_channels, 1, norm_cfg=norm_cfg)
        self.init_kernels = nn.Conv2d(in_channels, num_proposals, 1, bias=False)
        self.conv_seg = nn.Conv2d(in_channels, self.num_classes, 1)
        self.assigner = TASK_UTILS.build(assigner)
        self.loss_seg = MODELS.build(loss_seg)
        self.loss_kernel_mask = MODELS.build(loss_kernel_mask)

    def init_weights(self) -> None:
        """Normal(0.01) convs, focal prior on the semantic bias, normal kernels."""
        super().init_weights()
        for conv in (self.loc_conv.conv, self.seg_conv.conv):
            normal_init(conv, std=0.01)
        normal_init(self.conv_seg, std=0.01, bias=bias_init_with_prob(0.01))
        normal_init(self.init_kernels, std=self.kernel_init_std)

    def forward(self, loc_feats: Tensor, sem_feats: Tensor) -> Tuple[KernelState, Tensor]:
        """Initial kernels and masks.

        Args:
            loc_feats (Tensor): (B, C, h, w) localization map.
            sem_feats (Tensor): (B, C, h, w) semantic map.

        Returns:
            tuple: ``(features (B, C, h, w), kernels (B, K, C), masks (B, K, h, w))``
            with K = N thing kernels (+ the stuff kernels when panoptic), and the
            semantic logits (B, num_classes, h, w).
        """
        loc_feats, sem_feats = self.loc_conv(loc_feats), self.seg_conv(sem_feats)
        feats = loc_feats + sem_feats
        weights = self.init_kernels.weight.flatten(1)  # (N, C)
        masks = torch.einsum('nc,bchw->bnhw', weights, loc_feats)
        seg_logits = self.conv_seg(sem_feats)  # (B, num_classes, h, w)
        binary = (masks.sigmoid() > self.hard_mask_thr).float()
        kernels = weights[None] + torch.einsum('bnhw,bchw->bnc', binary, feats)  # (B, N, C)
        if self.num_stuff_classes:
            stuff = self.conv_seg.weight[self.num_thing_classes:].flatten(1)  # (S, C)
            kernels = torch.cat([kernels, stuff[None].expand(len(kernels), -1, -1)], dim=1)
            masks = torch.cat([masks, seg_logits[:, self.num_thing_classes:]], dim=1)
        return (feats, kernels, masks), seg_logits

    def loss(self, loc_feats: Tensor, sem_feats: Tensor, things: List[InstanceData],
             stuff: Optional[List[InstanceData]]) -> Tuple[Dict[str, Tensor], KernelState]:
        """Losses of the initial masks and the semantic logits.

        Args:
            loc_feats, sem_feats (Tensor): (B, C, h, w) maps of the semantic FPN.
            things (list[InstanceData]): per image ``labels`` (n,) and ``masks``
                (n, H, W) at the target stride (``gt_masks_at_stride``).
            stuff (list[InstanceData] | None): the same for stuff classes.

        Returns:
            tuple: losses ``init.loss_*`` and the kernel state for the update stages.
        """
        state, seg_logits = self.forward(loc_feats, sem_feats)
        masks = state[2][:, :self.num_proposals]

        def up(x: Tensor) -> Tensor:
            return F.interpolate(x, scale_factor=self.upsample_ratio, mode='bilinear',
                                 align_corners=False)
        masks, seg_logits = up(masks), up(seg_logits)  # (B, N | num_classes, H, W)
        matched = [match_kernels(self.assigner, m, None, gt, self.num_classes)
                   for m, gt in zip(masks, things)]
        targets = torch.stack([t for _, t, _ in matched])  # (B, N, H, W)
        pos = torch.stack([p for _, _, p in matched])  # (B, N)
        losses = self.loss_kernel_mask(masks, targets, pos)
        losses['loss_seg'] = self.semantic_loss(seg_logits, things, stuff)
        return {f'init.{k}': v for k, v in losses.items()}, state

    def semantic_loss(self, seg_logits: Tensor, things: List[InstanceData],
                      stuff: Optional[List[InstanceData]]) -> Tensor:
        """Sigmoid focal loss of (B, num_classes, H, W) logits; targets: instance and
        stuff pixels (mask > 0) their class, the rest background; averaged over the
        foreground pixels."""
        target = torch.full((seg_logits.shape[0], *seg_logits.shape[-2:]), self.num_classes,
                            dtype=torch.long, device=seg_logits.device)  # (B, H, W)
        for i, gt in enumerate(things):
            for group in ([stuff[i]] if stuff is not None else []) + [gt]:
                for label, mask in zip(group.labels, group.masks):
                    target[i][mask > 0] = label
        target = target.flatten()
        num_fg = (target < self.num_classes).sum().float().clamp(min=1.0)
        logits = seg_logits.permute(0, 2, 3, 1).reshape(-1, self.num_classes)  # (BHW, cls)
        return self.loss_seg(logits, target, avg_factor=num_fg)

    def predict(self, loc_feats: Tensor, sem_feats: Tensor) -> KernelState:
        """The kernel state for the update stages (see :meth:`forward`)."""
        return self.forward(loc_feats, sem_feats)[0]
