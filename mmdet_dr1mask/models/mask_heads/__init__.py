from .blender_attention import FactoredAttention, FullAttention, VectorAttention
from .blender_head import BlenderHead, paste_masks
from .kernel_iter_head import KernelIterHead
from .kernel_update_head import KernelUpdateHead

__all__ = ['BlenderHead', 'FactoredAttention', 'FullAttention', 'KernelIterHead',
           'KernelUpdateHead', 'VectorAttention', 'paste_masks']
