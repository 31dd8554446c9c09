from .checkpoint import mmengine_checkpoint_globals, register_checkpoint_safe_globals
from .launch import adapt_distributed_to_cpu

__all__ = ['adapt_distributed_to_cpu', 'mmengine_checkpoint_globals',
           'register_checkpoint_safe_globals']
