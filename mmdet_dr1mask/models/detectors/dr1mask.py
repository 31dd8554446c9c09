"""DR1Mask (paper Fig. 2): ResNet-FPN, DR1FCOSHead, DR1Basis, BlenderHead."""
from mmdet.registry import MODELS

from .blender_segmentor import BlenderSegmentor


@MODELS.register_module()
class DR1Mask(BlenderSegmentor):
    """DR1Mask for instance segmentation.

    ``bbox_head`` is a ``DR1FCOSHead`` whose contexts feed a ``DR1Basis``
    (``basis_head``); a ``BlenderHead`` (``mask_head``, factored attention by
    default) makes the masks; ``semantic_head`` is the auxiliary thing
    segmentation on F. See :class:`BlenderSegmentor` for the arguments.
    """
