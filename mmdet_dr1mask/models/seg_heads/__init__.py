from .thing_semantic_head import ThingSemanticHead

__all__ = ['ThingSemanticHead']
