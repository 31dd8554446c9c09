"""Random number generator states saved in checkpoints, so a resumed run continues exactly."""
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

CHECKPOINT_KEY = 'random_states'


def get_random_states() -> Dict[str, Any]:
    """The states of Python's, NumPy's and torch's (CPU and CUDA) global generators, in
    types ``torch.load(weights_only=True)`` reads without an allow-list."""
    name, key, *rest = np.random.get_state()
    # np.random.set_state takes the key as any sequence: a list, not a numpy array
    states = dict(python=random.getstate(), numpy=(name, key.tolist(), *rest),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: Dict[str, Any]) -> None:
    """Restore states returned by :func:`get_random_states`."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


class _RestoreAfterSkip:
    """Stands in for ``IterBasedTrainLoop.dataloader_iterator`` during the resume skip.

    MMEngine's loop draws (and discards) the ``skip`` batches already trained on
    before the first new one. With ``num_workers=0`` that runs the pipeline's
    random transforms in this process, so the states must be restored after the
    skip, not before it. The original iterator is put back afterwards.
    """

    def __init__(self, loop, skip: int, states: Dict[str, Any]) -> None:
        self._loop, self._inner = loop, loop.dataloader_iterator
        self._left, self._states = skip, states

    def __iter__(self) -> '_RestoreAfterSkip':
        return self

    def __next__(self):
        batch = next(self._inner)
        self._left -= 1
        if self._left == 0:
            set_random_states(self._states)
            self._loop.dataloader_iterator = self._inner
        return batch


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the generators' states in each checkpoint and restores them on resume.

    MMEngine only re-seeds on resume, so the iterations after a resume draw
    different random numbers (positive sampling in the blenders, augmentation
    with ``num_workers=0``) than an uninterrupted run. With this hook, and
    ``randomness=dict(seed=..., deterministic=True)``, they draw the same ones.

    The states are rank 0's (only rank 0 writes checkpoints), so they are
    restored only in single-process runs; multi-process runs are re-seeded as
    before. Loading weights with ``load_from`` (no resume) restores nothing.

    Validation draws random numbers too (creating its dataloader's iterator draws
    a seed from torch's generator), after the checkpoint of the same iteration is
    saved: a run resumed from that checkpoint starts from the states before the
    validation, the uninterrupted run from those after it, and their losses part.
    ``isolate_validation=True`` gives the generators back to training as validation
    found them, so a resumed run repeats the uninterrupted one with periodic
    validation too. It is off by default because it changes the random numbers of
    every run that validates during training (from the first validation on).

    Args:
        isolate_validation: restore the generators' states after each validation.
    """

    priority = 'VERY_LOW'

    def __init__(self, isolate_validation: bool = False) -> None:
        self.isolate_validation = isolate_validation
        self._pending: Optional[Dict[str, Any]] = None
        self._before_val: Optional[Dict[str, Any]] = None

    def before_val(self, runner) -> None:
        if self.isolate_validation:
            self._before_val = get_random_states()

    def after_val(self, runner) -> None:
        states, self._before_val = self._before_val, None
        if states is not None:
            set_random_states(states)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = get_random_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get(CHECKPOINT_KEY)

    def before_train_epoch(self, runner) -> None:
        states, self._pending = self._pending, None
        if states is None or runner.iter == 0:  # not a resume (or an old checkpoint)
            return
        if runner.world_size > 1:
            print_log('RandomStateHook: multi-process run, random states re-seeded, not '
                      'restored', logger='current')
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # IterBasedTrainLoop skips runner.iter batches
            loop.dataloader_iterator = _RestoreAfterSkip(loop, runner.iter, states)
        else:  # EpochBasedTrainLoop resumes at an epoch boundary, without a skip
            set_random_states(states)
