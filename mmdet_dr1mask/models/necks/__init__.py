from .blendmask_basis import BlendMaskBasis
from .dr1_basis import DR1Basis

__all__ = ['BlendMaskBasis', 'DR1Basis']
