from .blender_segmentor import BlenderSegmentor
from .blendmask import BlendMask
from .dr1mask import DR1Mask

__all__ = ['BlendMask', 'BlenderSegmentor', 'DR1Mask']
