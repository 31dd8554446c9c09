"""MaskAgreementCost: the official K-Net mask cost, as an MMDetection 3.x match cost."""
import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

import mmdet_dr1mask  # noqa: F401


def test_binary_targets_give_mean_absolute_difference_minus_one():
    cost = TASK_UTILS.build(dict(type='MaskAgreementCost', weight=2.0))
    logits = torch.randn(5, 6, 7)
    targets = (torch.rand(3, 6, 7) > 0.5).float()
    out = cost(InstanceData(masks=logits), InstanceData(masks=targets))
    probs = logits.sigmoid()
    expected = torch.stack([torch.stack([(p - t).abs().mean() - 1 for t in targets])
                            for p in probs])
    assert out.shape == (5, 3)
    torch.testing.assert_close(out, 2.0 * expected)


def test_probabilities_without_activation_and_bounds():
    cost = TASK_UTILS.build(dict(type='MaskAgreementCost', pred_act=False))
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1
    probs = torch.stack([target[0], 1 - target[0], torch.full((4, 4), 0.5)])
    out = cost(InstanceData(masks=probs), InstanceData(masks=target))[:, 0]
    torch.testing.assert_close(out, torch.tensor([-1.0, 0.0, -0.5]))  # in [-1, 0]
