from .kernel_mask_losses import KernelMaskLoss, rank_targets

__all__ = ['KernelMaskLoss', 'rank_targets']
