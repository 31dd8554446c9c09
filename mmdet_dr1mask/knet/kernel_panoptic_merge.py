"""K-Net's panoptic inference: merging the thing and stuff masks of the last stage
into one panoptic map (``get_panoptic`` and ``merge_stuff_thing`` of the official
``KernelIterHead``, github.com/ZwwWayne/K-Net, knet/det/kernel_iter_head.py).

Thing kernels score their best thing class, stuff kernel ``i`` scores its own
stuff class. Every pixel goes to the kernel with the highest score × mask
probability; kernels are then visited by decreasing score and keep their pixels
only if they keep at least ``overlap_thr`` of their own mask (probability >=
``mask_thr``, 0.5). Things must also score ``instance_score_thr``; stuff is kept
whatever its score and area, as in the official merge (its configs list
``stuff_score_thr=0.05`` and ``stuff_max_area=4096``, but the merge reads neither).
The two stuff filters exist here as options, off by default.

Output follows MMDetection: ``label + id * INSTANCE_OFFSET`` for things (ids from
1), the label for stuff, ``num_classes`` (VOID) elsewhere.

Deviation from the official implementation: stuff pixels carry no instance id
(MMDetection's encoding; the official code numbers stuff segments too).
"""
from typing import Optional, Tuple

import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from torch import Tensor


def kernel_scores(cls_scores: Tensor, num_proposals: int,
                  num_thing_classes: int) -> Tuple[Tensor, Tensor]:
    """Score and label of each kernel: a thing kernel's best thing class, a stuff
    kernel's own class.

    Args:
        cls_scores (Tensor): (N + S, num_classes) sigmoid scores, N thing kernels
            followed by one kernel per stuff class.
        num_proposals (int): N.
        num_thing_classes (int): Number of thing classes.

    Returns:
        tuple[Tensor, Tensor]: scores (N + S,) and labels (N + S,).
    """
    thing_scores, thing_labels = cls_scores[:num_proposals, :num_thing_classes].max(dim=1)
    stuff_scores = cls_scores[num_proposals:, num_thing_classes:].diagonal()  # (S,)
    stuff_labels = torch.arange(len(stuff_scores), device=cls_scores.device) + \
        num_thing_classes
    return torch.cat([thing_scores, stuff_scores]), torch.cat([thing_labels, stuff_labels])


def merge_stuff_thing(mask_probs: Tensor, labels: Tensor, scores: Tensor,
                      num_thing_classes: int, num_classes: int, overlap_thr: float = 0.6,
                      instance_score_thr: float = 0.3,
                      stuff_score_thr: Optional[float] = None,
                      stuff_max_area: Optional[int] = None,
                      mask_thr: float = 0.5) -> Tensor:
    """One panoptic map from the masks of all kernels.

    Args:
        mask_probs (Tensor): (K, H, W) mask probabilities.
        labels (Tensor): (K,) class of each kernel.
        scores (Tensor): (K,) score of each kernel.
        num_thing_classes (int): Labels below it are things.
        num_classes (int): All classes; the VOID label.
        overlap_thr (float): Minimum fraction of a kernel's own mask that it must
            keep. Defaults to 0.6.
        instance_score_thr (float): Minimum score of a thing. Defaults to 0.3.
        stuff_score_thr (float, optional): If set, minimum score of a stuff class.
            Defaults to None: no score filter on stuff, as in the official merge.
        stuff_max_area (int, optional): If set, minimum pixel area of a stuff
            region (named as in the official configs). Defaults to None: no area
            filter, as in the official merge.
        mask_thr (float): Probability from which a pixel is in a kernel's own
            mask. Defaults to 0.5.

    Returns:
        Tensor: (H, W) long panoptic map.
    """
    panoptic = torch.full(mask_probs.shape[-2:], num_classes, dtype=torch.long,
                          device=mask_probs.device)
    if len(scores) == 0:
        return panoptic
    owner = (scores[:, None, None] * mask_probs).max(dim=0).indices  # (H, W) kernel index
    # pixels each kernel wins, and its own mask's area: fixed before the visit
    areas = torch.bincount(owner.flatten(), minlength=len(scores)).tolist()  # (K,)
    own_areas = (mask_probs >= mask_thr).flatten(1).sum(dim=1).tolist()  # (K,)
    score_list, label_list = scores.tolist(), labels.tolist()
    instance_id = 1
    for k in torch.argsort(scores, descending=True).tolist():
        label, is_thing = label_list[k], label_list[k] < num_thing_classes
        score_thr = instance_score_thr if is_thing else stuff_score_thr
        if score_thr is not None and score_list[k] < score_thr:
            continue
        area, own_area = areas[k], own_areas[k]
        if area == 0 or own_area == 0 or area / own_area < overlap_thr:
            continue
        mask = owner == k
        if is_thing:
            panoptic[mask] = label + instance_id * INSTANCE_OFFSET
            instance_id += 1
        elif stuff_max_area is None or area >= stuff_max_area:
            panoptic[mask] = label
    return panoptic
