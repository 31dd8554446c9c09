"""K-Net's mask match cost (``MaskCost`` of the official ``MaskHungarianAssigner``,
github.com/ZwwWayne/K-Net, knet/det/mask_hungarian_assigner.py), as an MMDetection 3.x
match cost for :class:`~mmdet.models.task_modules.HungarianAssigner`.

The cost of kernel i for object j is minus the mean per-pixel agreement of the
predicted probability p_i with the target t_j:

    cost(i, j) = -1/(HW) · Σ_x [p_i(x) t_j(x) + (1 - p_i(x)) (1 - t_j(x))]

For binary targets this is the mean absolute difference |p_i - t_j| minus 1: it is
bounded (in [-1, 0]), unlike MMDetection's ``CrossEntropyLossCost``, so with the
official weights (mask 1, dice 4, class 2) no term dominates the matching.

Deviations from the official implementation: none in the value; the cost reads
``pred_instances.masks`` and ``gt_instances.masks`` (MMDetection 3.x interface)
and the softmax activation option is dropped (unused by the official configs).
"""
from typing import Optional, Union

import torch
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor


@TASK_UTILS.register_module()
class MaskAgreementCost(BaseMatchCost):
    """Minus the mean pixel agreement of mask probabilities and targets.

    Args:
        weight (float): Cost weight. Defaults to 1.
        pred_act (bool): Apply a sigmoid to the predictions (logits). Defaults to True.
    """

    def __init__(self, weight: Union[float, int] = 1., pred_act: bool = True) -> None:
        super().__init__(weight=weight)
        self.pred_act = pred_act

    def __call__(self, pred_instances: InstanceData, gt_instances: InstanceData,
                 img_meta: Optional[dict] = None, **kwargs) -> Tensor:
        """Cost matrix.

        Args:
            pred_instances (InstanceData): ``masks`` (N, H, W), logits if ``pred_act``
                else probabilities.
            gt_instances (InstanceData): ``masks`` (M, H, W), binary or soft targets.
            img_meta (dict | None): Unused.

        Returns:
            Tensor: (N, M) weighted costs.
        """
        probs = pred_instances.masks.flatten(1).float()  # (N, HW)
        if self.pred_act:
            probs = probs.sigmoid()
        targets = gt_instances.masks.flatten(1).to(probs)  # (M, HW)
        agreement = torch.einsum('nx,mx->nm', probs, targets) + \
            torch.einsum('nx,mx->nm', 1 - probs, 1 - targets)  # (N, M)
        return -agreement / probs.shape[1] * self.weight
