"""K-Net (Zhang et al., NeurIPS 2021), the kernel-based baseline DR1Mask is compared with.

Everything K-Net needs that MMDetection lacks, in one folder: the detector, the semantic
FPN, the kernel heads, the kernel updator, its mask loss, matching cost and targets, and
the official panoptic merge.
"""
from .kernel_init_head import KNetKernelInitHead
from .kernel_iter_head import KernelIterHead
from .kernel_mask_losses import KernelMaskLoss, rank_targets
from .kernel_panoptic_merge import kernel_scores, merge_stuff_thing
from .kernel_targets import gt_masks_at_stride, match_kernels, stuff_kernel_targets
from .kernel_update_head import KernelUpdateHead
from .kernel_updator import KernelUpdator
from .knet import KNet
from .match_costs import MaskAgreementCost
from .semantic_fpn import KNetSemanticFPN

__all__ = ['KNet', 'KNetKernelInitHead', 'KNetSemanticFPN', 'KernelIterHead',
           'KernelMaskLoss', 'KernelUpdateHead', 'KernelUpdator', 'MaskAgreementCost',
           'gt_masks_at_stride', 'kernel_scores', 'match_kernels', 'merge_stuff_thing',
           'rank_targets', 'stuff_kernel_targets']
