from .kernel_mask_losses import kernel_mask_losses, rank_targets

__all__ = ['kernel_mask_losses', 'rank_targets']
