from .aligned_upsample import UPSAMPLE_MODES, aligned_upsample2x, upsample_like
from .dr1_conv import DR1Conv
from .kernel_updator import KernelUpdator

__all__ = ['UPSAMPLE_MODES', 'DR1Conv', 'KernelUpdator', 'aligned_upsample2x', 'upsample_like']
