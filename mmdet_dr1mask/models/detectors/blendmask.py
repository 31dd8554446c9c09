"""BlendMask (Chen et al., CVPR 2020), the baseline of DR1Mask's Tables 8–9."""
from mmdet.registry import MODELS

from .blender_segmentor import BlenderSegmentor


@MODELS.register_module()
class BlendMask(BlenderSegmentor):
    """BlendMask from the same parts as DR1Mask.

    ``bbox_head``: ``DR1FCOSHead`` without context (``context_channels=0``);
    ``basis_head``: ``BlendMaskBasis`` (P3–P5, 128 channels, 4 bases at stride 4);
    ``mask_head``: ``BlenderHead(attention='full', use_projection=False)``
    (784-long embedding); ``semantic_head``: ``ThingSemanticHead`` on P3.
    See :class:`BlenderSegmentor` for the arguments.
    """
