"""How close two sets of results are (PyTorch against an exported graph).

Used by ``tools/deployment/export_onnx.py --verify``, the parity tests and the R-50
record in docs/deployment.md, so that "same detections" means one thing everywhere.
"""
from typing import Dict, List

import torch
from mmdet.structures import DetDataSample

# the acceptance limits of the parity tests (issue: deployment)
BOX_REL_TOL = 1e-3
MIN_MASK_IOU = 0.99
MIN_PANOPTIC_EQUAL = 0.995


def mask_ious(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(K,) IoU of paired (K, H, W) boolean masks; 1 where both are empty."""
    inter = (a & b).flatten(1).sum(1).float()
    union = (a | b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def compare(reference: DetDataSample, result: DetDataSample) -> Dict[str, float]:
    """Detections, boxes, masks and panoptic pixels of ``result`` against ``reference``.

    Returns:
        ``detections`` and ``detections_ref`` (counts), ``same_labels`` (1.0 when the
        counts and the label sequences agree), ``box_rel_err`` (largest |Δ| / max(|box|, 1)),
        ``min_mask_iou`` and, for panoptic results, ``panoptic_equal`` (fraction of equal
        pixels). Box and mask figures are computed only when the labels agree.
    """
    ref, out = reference.pred_instances, result.pred_instances
    stats = dict(detections=float(len(out)), detections_ref=float(len(ref)))
    same = len(ref) == len(out) and torch.equal(ref.labels.long().cpu(), out.labels.long().cpu())
    stats['same_labels'] = float(same)
    if same and len(ref):
        ref_boxes, out_boxes = ref.bboxes.float().cpu(), out.bboxes.float().cpu()
        stats['box_rel_err'] = float(((ref_boxes - out_boxes).abs() /
                                      ref_boxes.abs().clamp(min=1)).max())
        stats['min_mask_iou'] = float(mask_ious(ref.masks.bool().cpu(),
                                                out.masks.bool().cpu()).min())
    if 'pred_panoptic_seg' in reference:
        a = reference.pred_panoptic_seg.sem_seg.cpu()
        b = result.pred_panoptic_seg.sem_seg.cpu()
        stats['panoptic_equal'] = float((a == b).float().mean()) if a.shape == b.shape else 0.0
    return stats


def within_limits(stats: Dict[str, float]) -> List[str]:
    """The parity limits that ``stats`` (from :func:`compare`) misses; empty when none."""
    missed = []
    if not stats['same_labels']:
        missed.append(f"detections differ: {int(stats['detections'])} with labels other than "
                      f"the reference's {int(stats['detections_ref'])}")
    if stats.get('box_rel_err', 0.0) > BOX_REL_TOL:
        missed.append(f"box relative error {stats['box_rel_err']:.2e} > {BOX_REL_TOL}")
    if stats.get('min_mask_iou', 1.0) < MIN_MASK_IOU:
        missed.append(f"mask IoU {stats['min_mask_iou']:.4f} < {MIN_MASK_IOU}")
    if stats.get('panoptic_equal', 1.0) < MIN_PANOPTIC_EQUAL:
        missed.append(f"panoptic pixels equal {stats['panoptic_equal']:.4f} < "
                      f'{MIN_PANOPTIC_EQUAL}')
    return missed
