from .dr1_panoptic_head import DR1PanopticHead
from .thing_semantic_head import ThingSemanticHead

__all__ = ['DR1PanopticHead', 'ThingSemanticHead']
