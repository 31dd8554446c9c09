"""Auxiliary semantic segmentation of thing classes (DR1Mask Sec. 4.1, BlendMask).

A small head predicts, per pixel of a feature map, one of the thing classes or
background; cross-entropy with weight 0.3 (the paper's setting). Targets are
made on the fly from the GT instance masks (no offline label files): the masks
are sampled at the feature stride (pixel i of a stride-s map sits on input
pixel s·i, as in DR1Basis), larger instances are painted first so small ones
stay visible, crowd regions and the padding are ignored.

DR1Mask reads the basis F (``in_stride=4``, a single 1×1 conv); BlendMask reads
the FPN level P3 (``in_stride=8``, two 3×3 convs then 1×1).
"""
from typing import Dict, List, Tuple

import torch
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptInstanceList
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import sample_at_stride

SEMANTIC_INPUTS = ('basis', 'fpn')


@MODELS.register_module()
class ThingSemanticHead(BaseModule):
    """Thing-class + background segmentation as an auxiliary loss.

    Args:
        in_channels: channels of the input map.
        num_classes: number of thing classes (the head predicts num_classes + 1,
            background last).
        input: which map the detector feeds: ``'basis'`` (F) or ``'fpn'`` (P3).
        in_stride: stride of that map in input pixels.
        num_convs: 3×3 ConvModules before the 1×1 classifier.
        feat_channels: width of those convs.
        ignore_index: label of ignored pixels.
        norm_cfg: norm of the 3×3 convs.
        loss_seg: the loss, cross-entropy with weight 0.3 by default.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 input: str = 'basis',
                 in_stride: int = 4,
                 num_convs: int = 0,
                 feat_channels: int = 128,
                 ignore_index: int = 255,
                 norm_cfg: OptConfigType = dict(type='BN', requires_grad=True),
                 loss_seg: ConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if input not in SEMANTIC_INPUTS:
            raise ValueError(f'input must be one of {SEMANTIC_INPUTS}, got {input!r}')
        self.input = input
        self.num_classes = num_classes
        self.in_stride = in_stride
        self.ignore_index = ignore_index
        convs: List[nn.Module] = []
        for i in range(num_convs):
            convs.append(ConvModule(in_channels if i == 0 else feat_channels, feat_channels, 3,
                                    padding=1, norm_cfg=norm_cfg))
        self.convs = nn.Sequential(*convs)
        self.conv_seg = nn.Conv2d(feat_channels if num_convs else in_channels,
                                  num_classes + 1, 1)
        self.loss_seg = MODELS.build(loss_seg)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, num_classes + 1, H, W) logits."""
        return self.conv_seg(self.convs(x))

    def get_targets(self, batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                    size: List[int],
                    batch_gt_instances_ignore: OptInstanceList = None) -> Tensor:
        """(N, H, W) labels at ``in_stride``: thing label, ``num_classes`` = background.

        Args:
            batch_gt_instances: per image GT with ``masks`` and ``labels``.
            batch_img_metas: per image meta with ``img_shape`` (unpadded input size).
            size: (H, W) of the feature map.
            batch_gt_instances_ignore: per image ignored GT (crowd); their
                ``masks``, when present, are ignored in the loss.
        """
        h, w = size
        s = self.in_stride
        device = self.conv_seg.weight.device
        targets = torch.full((len(batch_gt_instances), h, w), self.num_classes,
                             dtype=torch.long, device=device)
        for i, (gt, meta) in enumerate(zip(batch_gt_instances, batch_img_metas)):
            target = targets[i]
            if len(gt) > 0:
                masks = _masks_at_stride(gt.masks, s, (h, w), device)  # (G, h, w) bool
                for j in masks.sum((1, 2)).argsort(descending=True).tolist():  # large first
                    target[masks[j]] = gt.labels[j]
            ignored = batch_gt_instances_ignore[i] if batch_gt_instances_ignore else None
            if ignored is not None and len(ignored) > 0 and 'masks' in ignored:
                ignored_masks = _masks_at_stride(ignored.masks, s, (h, w), device)
                target[ignored_masks.any(0)] = self.ignore_index
            img_h, img_w = meta['img_shape'][:2]
            target[-(-img_h // s):] = self.ignore_index  # padding: rows/cols beyond the image
            target[:, -(-img_w // s):] = self.ignore_index
        return targets

    def loss(self, x: Tensor, batch_gt_instances: InstanceList, batch_img_metas: List[dict],
             batch_gt_instances_ignore: OptInstanceList = None) -> Dict[str, Tensor]:
        """``loss_semantic`` of the map ``x`` (N, in_channels, H, W)."""
        logits = self(x)
        targets = self.get_targets(batch_gt_instances, batch_img_metas, logits.shape[-2:],
                                   batch_gt_instances_ignore)
        valid = max((targets != self.ignore_index).sum().item(), 1)
        loss = self.loss_seg(logits, targets, avg_factor=valid,
                             ignore_index=self.ignore_index)
        return dict(loss_semantic=loss)



def _masks_at_stride(masks, stride: int, size: Tuple[int, int], device: torch.device) -> Tensor:
    """BitmapMasks/PolygonMasks at the padded input size -> (G, h, w) bool on the
    stride-``stride`` grid (:func:`sample_at_stride`), False beyond the masks."""
    return sample_at_stride(masks.to_tensor(dtype=torch.bool, device=device), stride, size,
                            False)
