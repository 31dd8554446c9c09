from .checkpoint import mmengine_checkpoint_globals, register_checkpoint_safe_globals
from .launch import adapt_distributed_to_cpu
from .pretrained import load_torchvision_name

__all__ = ['adapt_distributed_to_cpu', 'load_torchvision_name', 'mmengine_checkpoint_globals',
           'register_checkpoint_safe_globals']
