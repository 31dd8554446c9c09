"""The blender: instance masks from the basis and the embeddings (paper Sec. 3.2.3).

Crop-then-segment: each instance's box is cropped from the basis F (stride 4)
with RoIAlign into R ∈ R^{D×56×56}, and the attention module
(``blender_attention.py``) combines R with the instance embedding into mask
logits (Table 4: vector, full, factored).

Training (``docs/paper_map.md``): RoIs are the GT boxes of the positive locations (as
in BlendMask); targets are the GT masks crop-and-resized to 56×56; the loss is
per-pixel BCE weighted by each positive's centerness target and normalised by
their sum (the box loss normaliser). At most ``max_pos_per_img`` positives per
image are used (a random subset) to bound memory.

Inference: the boxes kept after NMS are cropped, blended, passed through a
sigmoid and pasted into the image (threshold ``mask_thr``).

Alignment: DR1Basis puts basis pixel i on input pixel 4i (aligned up-sampling),
i.e. at continuous coordinate 4i + 0.5. mmcv's ``RoIAlign(aligned=True)`` puts it
at 4i + 2, so boxes are shifted by (stride - 1) / 2 = 1.5 px before cropping.
"""
from typing import Dict, List

import numpy as np
import torch
from mmcv.ops import RoIAlign
from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, reduce_mean
from mmengine.model import BaseModule
from torch import Tensor, nn

GPU_PASTE_BYTES = 1 << 30  # paste at most ~1 GiB of float masks at a time on GPU


