from .dr1_fcos_head import DR1FCOSHead

__all__ = ['DR1FCOSHead']
