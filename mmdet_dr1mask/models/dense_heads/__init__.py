from .dr1_fcos_head import DR1FCOSHead
from .knet_kernel_init_head import KNetKernelInitHead

__all__ = ['DR1FCOSHead', 'KNetKernelInitHead']
