"""MMDetection's visualizer, drawing a panoptic map without any segment instead of failing."""
from typing import List, Optional

import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData


@VISUALIZERS.register_module()
class CheckedDetLocalVisualizer(DetLocalVisualizer):
    """:class:`mmdet.visualization.DetLocalVisualizer` that draws a panoptic map holding
    nothing but VOID (no segment: a 1x1 image, or a prediction with nothing above its
    thresholds) as the bare image.

    MMDetection's ``_draw_panoptic_seg`` stacks the areas of the segments and fails with
    ``ValueError: need at least one array to stack`` when there are none, which ended
    ``tools/demo.py`` and ``tools/test.py --show-dir``.
    """

    def _draw_panoptic_seg(self, image: np.ndarray, panoptic_seg: PixelData,
                           classes: Optional[List[str]],
                           palette: Optional[List]) -> np.ndarray:
        if 'label_names' in panoptic_seg:  # open-set maps name their own VOID, as upstream
            void = panoptic_seg.metainfo.get('ignore_index',
                                             len(panoptic_seg.metainfo['label_names']))
        else:
            void = len(classes)
        if bool((panoptic_seg.sem_seg[0] == void).all()):
            return image
        return super()._draw_panoptic_seg(image, panoptic_seg, classes, palette)
