"""Training targets of K-Net's kernels (K-Net Sec. 3.4, "Training with bipartite matching").

* :func:`gt_masks_at_stride`: thing masks and stuff masks of each image resampled
  to the resolution where masks are matched and supervised (stride 4), as the
  official ``KNet.forward_train`` does (bilinear, so the targets are soft at the
  borders);
* :func:`match_kernels`: one-to-one matching of the thing kernels to the
  instances with MMDetection's ``HungarianAssigner`` and the targets it implies;
* :func:`stuff_kernel_targets`: the fixed targets of the stuff kernels, kernel
  ``i`` for stuff class ``i`` (panoptic K-Net).

Deviation from the official implementation: with no class scores (the initial
masks), :func:`match_kernels` gives the assigner all-zero logits. A class cost
of constant logits adds one constant per ground-truth column, which leaves the
optimal matching unchanged, so this equals the official skipping of the class
cost.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from mmengine.structures import InstanceData
from torch import Tensor


def gt_masks_at_stride(batch_data_samples: SampleList, stride: int, num_thing_classes: int,
                       with_stuff: bool, ignore_index: int = 255
                       ) -> Tuple[List[InstanceData], Optional[List[InstanceData]]]:
    """Thing and stuff masks of each image at ``batch_input_shape // stride``.

    Args:
        batch_data_samples (list[DetDataSample]): with ``gt_instances`` (``masks``,
            ``labels``) and, when ``with_stuff``, ``gt_sem_seg`` (labels of stuff
            classes from ``num_thing_classes`` on, ``ignore_index`` for void).
        stride (int): Output stride of the supervised masks.
        num_thing_classes (int): Semantic labels below it are things.
        with_stuff (bool): Also build the stuff masks (panoptic).
        ignore_index (int): Void label of ``gt_sem_seg``. Defaults to 255.

    Returns:
        tuple: per image, ``InstanceData(labels (n,), masks (n, h, w) float)`` of
        the things, and the same for the stuff classes present (None if not
        ``with_stuff``).
    """
    pad_h, pad_w = batch_data_samples[0].metainfo['batch_input_shape']
    size = (pad_h // stride, pad_w // stride)
    things, stuff = [], [] if with_stuff else None
    for sample in batch_data_samples:
        gt = sample.gt_instances
        device = gt.labels.device
        masks = gt.masks.to_tensor(torch.float, device)  # (n, h_img, w_img)
        things.append(InstanceData(labels=gt.labels, masks=_resize(masks, (pad_h, pad_w), size)))
        if with_stuff:
            sem = sample.gt_sem_seg.sem_seg[0].to(device)  # (h_img, w_img)
            classes = [c for c in sem.unique().tolist()
                       if c >= num_thing_classes and c != ignore_index]
            labels = torch.tensor(classes, dtype=torch.long, device=device)
            stuff_masks = (sem[None] == labels[:, None, None]).float()  # (s, h_img, w_img)
            stuff.append(InstanceData(labels=labels,
                                      masks=_resize(stuff_masks, (pad_h, pad_w), size)))
    return things, stuff


def _resize(masks: Tensor, pad_shape: Tuple[int, int], size: Tuple[int, int]) -> Tensor:
    """Zero-pad (n, h, w) masks to ``pad_shape`` and resample them bilinearly to ``size``."""
    h, w = masks.shape[-2:]
    if (h, w) != tuple(pad_shape):
        masks = F.pad(masks, (0, pad_shape[1] - w, 0, pad_shape[0] - h))
    if masks.shape[0] == 0:
        return masks.new_zeros((0, *size))
    return F.interpolate(masks[None], size, mode='bilinear', align_corners=False)[0]


def match_kernels(assigner, mask_preds: Tensor, cls_logits: Optional[Tensor],
                  gt: InstanceData, num_classes: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Match the thing kernels of one image to its instances.

    Args:
        assigner (HungarianAssigner): built with mask match costs (and a class
            cost reading ``scores``).
        mask_preds (Tensor): (N, h, w) mask logits used for matching.
        cls_logits (Tensor | None): (N, num_thing_classes) class logits used for
            matching, or None (initial kernels).
        gt (InstanceData): ``labels`` (n,) and ``masks`` (n, h, w).
        num_classes (int): Label of the background (no match).

    Returns:
        tuple[Tensor, Tensor, Tensor]: labels (N,) (``num_classes`` for unmatched
        kernels), mask targets (N, h, w) (zeros for unmatched) and a bool (N,)
        mask of the matched kernels.
    """
    num = mask_preds.shape[0]
    if cls_logits is None:
        cls_logits = mask_preds.new_zeros((num, num_classes))
    pred = InstanceData(scores=cls_logits.detach(), masks=mask_preds.detach())
    gt_inds = assigner.assign(pred, gt).gt_inds  # (N,) 0 unmatched, i + 1 for instance i
    pos = gt_inds > 0
    labels = gt_inds.new_full((num,), num_classes)
    labels[pos] = gt.labels[gt_inds[pos] - 1]
    targets = mask_preds.new_zeros(mask_preds.shape)
    targets[pos] = gt.masks[gt_inds[pos] - 1].to(targets.dtype)
    return labels, targets, pos


def stuff_kernel_targets(stuff: InstanceData, num_thing_classes: int, num_stuff_classes: int,
                         size: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Targets of the ``num_stuff_classes`` stuff kernels of one image: kernel ``i``
    predicts stuff class ``num_thing_classes + i`` and is scored on that class only.

    Args:
        stuff (InstanceData): ``labels`` (s,) of the stuff classes present and
            their ``masks`` (s, h, w).
        num_thing_classes (int): Number of thing classes.
        num_stuff_classes (int): Number of stuff classes (and kernels).
        size (tuple[int, int]): (h, w) of the masks.

    Returns:
        tuple[Tensor, Tensor, Tensor, Tensor]: labels (S,) (``num_classes`` for
        classes absent from the image), label weights (S, num_classes), mask
        targets (S, h, w) and a bool (S,) mask of the classes present.
    """
    num_classes = num_thing_classes + num_stuff_classes
    device = stuff.labels.device
    labels = torch.full((num_stuff_classes,), num_classes, dtype=torch.long, device=device)
    targets = torch.zeros((num_stuff_classes, *size), device=device)
    index = stuff.labels - num_thing_classes
    labels[index] = stuff.labels
    targets[index] = stuff.masks.to(targets.dtype)
    weights = torch.zeros((num_stuff_classes, num_classes), device=device)
    weights[:, num_thing_classes:] = torch.eye(num_stuff_classes, device=device)
    return labels, weights, targets, labels < num_classes
