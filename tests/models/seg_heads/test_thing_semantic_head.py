"""ThingSemanticHead: auxiliary thing segmentation with on-the-fly targets."""
import numpy as np
import pytest
import torch
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmdet_dr1mask.models.seg_heads import ThingSemanticHead


def instances(boxes, labels, size=(16, 16)):
    masks = np.zeros((len(boxes), *size), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        masks[i, y1:y2, x1:x2] = 1
    return InstanceData(bboxes=torch.tensor(boxes).float().reshape(-1, 4),
                        labels=torch.tensor(labels).long(), masks=BitmapMasks(masks, *size))


def test_targets_from_masks_small_on_top_padding_and_crowd_ignored():
    head = ThingSemanticHead(in_channels=4, num_classes=3, in_stride=4)
    gt = instances([(0, 0, 16, 12), (4, 4, 8, 8)], [0, 2])  # a big one and a small one on it
    crowd = instances([(12, 0, 16, 4)], [1])
    meta = dict(img_shape=(12, 16))  # rows 12..15 are padding
    target = head.get_targets([gt], [meta], (4, 4), [crowd])[0]
    assert target.tolist() == [
        [0, 0, 0, 255],     # crowd region ignored
        [0, 2, 0, 0],       # the small instance stays visible
        [0, 0, 0, 0],
        [255, 255, 255, 255]]  # padding


def test_background_is_the_last_class():
    head = ThingSemanticHead(in_channels=4, num_classes=3, in_stride=8)
    target = head.get_targets([instances([], [])], [dict(img_shape=(16, 16))], (2, 2))[0]
    assert (target == 3).all()


@pytest.mark.parametrize('num_convs', [0, 2])
def test_loss_is_finite_positive_and_trains(num_convs):
    head = ThingSemanticHead(in_channels=4, num_classes=3, in_stride=4, num_convs=num_convs,
                             feat_channels=8)
    x = torch.randn(2, 4, 4, 4, requires_grad=True)
    gts = [instances([(0, 0, 8, 8)], [1]), instances([], [])]
    metas = [dict(img_shape=(16, 16))] * 2
    loss = head.loss(x, gts, metas)['loss_semantic']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert x.grad.abs().sum() > 0


def test_unknown_input_is_rejected():
    with pytest.raises(ValueError, match='input'):
        ThingSemanticHead(in_channels=4, num_classes=3, input='backbone')
