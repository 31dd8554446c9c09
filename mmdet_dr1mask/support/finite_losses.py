"""Refuse NaN or inf losses before they reach the weights."""
from typing import Dict, Tuple

import torch
from mmengine.logging import MessageHub
from torch import Tensor


class FiniteLossesMixin:
    """Overrides ``parse_losses`` of an MMEngine ``BaseModel`` to raise on a NaN or
    inf loss, naming the iteration and the loss.

    ``train_step`` calls ``parse_losses`` between the forward pass and the
    optimizer wrapper's backward and step, so raising there stops training
    before a non-finite loss reaches the weights or the optimizer state (a
    hook's ``after_train_iter`` would come after the step; MMDetection's
    ``CheckInvalidLossHook`` does, only every N iterations, without the name).
    Put it before the detector base class: ``class D(FiniteLossesMixin, BaseDetector)``.
    """

    def parse_losses(self, losses: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """MMEngine's sum of the losses, refusing NaN or inf ones.

        Raises:
            FloatingPointError: naming the iteration (1-based, as in the logs)
                and every non-finite loss.
        """
        loss, log_vars = super().parse_losses(losses)
        if not torch.isfinite(loss):
            bad = [f'{name}={value.item()}' for name, value in log_vars.items()
                   if name != 'loss' and not torch.isfinite(value).all()]
            it = MessageHub.get_current_instance().get_info('iter')
            where = f'iteration {it + 1}' if it is not None else 'this iteration'
            raise FloatingPointError(f'Non-finite loss at {where}: {", ".join(bad)}; '
                                     'the weights were not updated')
        return loss, log_vars
