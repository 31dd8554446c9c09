from .blendmask_basis import BlendMaskBasis
from .dr1_basis import DR1Basis
from .knet_semantic_fpn import KNetSemanticFPN

__all__ = ['BlendMaskBasis', 'DR1Basis', 'KNetSemanticFPN']
