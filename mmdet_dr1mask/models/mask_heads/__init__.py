from .blender_attention import FactoredAttention, FullAttention, VectorAttention
from .blender_head import BlenderHead, paste_masks

__all__ = ['BlenderHead', 'FactoredAttention', 'FullAttention', 'VectorAttention',
           'paste_masks']
