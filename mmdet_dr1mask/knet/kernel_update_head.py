"""One stage of K-Net's kernel update (K-Net Sec. 3.2, Fig. 3; ``KernelUpdateHead`` of
github.com/ZwwWayne/K-Net, knet/det/kernel_update_head.py).

Given the feature map X, the kernels K and their masks M of the previous stage:

1. group features: F^K = sum over pixels of binary(σ(M) > 0.5) · X        (Eq. 2)
2. adaptive update: K~ = KernelUpdator(F^K, K)                            (Eqs. 3-5)
3. kernel interaction: multi-head self-attention among the kernels, an FFN,
   each with a residual connection and LayerNorm
4. heads: a class branch (FC-LN-ReLU, FC) on the new kernels; a mask branch
   (FC-LN-ReLU, FC) whose output convolves X into the new masks.

X is first transformed by a 1×1 conv of this stage (``feat_transform`` of the
official configs). Losses (Sec. 3.4): sigmoid focal classification over the
kernels with per-class weights (averaged over matched kernels), and the mask
losses of ``KernelMaskLoss``.

Deviations from the official implementation: only the configuration of the
official detection configs is kept (1×1 kernels, masks at the feature map's
resolution, sigmoid classification, FFN and feature transform always on); the
1×1 dynamic convolution is one einsum instead of a grouped conv per image.
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN, MultiheadAttention
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig, reduce_mean
from mmengine.model import BaseModule, bias_init_with_prob
from torch import Tensor, nn


def _fc_ln_relu(channels: int, num: int) -> nn.Sequential:
    layers = []
    for _ in range(num):
        layers += [nn.Linear(channels, channels, bias=False), nn.LayerNorm(channels),
                   nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


@MODELS.register_module()
class KernelUpdateHead(BaseModule):
    """One kernel update stage: update, interact, classify and segment.

    Args:
        num_classes (int): Classes of the class branch. Defaults to 80.
        in_channels (int): Channels C of kernels and features. Defaults to 256.
        num_heads (int): Heads of the kernel self-attention. Defaults to 8.
        feedforward_channels (int): Hidden width of the FFN. Defaults to 2048.
        num_ffn_fcs (int): Layers of the FFN. Defaults to 2.
        num_cls_fcs (int): FC-LN-ReLU blocks of the class branch. Defaults to 1.
        num_mask_fcs (int): FC-LN-ReLU blocks of the mask branch. Defaults to 1.
        dropout (float): Dropout of attention and FFN. Defaults to 0.0.
        hard_mask_thr (float): Sigmoid threshold of the masks that gather the
            group features. Defaults to 0.5.
        kernel_updator (dict): Config of :class:`KernelUpdator`.
        loss_cls (dict): Classification loss (sigmoid focal loss).
        loss_kernel_mask (dict): Mask, dice and (panoptic) rank losses of the
            matched kernels, a ``KernelMaskLoss``.
        init_cfg (dict | None): Defaults to None (the official initialisation).
    """

    def __init__(self,
                 num_classes: int = 80,
                 in_channels: int = 256,
                 num_heads: int = 8,
                 feedforward_channels: int = 2048,
                 num_ffn_fcs: int = 2,
                 num_cls_fcs: int = 1,
                 num_mask_fcs: int = 1,
                 dropout: float = 0.0,
                 hard_mask_thr: float = 0.5,
                 kernel_updator: ConfigType = dict(type='KernelUpdator', in_channels=256,
                                                   feat_channels=256),
                 loss_cls: ConfigType = dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                                             alpha=0.25, loss_weight=2.0),
                 loss_kernel_mask: ConfigType = dict(type='KernelMaskLoss'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        self.num_classes = num_classes
        self.hard_mask_thr = hard_mask_thr
        self.feat_transform = nn.Conv2d(in_channels, in_channels, 1)
        self.kernel_updator = MODELS.build(kernel_updator)
        self.attention = MultiheadAttention(in_channels, num_heads, attn_drop=dropout,
                                            proj_drop=dropout, batch_first=True)
        self.attention_norm = build_norm_layer(dict(type='LN'), in_channels)[1]
        self.ffn = FFN(in_channels, feedforward_channels, num_ffn_fcs, ffn_drop=dropout)
        self.ffn_norm = build_norm_layer(dict(type='LN'), in_channels)[1]
        self.cls_fcs = _fc_ln_relu(in_channels, num_cls_fcs)
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.mask_fcs = _fc_ln_relu(in_channels, num_mask_fcs)
        self.fc_mask = nn.Linear(in_channels, in_channels)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_kernel_mask = MODELS.build(loss_kernel_mask)

    def init_weights(self) -> None:
        """Xavier-uniform for every weight matrix, focal prior on the class bias."""
        super().init_weights()
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        nn.init.constant_(self.fc_cls.bias, bias_init_with_prob(0.01))

    def forward(self, feats: Tensor, kernels: Tensor,
                masks: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Update ``kernels`` once.

        Args:
            feats (Tensor): X, (B, C, h, w).
            kernels (Tensor): K, (B, K, C).
            masks (Tensor): (B, K, h', w') mask logits of the previous stage.

        Returns:
            tuple[Tensor, Tensor, Tensor]: class logits (B, K, num_classes), new
            mask logits (B, K, h, w) and the new kernels (B, K, C).
        """
        feats = self.feat_transform(feats)
        if masks.shape[-2:] != feats.shape[-2:]:
            masks = F.interpolate(masks, feats.shape[-2:], mode='bilinear',
                                  align_corners=False)
        binary = (masks.sigmoid() > self.hard_mask_thr).float()
        group_feats = torch.einsum('bkhw,bchw->bkc', binary, feats)  # F^K, (B, K, C)
        kernels = self.kernel_updator(group_feats, kernels)  # (B, K, C)
        kernels = self.attention_norm(self.attention(kernels))  # among kernels, + identity
        kernels = self.ffn_norm(self.ffn(kernels))  # + identity
        cls_logits = self.fc_cls(self.cls_fcs(kernels))
        mask_kernels = self.fc_mask(self.mask_fcs(kernels))  # (B, K, C)
        new_masks = torch.einsum('bkc,bchw->bkhw', mask_kernels, feats)
        return cls_logits, new_masks, kernels

    def loss(self, cls_logits: Tensor, masks: Tensor, labels: Tensor, label_weights: Tensor,
             mask_targets: Tensor, pos: Tensor) -> Dict[str, Tensor]:
        """Classification and mask losses of one stage.

        Args:
            cls_logits (Tensor): (B, K, num_classes).
            masks (Tensor): (B, K, H, W) mask logits at the target stride.
            labels (Tensor): (B, K) targets, ``num_classes`` for background.
            label_weights (Tensor): (B, K, num_classes) weights of the class loss.
            mask_targets (Tensor): (B, K, H, W).
            pos (Tensor): (B, K) bool, the kernels with a mask target.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_mask``, ``loss_dice`` (and
            ``loss_rank``).
        """
        num_pos = reduce_mean(pos.sum().float()).clamp(min=1.0)
        loss_cls = self.loss_cls(cls_logits.flatten(0, 1), labels.flatten(),
                                 label_weights.flatten(0, 1), avg_factor=num_pos)
        losses = dict(loss_cls=loss_cls)
        losses.update(self.loss_kernel_mask(masks, mask_targets, pos))
        return losses