@MODELS.register_module()
class BlenderHead(BaseModule):
    """Blends basis crops with instance embeddings into masks (Sec. 3.2.3, Table 4).

    Args:
        basis_channels: D, channels of the basis F (DR1Mask and BlendMask fill it
            in from their ``basis_head``).
        attention: config of the attention module (Table 4), one of
            ``VectorAttention``, ``FullAttention`` (``use_projection=False``:
            BlendMask's blender, needs D == K) or ``FactoredAttention``, with its
            own arguments (K ``num_bases``, R_a ``attention_size``, r
            ``factor_rank``); D is passed from ``basis_channels``.
        roi_size: S, side of the RoI crops and mask logits.
        basis_stride: stride of F in input pixels.
        max_pos_per_img: cap on positives per image in training.
        mask_thr: threshold on the pasted mask probabilities.
        loss_mask: per-pixel loss, BCE with logits by default.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 basis_channels: int = 32,
                 attention: ConfigType = dict(
                     type='FactoredAttention', num_bases=4, attention_size=14, factor_rank=4),
                 roi_size: int = 56,
                 basis_stride: int = 4,
                 max_pos_per_img: int = 300,
                 mask_thr: float = 0.5,
                 loss_mask: ConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if max_pos_per_img <= 0:
            raise ValueError(f'max_pos_per_img must be > 0, got {max_pos_per_img}')
        self.attention = build_attention(attention, basis_channels)
        self.basis_channels = basis_channels
        self.roi_size = roi_size
        self.basis_stride = basis_stride
        self.max_pos_per_img = max_pos_per_img
        self.mask_thr = mask_thr
        self.roi_align = RoIAlign(roi_size, spatial_scale=1.0 / basis_stride, sampling_ratio=1,
                                  aligned=True)
        self.loss_mask = MODELS.build(loss_mask)

    @property
    def embedding_channels(self) -> int:
        """E, the embedding length the dense head must produce for this attention."""
        return self.attention.embedding_channels

    def vector_embeddings(self, embeddings: Tensor) -> Tensor:
        """(P, E) -> (P, D) position-insensitive embeddings for the panoptic layer."""
        return self.attention.vector_embeddings(embeddings)

    def forward(self, bases: Tensor, rois: Tensor, embeddings: Tensor) -> Tensor:
        """Mask logits of a set of instances.

        Args:
            bases: (N, D, H, W) basis F at ``basis_stride``.
            rois: (P, 5) ``[image index, x1, y1, x2, y2]`` in input pixels.
            embeddings: (P, E) instance embeddings.

        Returns:
            (P, S, S) mask logits inside each box.

        RoIAlign runs in float32 under mixed precision, as AdelaiDet's BlendMask does
        (torchvision's ``roi_align`` casts to float32 under autocast): mmcv's kernel
        wants the basis and the boxes in one dtype, and FP16 box corners would be
        rounded to 0.5-1 px at COCO sizes.
        """
        shift = (self.basis_stride - 1) / 2  # see the module docstring
        rois = torch.cat([rois[:, :1], rois[:, 1:] + shift], dim=1)
        crops = self.roi_align(bases.float(), rois.float())  # (P, D, S, S)
        return self.attention(crops, embeddings)

    # --------------------------------------------------------------------- loss
    def loss(self, bases: Tensor, positives: InstanceList,
             batch_gt_instances: InstanceList) -> Dict[str, Tensor]:
        """Mask loss over the (capped) positives of the batch.

        Args:
            bases: (N, D, H, W) basis F.
            positives: per image, from ``DR1FCOSHead.loss_by_feat``: ``gt_inds``,
                ``bboxes`` (GT boxes), ``centerness_targets``, ``embeddings``.
            batch_gt_instances: per image GT with ``masks`` at the padded input size.

        Returns:
            ``loss_mask``: 0 (still connected to the graph) without positives.
        """
        rois, embeddings, weights, targets = [], [], [], []
        for img, (pos, gt) in enumerate(zip(positives, batch_gt_instances)):
            if len(pos) > self.max_pos_per_img:
                pos = pos[torch.randperm(len(pos), device=bases.device)[:self.max_pos_per_img]]
            if len(pos) == 0:
                continue
            rois.append(torch.cat([pos.bboxes.new_full((len(pos), 1), img), pos.bboxes], 1))
            embeddings.append(pos.embeddings)
            weights.append(pos.centerness_targets)
            targets.append(gt.masks.crop_and_resize(  # BitmapMasks or PolygonMasks
                pos.bboxes.detach().cpu().numpy(), (self.roi_size, self.roi_size),
                pos.gt_inds.cpu().numpy(), device=bases.device).to_tensor(
                    dtype=bases.dtype, device=bases.device))
        # every rank joins this all-reduce, with or without positives (see DR1FCOSHead)
        weight_sum = torch.cat(weights).sum() if weights else bases.new_zeros(())
        denorm = max(reduce_mean(weight_sum.detach()), 1e-6)
        if not rois:
            # no positive anywhere: a zero that still reaches every parameter (DDP), the
            # dense head's embedding conv included (through the empty embeddings)
            zero = bases.sum() * 0 + sum(p.sum() for p in self.parameters()) * 0 + sum(
                pos.embeddings.sum() for pos in positives) * 0
            return dict(loss_mask=zero)
        logits = self(bases, torch.cat(rois), torch.cat(embeddings))  # (P, S, S)
        weights = torch.cat(weights)
        pixels = self.roi_size * self.roi_size
        # per-instance mean BCE, weighted by centerness, over the sum of centernesses
        loss = self.loss_mask(logits.flatten(1), torch.cat(targets).flatten(1),
                              weight=weights[:, None].expand(-1, pixels),
                              avg_factor=denorm * pixels)
        return dict(loss_mask=loss)

    # ------------------------------------------------------------------ predict
    def predict(self, bases: Tensor, results_list: InstanceList, batch_img_metas: List[dict],
                rescale: bool = True) -> InstanceList:
        """Add full-image boolean ``masks`` to the detections.

        Args:
            bases: (N, D, H, W) basis F.
            results_list: per image detections with ``bboxes`` (K, 4) in network
                input pixels and ``embeddings`` (K, E).
            batch_img_metas: per image meta (``img_shape``, ``ori_shape``,
                ``scale_factor``).
            rescale: masks and boxes in the original image (else in the input).

        Returns:
            per image ``InstanceData`` with ``bboxes``, ``scores``, ``labels`` and
            ``masks`` (K, H, W) bool; embeddings are kept for the panoptic layer.
        """
        outputs = []
        for img, (dets, meta) in enumerate(zip(results_list, batch_img_metas)):
            h, w = meta['ori_shape'] if rescale else meta['img_shape']
            boxes = dets.bboxes
            if rescale:
                scale = boxes.new_tensor(meta['scale_factor']).repeat(2)  # (w, h, w, h)
                boxes = boxes / scale
            out = dets.clone()
            out.bboxes = boxes
            if len(dets) == 0:
                out.masks = torch.zeros((0, h, w), dtype=torch.bool, device=bases.device)
            else:
                rois = torch.cat([dets.bboxes.new_full((len(dets), 1), img), dets.bboxes], 1)
                probs = self(bases, rois, dets.embeddings).sigmoid()
                out.masks = paste_masks(probs, boxes, h, w, self.mask_thr)
            outputs.append(out)
        return outputs


def build_attention(attention: ConfigType, basis_channels: int) -> nn.Module:
    """Build the attention module of ``attention`` (``dict(type=...)``) for a D-wide basis.

    Raises:
        TypeError: ``attention`` is not a config dict, or gives an argument its
            module does not take.
        ValueError: ``attention`` states a D other than ``basis_channels``.
    """
    if not isinstance(attention, dict):
        raise TypeError('mask_head.attention must be a config dict such as '
                        f"dict(type='FactoredAttention'), got {attention!r}")
    attention = dict(attention)
    given = attention.setdefault('basis_channels', basis_channels)
    if given != basis_channels:
        raise ValueError(f'mask_head.attention.basis_channels={given} differs from the '
                         f'basis width {basis_channels}; leave it out, D is passed in')
    return MODELS.build(attention)


def paste_masks(probs: Tensor, boxes: Tensor, img_h: int, img_w: int,
                thr: float) -> Tensor:
    """Paste (K, S, S) box-relative probabilities into (K, img_h, img_w) boolean masks.

    On CPU each mask is pasted into its box region only (fewest operations); on
    GPU in chunks of at most ``GPU_PASTE_BYTES``, as MMDetection's mask heads do.
    """
    num = len(probs)
    masks = torch.zeros((num, img_h, img_w), dtype=torch.bool, device=probs.device)
    on_cpu = probs.device.type == 'cpu'
    num_chunks = num if on_cpu else int(np.ceil(num * img_h * img_w * 4 / GPU_PASTE_BYTES))
    for inds in torch.chunk(torch.arange(num, device=probs.device), max(num_chunks, 1)):
        chunk, region = _do_paste_mask(probs[inds, None], boxes[inds], img_h, img_w,
                                       skip_empty=on_cpu)
        masks[(inds, ) + region] = chunk >= thr
    return masks
