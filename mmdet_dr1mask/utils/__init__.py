from .checkpoint import mmengine_checkpoint_globals, register_checkpoint_safe_globals

__all__ = ['mmengine_checkpoint_globals', 'register_checkpoint_safe_globals']
