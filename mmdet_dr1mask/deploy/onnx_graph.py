"""DR1Mask and BlendMask as one ONNX graph, post-processing included.

``ExportableSegmentor`` wraps a built ``DR1Mask`` or ``BlendMask`` (instance, or DR1Mask
panoptic) so that one forward goes from the network input to final results:

    img (1, 3, H_p, W_p) float32, normalised and padded by the config's
    ``DetDataPreprocessor``; img_shape (2,) int64, the resized size before padding;
    ori_shape (2,) int64, the original image size
    -> boxes (K, 4) float32 (x1, y1, x2, y2 in original pixels), scores (K,), labels (K,)
       int64, masks (K, H_o, W_o) bool, and with DR1Mask's panoptic layer panoptic
       (H_o, W_o) int64 in MMDetection's encoding (``label + id * INSTANCE_OFFSET``).

Everything runs in the graph: FCOS decoding, score threshold and ``nms_pre`` per level,
class-aware NMS (ONNX ``NonMaxSuppression``), ``max_per_img``, the blender (ONNX
``RoiAlign``, half-pixel), mask pasting at the original size and the panoptic layer with
its arg-max, overlap filter and small-stuff voiding. Only resizing, normalisation and
padding stay outside: they are MMDetection's own test pipeline and data preprocessor,
run unchanged by the ONNX Runtime backend (``ort_backend.py``).

The model's parts (backbone, neck, dense head, basis, attention, panoptic layer,
``duplicate_things``/``covered_things``/``encode_panoptic``) are called as they are;
what differs from the PyTorch ``predict`` is written for fixed-shape-free tracing:

* top-k (``nms_pre``) before the score threshold, which selects the same scores
  without sorting all of them, and with ``k = min(nms_pre, size)`` as a traced tensor,
  not a Python ``min`` (a Python integer would be frozen into the graph at the export
  image's size);
* NMS and RoIAlign as functions whose forward is mmcv's kernel (eager results are the
  PyTorch model's) and whose ONNX symbolic is the standard operator;
* mask pasting as separable bilinear interpolation, two small matrix products per mask
  instead of a (K, H, W, 2) sampling grid: the same values as ``grid_sample``
  (MMDetection's ``_do_paste_mask``) up to rounding;
* the panoptic resampling as one ONNX ``Resize`` (linear, ``tf_crop_and_resize``) of the
  logits padded by one edge pixel: ``AlignedArgmax``'s values up to rounding, four
  samples per output pixel instead of products with every basis row and column.

Exported with PyTorch's TorchScript-based ONNX exporter (``dynamo=False``): the
post-processing has data-dependent sizes (score filter, NMS output), which the tracer
records as ``NonZero``/``NonMaxSuppression`` directly while ``torch.export`` would need
every such size declared. See docs/deployment.md.
"""
import copy
import warnings
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import nms as mmcv_nms
from mmcv.ops import roi_align as mmcv_roi_align
from mmdet.structures.bbox import distance2bbox
from torch import Tensor, nn
from torch.onnx.operators import shape_as_tensor

from ..models.detectors import BlendMask, DR1Mask
from ..models.seg_heads.dr1_panoptic_head import (
    covered_things,
    duplicate_things,
    encode_panoptic,
    exact_count,
)

OPSET = 17  # RoiAlign with half_pixel needs opset 16
INSTANCE_OUTPUTS = ('boxes', 'scores', 'labels', 'masks')
PANOPTIC_OUTPUTS = INSTANCE_OUTPUTS + ('panoptic', )
MAX_NMS_OUTPUT = 10000  # NonMaxSuppression's cap; nms_pre per level keeps it far above need


