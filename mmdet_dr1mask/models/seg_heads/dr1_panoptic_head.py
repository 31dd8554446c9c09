"""The unified panoptic layer of DR1Mask (paper Sec. 3.3, Eq. 9, Tables 2, 6, 7, 9).

One 1×1 layer over the basis F gives panoptic logits ``Y = W_panoᵀ F`` with
``W_pano = [W_stuff, W_thing]``: the C_stuff columns are static parameters, the
thing columns are dynamic, one per instance:

* training: for every GT thing instance c, ē_c = the mean vector embedding of
  the positive locations assigned to c (Eq. 9). The target map (stride 4) sends
  stuff pixels to their stuff channel and the pixels of instance c to channel
  C_stuff + c; void, crowd, padding and instances with no positive are ignored.
* inference: each detection scoring at least ``score_thr`` gives one thing
  channel (its embedding), except duplicates (``drop_duplicates``, on by default; the
  paper does not say how detections become channels): in score order, a detection whose
  instance mask lies more than ``overlap_thr`` on the masks of those kept before it is
  dropped, as MMDetection's and Detectron2's panoptic fusion drop instances. Box NMS lets
  through near-identical detections of one object; as thing channels their embeddings
  are near-equal, so the arg-max split the object between them and the overlap filter
  below then dropped both halves (docs/benchmarks.md §5). The logits are resampled
  aligned (basis pixel i on input pixel 4i) to the original image and arg-maxed
  (``aligned_argmax.py``); a thing whose visible area is below ``overlap_thr`` of its
  own instance mask is dropped (its pixels go to the best stuff class), stuff regions
  under ``stuff_area_limit`` pixels become void.

``things_in_boxes`` (off by default, not in the paper) confines each thing channel to
its box: the detected box at inference and, when the model is trained with it, the GT
box of its instance in the loss, so that training sees what inference does. A thing
channel is a global 1×1 filter, so two objects that look alike score alike everywhere
and one can take the other's pixels; the box restores the locality that the RoI-based
instance masks have (docs/benchmarks.md §5).

``position_prior`` (off by default, not in the paper) makes the thing channels
position-aware in the spirit of CondInst's relative coordinates, with one learned
scalar: a thing's logit gets ``-γ · d²``, d the distance to its box centre over half the
box diagonal (GT box in the loss, detected box at inference). Two look-alike things then
split the pixels between them along the line where their distances are equal.

Output follows MMDetection: ``pred_panoptic_seg.sem_seg`` (1, H, W) holds
``label + id * INSTANCE_OFFSET`` for things (ids from 1), the label for stuff
and ``num_classes`` (VOID) elsewhere.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import ConfigType, InstanceList
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from torch import Tensor, nn

from ..layers import sample_at_stride
from .aligned_argmax import AlignedArgmax, ArgmaxMap
from .panoptic_kernels import cpu_kernels


@MODELS.register_module()
class DR1PanopticHead(BaseModule):
    """Static stuff + dynamic thing 1×1 layer over the basis F (Sec. 3.3).

    Args:
        in_channels: D, channels of F (= the vector embedding length).
        num_things_classes: thing classes (labels ``[0, T)``).
        num_stuff_classes: stuff classes (labels ``[T, T + S)``).
        basis_stride: stride of F in input pixels.
        score_thr: detections at or above it become thing channels at inference.
        overlap_thr: a thing is kept if its visible area is at least this
            fraction of its own instance mask.
        stuff_area_limit: stuff segments smaller than this (original image
            pixels) become void.
        things_in_boxes: a thing channel only competes inside its box: the detected
            box at inference, its GT box in the loss (an extension beyond the paper, see
            the module doc).
        position_prior: thing channels made position-aware (an extension beyond the
            paper, see the module doc): each thing logit gets ``-γ · d²``, d the distance
            to its box centre over half the box diagonal, γ ≥ 0 one learned scalar.
        drop_duplicates: before the layer, drop a detection whose instance mask lies more
            than ``overlap_thr`` on the masks of higher-scored kept ones (inference only;
            see the module doc).
        ignore_index: void label of ``gt_sem_seg``.
        loss_panoptic: the per-pixel loss over stuff + thing channels.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 in_channels: int = 64,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 basis_stride: int = 4,
                 score_thr: float = 0.4,
                 overlap_thr: float = 0.5,
                 stuff_area_limit: int = 4096,
                 things_in_boxes: bool = False,
                 position_prior: bool = False,
                 drop_duplicates: bool = True,
                 ignore_index: int = 255,
                 loss_panoptic: ConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 init_cfg=dict(type='Normal', layer='Conv2d', std=0.01)) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_things_classes + num_stuff_classes
        self.basis_stride = basis_stride
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.stuff_area_limit = stuff_area_limit
        self.things_in_boxes = things_in_boxes
        self.drop_duplicates = drop_duplicates
        self.ignore_index = ignore_index
        self.conv_stuff = nn.Conv2d(in_channels, num_stuff_classes, 1, bias=False)  # W_stuff
        # γ = softplus(position_weight), 0.69 at the start
        self.position_weight = nn.Parameter(torch.zeros(())) if position_prior else None
        self.loss_panoptic = MODELS.build(loss_panoptic)

    def forward(self, bases: Tensor, thing_weights: Tensor, boxes: Optional[Tensor] = None,
                scale_factor: Union[Sequence[float], Tensor] = (1.0, 1.0)) -> Tensor:
        """Panoptic logits of one image, ``Y = [W_stuff, W_thing]ᵀ F``.

        Args:
            bases: (D, H, W) basis F of one image.
            thing_weights: (K, D) dynamic thing columns (embeddings).
            boxes: (K, 4) box of each thing, needed when :attr:`uses_boxes`: with
                ``position_prior`` the logits fall with the distance to its centre, with
                ``things_in_boxes`` they become a large negative value outside it.
            scale_factor: (w, h) box -> network input scale.

        Returns:
            (S + K, H, W): stuff channels first, then one per thing.
        """
        # one matrix product for both: the channels then need no concatenation
        weights = torch.cat([self.conv_stuff.weight.flatten(1), thing_weights])  # (S + K, D)
        logits = (weights @ bases.flatten(1)).view(-1, *bases.shape[1:])
        if not self.uses_boxes:
            return logits
        if boxes is None:
            raise ValueError('DR1PanopticHead with things_in_boxes or position_prior '
                             'needs the boxes of the things')
        num_stuff = self.num_stuff_classes
        if self.position_weight is not None:
            logits = subtract_position_prior(logits, num_stuff, boxes, scale_factor,
                                             self.basis_stride, F.softplus(self.position_weight))
        if self.things_in_boxes:
            logits = torch.cat([logits[:num_stuff], confine_to_boxes(
                logits[num_stuff:], boxes, scale_factor, self.basis_stride)])
        return logits

    @property
    def uses_boxes(self) -> bool:
        """Whether the thing channels depend on the things' boxes."""
        return self.things_in_boxes or self.position_weight is not None

    # --------------------------------------------------------------------- loss
    def loss(self, bases: Tensor, positives: InstanceList,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Cross-entropy over stuff + thing channels (weights by Eq. 9).

        Args:
            bases: (N, D, H, W) basis F.
            positives: per image, from ``DR1FCOSHead.loss``: ``gt_inds`` and
                ``embeddings`` (P, D) of the positive locations.
            batch_data_samples: with ``gt_instances`` (``masks``) and
                ``gt_sem_seg`` from ``LoadPanopticAnnotations``.

        Returns:
            ``loss_panoptic``.
        """
        per_image = []
        for img_bases, pos, sample in zip(bases, positives, batch_data_samples):
            weights, kept = mean_embeddings(pos.gt_inds, pos.embeddings, len(sample.gt_instances))
            target = self.get_targets(sample, kept, img_bases.shape[-2:])
            # GT boxes are at the network input size
            boxes = get_box_tensor(sample.gt_instances.bboxes)[kept] \
                if self.uses_boxes else None
            logits = self(img_bases, weights, boxes)
            per_image.append((logits, target))
        valid = sum(int((t != self.ignore_index).sum()) for _, t in per_image)
        loss = sum(self.loss_panoptic(logits[None], target[None], avg_factor=max(valid, 1),
                                      ignore_index=self.ignore_index)
                   for logits, target in per_image)
        return dict(loss_panoptic=loss)

    def get_targets(self, sample, kept: Tensor, size: Sequence[int]) -> Tensor:
        """(H, W) channel targets at the basis stride for one image.

        Args:
            sample: a data sample with ``gt_sem_seg`` (things ``[0, T)``, stuff
                ``[T, T + S)``, void ``ignore_index``) and ``gt_instances.masks``.
            kept: (K,) GT indices of the instances with positives, in the order of
                their thing channels.
            size: (H, W) of the basis.

        Returns:
            stuff s -> s, the pixels of ``kept[k]`` -> S + k, the rest ``ignore_index``.
        """
        s, num_things = self.basis_stride, self.num_things_classes
        sem = sample_at_stride(sample.gt_sem_seg.sem_seg[0], s, size, self.ignore_index).long()
        target = torch.full_like(sem, self.ignore_index)
        is_stuff = (sem >= num_things) & (sem < self.num_classes)
        target[is_stuff] = sem[is_stuff] - num_things
        if len(kept) > 0:
            masks = sample.gt_instances.masks[kept.cpu().numpy()].to_tensor(
                dtype=torch.bool, device=sem.device)
            for k, mask in enumerate(sample_at_stride(masks, s, size, False)):
                target[mask] = self.num_stuff_classes + k  # later instances on top
        return target

    # ------------------------------------------------------------------ predict
    def predict(self, bases: Tensor, results_list: InstanceList, batch_img_metas: List[dict],
                rescale: bool = True) -> List[PixelData]:
        """Panoptic maps of a batch.

        Args:
            bases: (N, D, H, W) basis F.
            results_list: per image detections sorted by score, with ``labels``,
                ``scores``, ``masks`` (K, H_o, W_o) at the output size,
                ``embeddings`` (K, D) and, with ``things_in_boxes``, ``bboxes``
                (K, 4) at the output size.
            batch_img_metas: ``img_shape`` and ``ori_shape`` of each image.
            rescale: maps at the original image size (else the network input size).

        Returns:
            per image ``PixelData(sem_seg=(1, H_o, W_o) int32)`` in MMDetection's encoding.
        """
        maps = []
        for img_bases, dets, meta in zip(bases, results_list, batch_img_metas):
            candidates = (dets.scores >= self.score_thr).nonzero()[:, 0]
            num = candidates.numel()
            # sorted by score, the candidates are the first `num` detections: a slice of
            # their masks is a view, indexing would copy the (K, H, W) masks
            masks = dets.masks[:num] if num == 0 or int(candidates[-1]) == num - 1 \
                else dets.masks[candidates]
            if self.drop_duplicates:
                kept, areas = kept_things(masks, self.overlap_thr)
                candidates = candidates[kept]
            else:
                areas = mask_areas(masks)
            labels = dets.labels[candidates]
            boxes, scale = None, (1.0, 1.0)
            if self.uses_boxes:
                boxes = dets.bboxes[candidates]
                scale = meta['scale_factor'] if rescale else scale
            logits = self(img_bases, dets.embeddings[candidates], boxes, scale)
            out_shape = meta['ori_shape' if rescale else 'img_shape'][:2]
            resample = AlignedArgmax.of_geometry(logits.shape[-2:], meta['img_shape'],
                                                 out_shape, self.basis_stride, logits.device)
            # the map stays in parts (cells, border pixels) until it is painted with the
            # panoptic values: counting and encoding then cost per cell, not per pixel
            parts = resample.parts(logits)
            stuff_logits = logits[:self.num_stuff_classes]
            if isinstance(parts, ArgmaxMap):  # the CPU kernels: the lines below in one call
                panoptic = resample.kernels.panoptic_map(
                    parts.channels, parts.counts, areas, labels,
                    stuff_logits.float().contiguous(), *resample.tables,
                    self.num_things_classes, float(self.overlap_thr), self.stuff_area_limit,
                    INSTANCE_OFFSET)
                maps.append(PixelData(sem_seg=panoptic[None]))
                continue
            counts = resample.counts(parts, logits.size(0))
            dropped = covered_channels(counts, areas, self.num_stuff_classes, self.overlap_thr)
            if bool(dropped.any()):
                # a dropped thing's pixels go to the stuff class of largest logit there
                parts = resample.replace(parts, dropped, stuff_logits)
                counts = resample.counts(parts, logits.size(0))
            values = panoptic_values(counts, labels, self.num_things_classes,
                                     self.num_stuff_classes, self.stuff_area_limit)
            maps.append(PixelData(sem_seg=resample.paint(parts, values.int())[None]))
        return maps


def mean_embeddings(gt_inds: Tensor, embeddings: Tensor, num_gts: int) -> Tuple[Tensor, Tensor]:
    """Eq. 9: per GT instance the mean embedding of its positives.

    Args:
        gt_inds: (P,) GT index of each positive.
        embeddings: (P, D) their embeddings.
        num_gts: G, GT instances of the image.

    Returns:
        (K, D) mean embeddings of the K instances that have positives, and their
        (K,) GT indices in increasing order.
    """
    sums = embeddings.new_zeros((num_gts, embeddings.size(1))).index_add(0, gt_inds, embeddings)
    counts = torch.bincount(gt_inds, minlength=num_gts)
    kept = counts.nonzero().flatten()
    return sums[kept] / counts[kept, None].to(embeddings.dtype), kept


def exact_count(masks: Tensor) -> Tensor:
    """(...) float64: the True pixels of each (..., H, W) bool mask, exact at any size, in
    operations whose ONNX form casts no pixel to int64 (the exporter writes an integer sum
    as a Cast of every pixel to int64: 220 of 1400 ms per photo in ONNX Runtime, R-50
    panoptic): rows in float32 (exact, a row is far shorter than 2**24 pixels), the row
    sums in float64. The ONNX graph's ``mask_areas``.
    """
    return masks.float().sum(-1).double().sum(-1)


def duplicate_things(masks: Tensor, areas: Tensor, candidates: Tensor,
                     overlap_thr: float) -> Tensor:
    """(K,) bool: the candidate things that duplicate higher-scored ones.

    In score order, a candidate whose instance mask lies more than ``overlap_thr`` of its
    area on the masks of the candidates kept before it is a duplicate; the others are kept
    and claim their pixels. Scriptable (``torch.jit.script``), so that the exported graph
    runs this same loop (ONNX ``Loop``); in eager mode the loop runs with its scalars in
    Python. ``kept_things`` is the form predict uses.

    Args:
        masks: (K, H, W) bool instance masks, sorted by score (highest first).
        areas: (K,) their pixel counts (``mask_areas``).
        candidates: (K,) bool, the detections that may become thing channels.
        overlap_thr: the largest kept fraction of a mask that may lie on earlier masks.
    """
    if not torch.jit.is_scripting():
        if masks.device.type == 'cpu':
            return _duplicates_eager(masks, areas, candidates, overlap_thr)
        return _duplicates_by_rounds(masks, areas, candidates, overlap_thr)
    taken = torch.zeros(masks.shape[1:], dtype=torch.bool, device=masks.device)
    duplicate = torch.zeros_like(candidates)
    # the most pixels of each mask that may lie on earlier ones (an empty mask: none, as
    # 0 > 0 is false)
    limits = areas.float() * overlap_thr
    order = candidates.nonzero()[:, 0]
    # no int64 cast of the map in the graph: float32 counts, exact below 2**24 pixels in
    # the fewest graph nodes; larger maps count exactly (exact_count, in float64), three
    # more nodes per iteration (one loop or the other: a choice inside the loop would
    # add a node to every iteration)
    if masks.size(1) * masks.size(2) < 16777216:
        for i in range(order.size(0)):
            k = order[i]
            is_duplicate = (masks[k] & taken).float().sum() > limits[k]
            duplicate[k] = is_duplicate
            if not bool(is_duplicate):  # one in-place pass, only for the kept ones
                taken |= masks[k]
    else:
        exact_limits = limits.double()
        for i in range(order.size(0)):
            k = order[i]
            # compared as 1-element vectors: the exporter casts 0-dim operands of a
            # comparison to float32, which would undo the exact count
            is_duplicate = (exact_count(masks[k] & taken).view(1) >
                            exact_limits[k].view(1))[0]
            duplicate[k] = is_duplicate
            if not bool(is_duplicate):
                taken |= masks[k]
    return duplicate


@torch.jit.unused
def _duplicates_eager(masks: Tensor, areas: Tensor, candidates: Tensor,
                      overlap_thr: float) -> Tensor:
    """``duplicate_things`` in eager mode: three operations on the map per candidate (and,
    count, or) instead of about nine tensor operations, each with its dispatch;
    ``count_nonzero`` counts the bytes without widening them to int64 first, as ``sum``
    does (a 192×256 mask: 10 against 16 µs).
    """
    limits = (areas.float() * overlap_thr).tolist()
    duplicate = [False] * candidates.size(0)
    taken = None
    for k in candidates.nonzero()[:, 0].tolist():
        if taken is None:  # the first candidate lies on nothing
            taken = masks[k].clone()
        elif int(torch.count_nonzero(masks[k] & taken)) > limits[k]:
            duplicate[k] = True
        else:
            taken |= masks[k]
    return torch.tensor(duplicate, dtype=torch.bool, device=masks.device)


@torch.jit.unused
def _duplicates_by_rounds(masks: Tensor, areas: Tensor, candidates: Tensor,
                          overlap_thr: float) -> Tensor:
    """``duplicate_things`` for GPU tensors: whole-map passes in a few rounds instead of a
    loop with one host synchronisation per candidate (on an H200 the loop's 100
    synchronisations and 300 small launches were most of the panoptic layer's time).

    Given a guess of the kept set, each pixel's owner is the first kept candidate on it,
    and a candidate is a duplicate if more than its limit of its pixels have an owner
    before it: one pass decides every candidate against the guess. The decisions are
    taken as the next guess until they repeat. Candidate i's decision depends only on
    the decisions before it, so after round r the first r are final: the rounds end at
    the greedy loop's result, in at most C + 1 rounds for C candidates, usually a few.
    Memory: a few (C, H, W) byte maps.
    """
    duplicate = torch.zeros_like(candidates)
    index = candidates.nonzero()[:, 0]
    count = index.numel()
    if count == 0:
        return duplicate
    # every detection a candidate (``kept_things``): no copy of the masks
    flat = (masks if count == masks.size(0) else masks[index]).flatten(1)  # (C, P) bool
    limits = areas[index].float() * overlap_thr
    # owner indices as bytes where they fit (the (C, P) candidate-index map dominates)
    dtype = torch.uint8 if count < 255 else torch.int32
    order = torch.arange(count, device=masks.device, dtype=dtype)
    nobody = torch.tensor(count, dtype=dtype, device=masks.device)
    kept = torch.ones(count, dtype=torch.bool, device=masks.device)
    for _ in range(count + 1):
        owner = torch.where(flat & kept[:, None], order[:, None], nobody).amin(0)
        under_earlier = torch.count_nonzero(flat & (owner[None, :] < order[:, None]), dim=1)
        decided = under_earlier <= limits
        if torch.equal(decided, kept):
            break
        kept = decided
    duplicate[index] = ~kept
    return duplicate


def kept_things(masks: Tensor, overlap_thr: float) -> Tuple[Tensor, Tensor]:
    """The detections that ``duplicate_things`` keeps with every one a candidate, and the
    areas of their masks.

    On CPU one C++ call counts each mask's area and its overlap with the kept masks in
    the same pass (``panoptic_kernels.py``; the trained tiny models' 7 masks of 192×256 per
    image: 25 against 136 µs for ``mask_areas`` and the Python loop); elsewhere
    ``mask_areas`` and ``duplicate_things``.

    Args:
        masks: (K, H, W) bool instance masks, sorted by score (highest first).
        overlap_thr: as in ``duplicate_things``.

    Returns:
        (M,) int64 indices of the kept masks, in order, and their (M,) int32 areas.
    """
    kernels = cpu_kernels() if masks.device.type == 'cpu' and masks.dtype == torch.bool \
        else None
    if kernels is not None:
        kept, areas = kernels.kept_things(masks.contiguous(), float(overlap_thr))
        return kept, areas
    areas = mask_areas(masks)
    candidates = torch.ones(masks.size(0), dtype=torch.bool, device=masks.device)
    kept = (~duplicate_things(masks, areas, candidates, overlap_thr)).nonzero()[:, 0]
    return kept, areas[kept]


def mask_areas(masks: Tensor) -> Tensor:
    """(K,) int32 pixel count of each of the (K, H, W) bool ``masks``.

    Each mask's bytes are viewed as 64 rows and summed across the rows into uint8 (at most
    64, exact), then the row sums into int32. Summing across rows adds contiguous vectors;
    summing within groups of 64 neighbouring bytes (the previous way) reduces short rows,
    and a direct int32 sum widens every byte first (8 masks of 192×256: 20 µs against 100
    and 30 µs; 100 masks of 480×640: 0.9 ms against 7.7 and 34 ms, CPU, 2 threads).
    """
    flat = masks.flatten(1).view(torch.uint8)
    whole = flat.size(1) // 64 * 64
    areas = flat[:, :whole].view(flat.size(0), 64, whole // 64).sum(1, dtype=torch.uint8).sum(
        1, dtype=torch.int32)
    return areas + flat[:, whole:].sum(1, dtype=torch.int32)


def boxes_on_basis(bboxes: Tensor, scale_factor: Union[Sequence[float], Tensor],
                   stride: int) -> Tensor:
    """(K, 4) float boxes x1, y1, x2, y2 in basis pixels (basis pixel i on input pixel
    ``stride * i``).

    Args:
        bboxes: (K, 4) boxes; ``bboxes * scale_factor`` is in input pixels.
        scale_factor: (w, h) box -> network input scale.
        stride: basis stride.
    """
    scale = torch.as_tensor(scale_factor, dtype=torch.float32, device=bboxes.device)
    # the corners as (K, 2, 2) times (w, h): views, where repeating the scale cost 30 µs
    return (bboxes.float().view(-1, 2, 2) * (scale / stride)).view(-1, 4)


def confine_to_boxes(thing_logits: Tensor, bboxes: Tensor,
                     scale_factor: Union[Sequence[float], Tensor], stride: int) -> Tensor:
    """Each thing's logits with the values outside its box set to a large negative value.

    Args:
        thing_logits: (K, H, W) thing channels on the basis grid; basis pixel i
            sits on input pixel ``stride * i`` (aligned).
        bboxes: (K, 4) x1, y1, x2, y2 at the output size.
        scale_factor: (w, h) output -> network input scale.
        stride: basis stride.

    Returns:
        (K, H, W) confined logits (a new tensor: an in-place fill of a slice would not
        reach an exported graph).
    """
    h, w = thing_logits.shape[-2:]
    # the box in basis coordinates, grown by one cell so that the resampled edge
    # (bilinear between cells) still reaches the box border
    boxes = boxes_on_basis(bboxes, scale_factor, stride)
    xs = torch.arange(w, device=boxes.device, dtype=boxes.dtype)
    ys = torch.arange(h, device=boxes.device, dtype=boxes.dtype)
    in_x = (xs >= boxes[:, :1] - 1) & (xs <= boxes[:, 2:3] + 1)  # (K, W)
    in_y = (ys >= boxes[:, 1:2] - 1) & (ys <= boxes[:, 3:4] + 1)  # (K, H)
    outside = ~(in_y[:, :, None] & in_x[:, None, :])
    # finite, unlike -inf, so that a zero bilinear weight on it gives 0 and not NaN; a
    # quarter of the minimum so that weighted sums of it cannot overflow
    return thing_logits.masked_fill(outside, torch.finfo(thing_logits.dtype).min / 4)


def subtract_position_prior(logits: Tensor, num_stuff: int, bboxes: Tensor,
                            scale_factor: Union[Sequence[float], Tensor], stride: int,
                            weight: Tensor) -> Tensor:
    """The logits with ``weight * centre_distances`` subtracted from the thing channels.

    On CPU in inference (no autograd, not traced for export) one C++ pass does it in place
    on ``logits`` (``panoptic_kernels.py``, the same float32 operations in the same order:
    equal results; the trained tiny models' 7 thing channels of 48×64: 111 against 32 µs
    for the whole forward); elsewhere the tensor form returns a new tensor.

    Args:
        logits: (S + K, H, W) stuff then thing channels on the basis grid; with the kernel
            it is changed in place, so pass a tensor nothing else reads.
        num_stuff: S.
        bboxes: (K, 4) boxes of the things, as in :func:`centre_distances`.
        scale_factor: (w, h) box -> network input scale.
        stride: basis stride.
        weight: scalar tensor, the prior's strength (``softplus`` of the learned weight).

    Returns:
        (S + K, H, W) logits.
    """
    kernels = cpu_kernels() if logits.device.type == 'cpu' and \
        logits.dtype == torch.float32 and not torch.is_grad_enabled() and \
        not torch.jit.is_tracing() and not torch.compiler.is_compiling() else None
    if kernels is not None:
        return kernels.subtract_position_prior(
            logits.contiguous(), boxes_on_basis(bboxes, scale_factor, stride).contiguous(),
            float(weight), num_stuff)
    stuff, things = logits[:num_stuff], logits[num_stuff:]
    return torch.cat([stuff, things - weight * centre_distances(bboxes, scale_factor, stride,
                                                                things.shape[-2:])])


def centre_distances(bboxes: Tensor, scale_factor: Union[Sequence[float], Tensor],
                     stride: int, size: Sequence[int]) -> Tensor:
    """(K, H, W) squared distance of every basis pixel to each box centre, over the squared
    half diagonal of the box (1 at the corners).

    Args:
        bboxes: (K, 4) x1, y1, x2, y2; ``bboxes * scale_factor`` is in input pixels.
        scale_factor: (w, h) box -> network input scale.
        stride: basis stride (basis pixel i sits on input pixel ``stride * i``).
        size: (H, W) of the basis.
    """
    boxes = boxes_on_basis(bboxes, scale_factor, stride)
    centre_x, centre_y = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    half_diag2 = (((boxes[:, 2:] - boxes[:, :2]) ** 2).sum(1) / 4).clamp(min=1)
    xs = torch.arange(size[1], device=boxes.device, dtype=boxes.dtype)
    ys = torch.arange(size[0], device=boxes.device, dtype=boxes.dtype)
    dx2 = (xs - centre_x[:, None]) ** 2  # (K, W)
    dy2 = (ys - centre_y[:, None]) ** 2  # (K, H)
    return (dy2[:, :, None] + dx2[:, None, :]) / half_diag2[:, None, None]


def covered_channels(counts: Tensor, thing_areas: Tensor, num_stuff: int,
                     overlap_thr: float) -> Tensor:
    """(S + K,) bool: the thing channels that show less than ``overlap_thr`` of their mask.

    Args:
        counts: (S + K,) pixels of each channel in the arg-max map (``channel_counts``).
        thing_areas: (K,) area of each thing's own instance mask (same image size).
        num_stuff: S; stuff channels are never dropped.
        overlap_thr: a thing is kept if visible area >= overlap_thr * own area.
    """
    visible = counts[num_stuff:]
    dropped = visible < overlap_thr * thing_areas.to(visible.device, visible.dtype)
    return torch.cat([dropped.new_zeros(num_stuff), dropped])


def covered_things(channels: Tensor, thing_areas: Tensor, num_stuff: int,
                   overlap_thr: float) -> Tensor:
    """(H, W) bool: the pixels of things that show less than ``overlap_thr`` of their mask.

    Args:
        channels: (H, W) arg-max channel: stuff ``[0, S)``, thing k ``S + k``.
        thing_areas: (K,) area of each thing's own instance mask (same image size).
        num_stuff: S.
        overlap_thr: a thing is kept if visible area >= overlap_thr * own area.
    """
    counts = channel_counts(channels, num_stuff + thing_areas.size(0))
    # the channel -> dropped table, applied in a single gather
    return covered_channels(counts, thing_areas, num_stuff, overlap_thr)[channels]


def channel_counts(channels: Tensor, num_channels: int) -> Tensor:
    """(num_channels,) int64: how many pixels of ``channels`` (any shape) hold each channel.

    ``bincount`` written as a scatter-add, which ONNX has (ScatterElements, add).
    """
    flat = channels.flatten()
    return torch.zeros(num_channels, dtype=torch.long, device=channels.device).scatter_add_(
        0, flat, torch.ones_like(flat))


def encode_panoptic(channels: Tensor, thing_labels: Tensor, num_things: int, num_stuff: int,
                    stuff_area_limit: int) -> Tensor:
    """Channel map -> MMDetection's panoptic encoding, voiding small stuff regions.

    Args:
        channels: (H, W) channel of each pixel: stuff ``[0, S)``, thing k ``S + k``
            (covered things already replaced, see ``covered_things``).
        thing_labels: (K,) class of each thing channel, in ``[0, T)``.
        num_things, num_stuff: T and S.
        stuff_area_limit: stuff segments with fewer pixels become void.

    Returns:
        (H, W) long: ``label + id * INSTANCE_OFFSET`` for things that own pixels (ids
        1, 2, ... in channel order), stuff labels ``T + s``, void ``T + S``.
    """
    counts = channel_counts(channels, num_stuff + thing_labels.size(0))
    # one lookup table channel -> panoptic value, applied in a single gather
    return panoptic_values(counts, thing_labels, num_things, num_stuff,
                           stuff_area_limit)[channels]


def panoptic_values(counts: Tensor, thing_labels: Tensor, num_things: int, num_stuff: int,
                    stuff_area_limit: int) -> Tensor:
    """(S + K,) long: the panoptic value of each channel (``encode_panoptic``'s table).

    Args:
        counts: (S + K,) pixels of each channel in the map (``channel_counts``).
        thing_labels: (K,) class of each thing channel, in ``[0, T)``.
        num_things, num_stuff: T and S.
        stuff_area_limit: stuff channels with fewer pixels become void.

    Returns:
        ``label + id * INSTANCE_OFFSET`` for things that own pixels (ids 1, 2, ... in
        channel order), ``T + s`` for stuff s, void ``T + S`` for the rest.
    """
    void = num_things + num_stuff
    stuff_values = torch.arange(num_things, void, device=counts.device)
    stuff_values = torch.where(counts[:num_stuff] < stuff_area_limit,
                               torch.full_like(stuff_values, void), stuff_values)
    shown = counts[num_stuff:] > 0
    ids = torch.cumsum(shown.long(), 0)
    thing_values = torch.where(shown, thing_labels.to(counts.device) + ids * INSTANCE_OFFSET,
                               torch.full_like(ids, void))
    return torch.cat([stuff_values, thing_values])

