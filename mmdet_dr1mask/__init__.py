"""DR1Mask for MMDetection 3.x.

Importing this package registers its modules into MMDetection's registries (a
config only needs ``custom_imports=dict(imports=['mmdet_dr1mask'])``) and lets
torch >= 2.6 load MMEngine checkpoints (see :mod:`mmdet_dr1mask.utils.checkpoint`).
"""
from . import datasets, engine, models  # noqa: F401  (registers the modules)
from .utils import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = ['__version__']