class _NMSIndices(torch.autograd.Function):
    """Indices kept by NMS, highest score first: mmcv's kernel, ONNX ``NonMaxSuppression``."""

    @staticmethod
    def forward(ctx, boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
        return mmcv_nms(boxes, scores, iou_threshold)[1]

    @staticmethod
    def symbolic(g, boxes, scores, iou_threshold: float):
        def const(value, dtype):
            return g.op('Constant', value_t=torch.tensor([value], dtype=dtype))

        boxes = g.op('Unsqueeze', boxes, const(0, torch.long))  # (1, N, 4)
        scores = g.op('Unsqueeze', scores, g.op('Constant', value_t=torch.tensor([0, 1])))
        selected = g.op('NonMaxSuppression', boxes, scores, const(MAX_NMS_OUTPUT, torch.long),
                        const(iou_threshold, torch.float))  # (M, 3) batch, class, box
        box_column = g.op('Gather', selected, const(2, torch.long), axis_i=1)
        return g.op('Squeeze', box_column, const(1, torch.long))


class _RoIAlign(torch.autograd.Function):
    """mmcv ``roi_align(aligned=True, pool_mode='avg')``; ONNX ``RoiAlign`` half-pixel."""

    @staticmethod
    def forward(ctx, feats: Tensor, rois: Tensor, size: int, spatial_scale: float,
                sampling_ratio: int) -> Tensor:
        return mmcv_roi_align(feats, rois, size, spatial_scale, sampling_ratio, 'avg', True)

    @staticmethod
    def symbolic(g, feats, rois, size: int, spatial_scale: float, sampling_ratio: int):
        def gather_columns(columns):
            return g.op('Gather', rois, g.op('Constant', value_t=torch.tensor(columns)),
                        axis_i=1)

        batch = g.op('Cast', g.op('Squeeze', gather_columns([0]),
                                  g.op('Constant', value_t=torch.tensor([1]))),
                     to_i=7)  # int64
        return g.op('RoiAlign', feats, gather_columns([1, 2, 3, 4]), batch,
                    coordinate_transformation_mode_s='half_pixel', mode_s='avg',
                    output_height_i=size, output_width_i=size,
                    sampling_ratio_i=sampling_ratio, spatial_scale_f=spatial_scale)


class ExportableRoIAlign(nn.Module):
    """Drop-in for the blender's ``mmcv.ops.RoIAlign(aligned=True)`` that exports."""

    def __init__(self, roi_align: nn.Module) -> None:
        super().__init__()
        if not roi_align.aligned or roi_align.pool_mode != 'avg':
            raise ValueError('only RoIAlign(aligned=True, pool_mode="avg") exports as ONNX '
                             'RoiAlign with half_pixel coordinates')
        self.size = int(roi_align.output_size[0])
        self.spatial_scale = float(roi_align.spatial_scale)
        self.sampling_ratio = int(roi_align.sampling_ratio)

    def forward(self, feats: Tensor, rois: Tensor) -> Tensor:
        return _RoIAlign.apply(feats, rois, self.size, self.spatial_scale,
                               self.sampling_ratio)


def bilinear_weights(coords: Tensor, size: int) -> Tensor:
    """(..., size) weights of bilinear interpolation at ``coords`` over ``size`` samples.

    Sample j sits at coordinate j; a coordinate between samples j and j + 1 weighs them
    1 - t and t, samples beyond the ends weigh 0 (``grid_sample``'s zero padding). Clamp
    ``coords`` first for edge replication.
    """
    samples = torch.arange(size, dtype=coords.dtype, device=coords.device)
    return (1 - (coords[..., None] - samples).abs()).clamp(min=0)


def paste_masks_separable(probs: Tensor, boxes: Tensor, out_h: Tensor, out_w: Tensor) -> Tensor:
    """(K, S, S) box-relative probabilities -> (K, out_h, out_w) image probabilities.

    The sampling of MMDetection's ``_do_paste_mask`` (``grid_sample``, align_corners False,
    zero padding), written as ``W_y · P · W_xᵀ`` because the grid is separable.

    Args:
        probs: (K, S, S) mask probabilities inside each box.
        boxes: (K, 4) x1, y1, x2, y2 in output pixels.
        out_h, out_w: output size (0-dim tensors, so that the graph keeps them dynamic).
    """
    size = probs.size(-1)
    x0, y0, x1, y1 = boxes[:, :, None].unbind(1)  # each (K, 1)
    ys = torch.arange(out_h, dtype=probs.dtype, device=probs.device) + 0.5
    xs = torch.arange(out_w, dtype=probs.dtype, device=probs.device) + 0.5
    wy = bilinear_weights((ys - y0) / (y1 - y0) * size - 0.5, size)  # (K, H, S)
    wx = bilinear_weights((xs - x0) / (x1 - x0) * size - 0.5, size)  # (K, W, S)
    return wy @ probs @ wx.transpose(1, 2)


class _CropAndResize(torch.autograd.Function):
    """ONNX ``Resize`` (linear, ``tf_crop_and_resize``) of one (1, C, L_y, L_x) map.

    Output pixel (y, x) samples the map bilinearly at
    (start_y · (L_y - 1) + y · (end_y - start_y) · (L_y - 1) / (H_o - 1), same for x), the
    ONNX definition, for coordinates inside the map; ``roi`` is (8,) ONNX's
    ``[starts..., ends...]`` over the four axes and ``sizes`` (4,) int64 the output shape.
    The forward computes it as two small matrix products, in the graph it is one operator:
    ONNX Runtime's Resize visits four samples per output pixel where the products
    multiply by every row and column (docs/deployment.md).
    """

    @staticmethod
    def forward(ctx, image: Tensor, roi: Tensor, sizes: Tensor) -> Tensor:
        def weights(axis: int) -> Tensor:
            length, size_out = image.size(axis), sizes[axis]
            pos = torch.arange(size_out, dtype=image.dtype, device=image.device)
            start, end = roi[axis], roi[axis + 4]
            coord = start * (length - 1) + pos * (end - start) * (length - 1) / \
                (size_out - 1).clamp(min=1).to(image.dtype)
            return bilinear_weights(coord, length)

        return (weights(2) @ image[0] @ weights(3).t())[None]

    @staticmethod
    def symbolic(g, image, roi, sizes):
        no_scales = g.op('Constant', value_t=torch.tensor([], dtype=torch.float32))
        return g.op('Resize', image, roi, no_scales, sizes, mode_s='linear',
                    coordinate_transformation_mode_s='tf_crop_and_resize')


def resample_aligned(logits: Tensor, img_shape: Tensor, out_h: Tensor, out_w: Tensor,
                     stride: int) -> Tensor:
    """(C, h, w) logits resampled aligned to (out_h, out_w), as ``AlignedArgmax`` samples them.

    Original pixel y sits at input pixel (y + 0.5) · H_i / H_o - 0.5 and input pixel y_i at
    basis coordinate c = y_i / stride; beyond the first or last basis pixel the edge value.
    The logits are padded by one edge pixel on each side, so that every c (always inside
    (-1, h)) lies inside the padded map at c + 1 and the edge rule needs no clamp, and then
    resampled by one ``Resize`` whose region of interest is the affine map y -> c(y) + 1.

    Returns:
        (1, C, out_h, out_w) resampled logits, kept 4-D: taking the image out (``Gather`` or
        ``Squeeze``) made ONNX Runtime copy the whole map (12-13 ms per COCO-size photo).
    """
    padded = F.pad(logits[None], (1, 1, 1, 1), mode='replicate')  # ONNX Pad, mode edge
    dtype = logits.dtype

    def region(size_out: Tensor, size_in: Tensor, length: Tensor) -> Tuple[Tensor, Tensor]:
        # c(y) + 1 = first + y · step, as start · (L - 1) + y · (end - start) · (L - 1) / (H_o - 1)
        ratio = size_in.to(dtype) / size_out.to(dtype)
        first, step = (0.5 * ratio - 0.5) / stride + 1, ratio / stride
        span = (length - 1).to(dtype)
        start = first / span
        return start, start + step * (size_out - 1).to(dtype) / span

    shape = shape_as_tensor(padded)  # (1, C, h + 2, w + 2)
    start_y, end_y = region(out_h, img_shape[0], shape[2])
    start_x, end_x = region(out_w, img_shape[1], shape[3])
    zero, one = torch.zeros_like(start_y), torch.ones_like(start_y)
    roi = torch.stack([zero, zero, start_y, start_x, one, one, end_y, end_x])
    sizes = torch.cat([shape[:2], out_h.reshape(1).to(shape.dtype),
                       out_w.reshape(1).to(shape.dtype)])
    return _CropAndResize.apply(padded, roi, sizes)


class ExportableSegmentor(nn.Module):
    """A DR1Mask or BlendMask whose forward is the whole inference (see the module doc).

    Args:
        model: a built ``DR1Mask`` or ``BlendMask`` in eval mode (copied, not changed).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not isinstance(model, (DR1Mask, BlendMask)):
            raise TypeError('ONNX export covers DR1Mask and BlendMask, got '
                            f'{type(model).__name__}')
        if isinstance(model, BlendMask) and model.panoptic_head is not None:
            raise TypeError('ONNX export of the two-branch panoptic BlendMask is not '
                            'supported; export a BlendMask instance config')
        self.model = copy.deepcopy(model).eval()
        self.model.mask_head.roi_align = ExportableRoIAlign(self.model.mask_head.roi_align)
        self.panoptic = getattr(self.model, 'panoptic_head', None) is not None
        self.output_names = PANOPTIC_OUTPUTS if self.panoptic else INSTANCE_OUTPUTS

    def forward(self, img: Tensor, img_shape: Tensor, ori_shape: Tensor) -> Tuple[Tensor, ...]:
        """Final results of one image (inputs and outputs: see the module doc)."""
        model = self.model
        feats = model.extract_feat(img)[model.instance_start_level:]
        cls_scores, bbox_preds, centernesses, contexts, embeddings = model.bbox_head(feats)
        bases = model.basis_head(feats, contexts, model.basis_size(img))
        boxes, scores, labels, embeds = self.detections(
            cls_scores, bbox_preds, centernesses, embeddings, img_shape)

        # blender at the network input, masks pasted at the original size
        scale = (img_shape.to(boxes.dtype) / ori_shape.to(boxes.dtype)).flip(0).repeat(2)
        rois = torch.cat([boxes.new_zeros((boxes.size(0), 1)), boxes], 1)
        probs = model.mask_head(bases, rois, embeds).sigmoid()
        out_boxes = boxes / scale
        probs = paste_masks_separable(probs, out_boxes, ori_shape[0], ori_shape[1])
        masks = probs >= model.mask_head.mask_thr
        outputs = (out_boxes, scores, labels, masks)
        if self.panoptic:
            outputs += (self.panoptic_map(bases[0], out_boxes, scores, labels, masks,
                                          model.mask_head.vector_embeddings(embeds),
                                          img_shape, ori_shape, scale), )
        return outputs

    def detections(self, cls_scores, bbox_preds, centernesses, embeddings,
                   img_shape: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """``DR1FCOSHead.predict_by_feat`` for one image, in traceable operations.

        Returns:
            boxes (K, 4) at the network input, scores (K,) sqrt(cls·ctr), labels (K,),
            embeddings (K, E), sorted by score, at most ``max_per_img``.
        """
        head = self.model.bbox_head
        cfg = head.test_cfg
        nms_pre = cfg.get('nms_pre', -1)
        boxes, scores, labels, embeds = [], [], [], []
        for level, (cls, reg, ctr, emb) in enumerate(
                zip(cls_scores, bbox_preds, centernesses, embeddings)):
            num_classes = cls.size(1)
            score = cls[0].permute(1, 2, 0).reshape(-1, num_classes).sigmoid()
            centerness = ctr[0].permute(1, 2, 0).reshape(-1).sigmoid()
            if head.thresh_with_ctr:
                score = score * centerness[:, None]
            flat = score.reshape(-1)
            # top-k first, then the threshold: the nms_pre best scores above the threshold
            # are the ones above it among the nms_pre best, so the detections are
            # MMDetection's (threshold, sort all, cut), without a sort of every score (at
            # threshold 0, ONNX TopK over all of P3's scores took 120 of 1300 ms per photo)
            if nms_pre > 0:
                # k = min(nms_pre, number of scores) as a traced tensor, not a frozen int
                k = shape_as_tensor(flat)[0].clamp(max=nms_pre)
                top_scores, top = flat.topk(k)
            else:
                top_scores, top = flat.sort(descending=True)
            passed = (top_scores > cfg.score_thr).nonzero()[:, 0]
            kept_scores, kept = top_scores[passed], top[passed]
            location, label = kept // num_classes, kept % num_classes
            if not head.thresh_with_ctr:
                kept_scores = kept_scores * centerness[location]
            h, w = cls.shape[-2:]
            points = head.prior_generator.single_level_grid_priors(
                (h, w), level, dtype=reg.dtype, device=reg.device)
            deltas = reg[0].permute(1, 2, 0).reshape(-1, 4)
            boxes.append(distance2bbox(points[location], deltas[location]))
            scores.append(kept_scores.sqrt())
            labels.append(label)
            embeds.append(emb[0].flatten(1).t()[location])
        boxes, scores = torch.cat(boxes), torch.cat(scores)
        labels, embeds = torch.cat(labels), torch.cat(embeds)
        # clip to the image (max_shape), drop boxes of size <= min_bbox_size
        limits = img_shape.flip(0).repeat(2).to(boxes.dtype)
        boxes = torch.min(boxes.clamp(min=0), limits)
        min_size = cfg.get('min_bbox_size', -1)
        if min_size >= 0:
            wh = boxes[:, 2:] - boxes[:, :2]
            valid = ((wh[:, 0] > min_size) & (wh[:, 1] > min_size)).nonzero()[:, 0]
            boxes, scores, labels, embeds = boxes[valid], scores[valid], labels[valid], \
                embeds[valid]
        # class-aware NMS by offsetting each class (mmcv's batched_nms)
        # (the max over the boxes and 0, so that no detection at all is no error)
        largest = torch.cat([boxes.flatten(), boxes.new_zeros(1)]).max()
        offsets = labels.to(boxes.dtype) * (largest + 1)
        keep = _NMSIndices.apply(boxes + offsets[:, None], scores, cfg.nms.iou_threshold)
        keep = keep[:cfg.max_per_img]
        return boxes[keep], scores[keep], labels[keep], embeds[keep]

    def panoptic_map(self, bases: Tensor, boxes: Tensor, scores: Tensor, labels: Tensor,
                     masks: Tensor, thing_weights: Tensor, img_shape: Tensor,
                     ori_shape: Tensor, scale: Tensor) -> Tensor:
        """``DR1PanopticHead.predict`` for one image at the original size."""
        head = self.model.panoptic_head
        candidates = scores >= head.score_thr
        # exact counts with no int64 cast of every pixel, rounded to float32 as PyTorch's
        # `mask_areas(masks).float()` is
        areas = exact_count(masks).float()
        if head.drop_duplicates:
            # scripted, so that its loop over the detections becomes an ONNX Loop
            candidates = candidates & ~torch.jit.script(duplicate_things)(
                masks, areas, candidates, head.overlap_thr)
        keep = candidates.nonzero()[:, 0]
        areas = areas[keep]
        logits = head(bases, thing_weights[keep], boxes[keep] if head.uses_boxes else None,
                      scale[:2])
        resampled = resample_aligned(logits, img_shape, ori_shape[0], ori_shape[1],
                                     head.basis_stride)
        channels = resampled.argmax(1)[0]
        dropped = covered_things(channels, areas, head.num_stuff_classes, head.overlap_thr)
        best_stuff = resampled[:, :head.num_stuff_classes].argmax(1)[0]
        channels = torch.where(dropped, best_stuff, channels)
        return encode_panoptic(channels, labels[keep], head.num_things_classes,
                               head.num_stuff_classes, head.stuff_area_limit)


def export_onnx(model: nn.Module, example: Dict[str, Tensor], path: str) -> Dict[str, object]:
    """Export ``model`` (DR1Mask or BlendMask) to ``path`` with dynamic image sizes.

    Args:
        model: built model in eval mode, weights loaded.
        example: ``img``, ``img_shape``, ``ori_shape`` of one image (see the module doc;
            ``ort_backend.graph_inputs`` makes them); any image: nothing of it is frozen
            into the graph.
        path: the .onnx file to write.

    Returns:
        ``input_names`` and ``output_names`` of the graph.
    """
    wrapper = ExportableSegmentor(model)
    img, img_shape, ori_shape = (torch.as_tensor(example[k])
                                 for k in ('img', 'img_shape', 'ori_shape'))
    input_names = ['img', 'img_shape', 'ori_shape']
    output_names = list(wrapper.output_names)
    dynamic_axes = {'img': {2: 'height', 3: 'width'}, 'boxes': {0: 'detections'},
                    'scores': {0: 'detections'}, 'labels': {0: 'detections'},
                    'masks': {0: 'detections', 1: 'out_height', 2: 'out_width'},
                    'panoptic': {0: 'out_height', 1: 'out_width'}}
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer warns at every Python value taken from a tensor (asserts, sizes):
        # sizes stay dynamic (tested on other image sizes), the asserts hold at any size
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', message='.*legacy TorchScript-based ONNX export')
        torch.onnx.export(wrapper, (img, img_shape, ori_shape), path, dynamo=False,
                          opset_version=OPSET, input_names=input_names,
                          output_names=output_names,
                          dynamic_axes={k: v for k, v in dynamic_axes.items()
                                        if k in input_names + output_names})
    return dict(input_names=input_names, output_names=output_names)


__all__ = ['ExportableSegmentor', 'ExportableRoIAlign', 'export_onnx', 'paste_masks_separable',
           'resample_aligned', 'bilinear_weights']
