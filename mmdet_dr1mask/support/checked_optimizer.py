"""MMEngine's optimizer-wrapper constructor, with a clear error for an unknown optimizer."""
import torch.nn as nn
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CheckedOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """:class:`mmengine.optim.DefaultOptimWrapperConstructor` that checks the optimizer type.

    MMEngine's constructor looks the type up without checking it and fails
    with ``TypeError: None is not a callable object``; every other unknown
    type of a config gets a ``KeyError`` naming it and its registry.

    Raises:
        KeyError: naming ``optim_wrapper.optimizer.type`` and the registry.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        optim_type = self.optimizer_cfg.get('type')
        if isinstance(optim_type, str) and OPTIMIZERS.get(optim_type) is None:
            raise KeyError(f'optim_wrapper.optimizer.type={optim_type!r}: {optim_type} is not '
                           f'in the {OPTIMIZERS.scope}::{OPTIMIZERS.name} registry')
        return super().__call__(model)
