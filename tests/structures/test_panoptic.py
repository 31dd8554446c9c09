"""Ground truth encoded in MMDetection's panoptic prediction format."""
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET

from mmdet_dr1mask.structures import panoptic_map_from_gt


def test_stuff_things_and_void_are_encoded_as_mmdetection_expects():
    # 2 thing classes (0, 1), 2 stuff classes (2, 3); 255 = void
    sem = torch.tensor([[2, 2, 3, 255],
                        [0, 0, 3, 3],
                        [1, 1, 1, 3]])
    masks = torch.zeros(2, 3, 4, dtype=torch.bool)
    masks[0, 1, :2] = True
    masks[1, 2, :3] = True
    pan = panoptic_map_from_gt(sem, masks, torch.tensor([0, 1]), num_things=2, num_classes=4)
    assert pan.tolist() == [
        [2, 2, 3, 4],
        [0 + INSTANCE_OFFSET, 0 + INSTANCE_OFFSET, 3, 3],
        [1 + 2 * INSTANCE_OFFSET] * 3 + [3]]


def test_thing_pixels_without_an_instance_mask_are_void():
    # a crowd region: thing label in sem_seg but no (non-crowd) instance mask
    sem = torch.tensor([[0, 2]])
    pan = panoptic_map_from_gt(sem, torch.zeros(0, 1, 2, dtype=torch.bool),
                               torch.zeros(0, dtype=torch.long), num_things=2, num_classes=3)
    assert pan.tolist() == [[3, 2]]


def test_mask_label_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match='2 masks but 1 labels'):
        panoptic_map_from_gt(torch.zeros(2, 2), torch.zeros(2, 2, 2, dtype=torch.bool),
                             torch.zeros(1), num_things=1, num_classes=2)
