"""DR1Mask for MMDetection 3.x.

Importing this package registers its modules into MMDetection's registries (a
config only needs ``custom_imports=dict(imports=['mmdet_dr1mask'])``) and lets
torch >= 2.6 load MMEngine checkpoints, naming a file that cannot be read (see
:mod:`mmdet_dr1mask.support.checkpoint`).
Four sub-packages: ``models`` (DR1Mask and BlendMask), ``knet`` (the K-Net baseline),
``evaluation`` (COCO metrics with their edge cases handled) and ``support`` (engineering
shared by all, not part of any model).
"""
from . import evaluation, knet, models, support  # noqa: F401  (registers the modules)
from .version import __version__

support.register_checkpoint_safe_globals()
support.register_checked_local_loader()

__all__ = ['__version__']
