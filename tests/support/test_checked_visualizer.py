"""CheckedDetLocalVisualizer draws a panoptic map without any segment (all VOID) as the
bare image, where MMDetection's visualizer fails."""
import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData

from mmdet_dr1mask.support import SYNTHETIC_PANOPTIC_METAINFO, CheckedDetLocalVisualizer

NUM_CLASSES = len(SYNTHETIC_PANOPTIC_METAINFO['classes'])  # VOID is this id


def sample_with(panoptic: np.ndarray) -> DetDataSample:
    sample = DetDataSample()
    sample.pred_panoptic_seg = PixelData(sem_seg=torch.from_numpy(panoptic[None]))
    return sample


def draw(visualizer_type, name: str, panoptic: np.ndarray) -> np.ndarray:
    visualizer = visualizer_type(name=name)
    visualizer.dataset_meta = SYNTHETIC_PANOPTIC_METAINFO
    image = np.full((*panoptic.shape, 3), 90, dtype=np.uint8)
    visualizer.add_datasample('x', image, sample_with(panoptic), draw_gt=False)
    return visualizer.get_image()


def test_a_map_of_void_only_is_drawn_as_the_bare_image():
    void = np.full((6, 8), NUM_CLASSES, dtype=np.int64)
    with pytest.raises(ValueError, match='need at least one array to stack'):
        draw(DetLocalVisualizer, 'upstream_void', void)  # the failure this class avoids
    drawn = draw(CheckedDetLocalVisualizer, 'checked_void', void)
    assert (drawn == 90).all()


def test_a_map_with_segments_is_drawn_as_upstream_draws_it():
    panoptic = np.full((32, 40), NUM_CLASSES, dtype=np.int64)
    panoptic[4:20, 6:30] = 0 + 1 * INSTANCE_OFFSET  # a thing of class 0
    panoptic[20:, :] = 4  # a stuff class
    expected = draw(DetLocalVisualizer, 'upstream_segments', panoptic)
    drawn = draw(CheckedDetLocalVisualizer, 'checked_segments', panoptic)
    np.testing.assert_array_equal(drawn, expected)
    assert (drawn != 90).any()
