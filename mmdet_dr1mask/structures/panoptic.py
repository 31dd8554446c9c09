"""MMDetection's panoptic map encoding, built from annotations.

MMDetection's panoptic predictions (``pred_panoptic_seg.sem_seg``, shape
(1, H, W)) hold ``label + instance_id * INSTANCE_OFFSET`` per pixel: things
(labels ``[0, num_things)``) have ids >= 1, stuff (labels
``[num_things, num_classes)``) id 0, and void pixels the value ``num_classes``.
"""
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from torch import Tensor


def panoptic_map_from_gt(sem_seg: Tensor, thing_masks: Tensor, thing_labels: Tensor,
                         num_things: int, num_classes: int, ignore_index: int = 255) -> Tensor:
    """Encode ground truth as a panoptic map in MMDetection's prediction format.

    Args:
        sem_seg: (H, W) semantic labels as ``LoadPanopticAnnotations`` makes them:
            things ``[0, num_things)``, stuff ``[num_things, num_classes)``,
            ``ignore_index`` for void (and crowd).
        thing_masks: (N, H, W) bool masks of the non-crowd thing instances.
        thing_labels: (N,) their labels in ``[0, num_things)``.
        num_things: number of thing classes.
        num_classes: number of thing + stuff classes (also the VOID value).
        ignore_index: void label in ``sem_seg``.

    Returns:
        (H, W) int64 map: ``label + (i + 1) * INSTANCE_OFFSET`` on instance i,
        the stuff label on stuff, ``num_classes`` elsewhere (void, crowd).
    """
    if thing_masks.shape[0] != thing_labels.shape[0]:
        raise ValueError(f'{thing_masks.shape[0]} masks but {thing_labels.shape[0]} labels')
    sem_seg = sem_seg.long()
    pan = torch.full_like(sem_seg, num_classes)
    is_stuff = (sem_seg >= num_things) & (sem_seg < num_classes) & (sem_seg != ignore_index)
    pan[is_stuff] = sem_seg[is_stuff]
    for i, (mask, label) in enumerate(zip(thing_masks.bool(), thing_labels.long())):
        pan[mask] = label + (i + 1) * INSTANCE_OFFSET
    return pan
