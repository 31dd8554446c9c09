from .kernel_targets import gt_masks_at_stride, match_kernels, stuff_kernel_targets

__all__ = ['gt_masks_at_stride', 'match_kernels', 'stuff_kernel_targets']
