from .aligned_upsample import UPSAMPLE_MODES, aligned_upsample2x, sample_at_stride, upsample_like
from .dr1_conv import DR1Conv

__all__ = ['UPSAMPLE_MODES', 'DR1Conv', 'aligned_upsample2x', 'sample_at_stride',
           'upsample_like']
