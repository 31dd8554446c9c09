"""A terminal progress bar with ETA for iteration-based training."""
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from tqdm import tqdm


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Shows ``tqdm`` progress (iterations, rate, ETA and the current loss).

    Only rank 0 draws. Complements MMEngine's ``LoggerHook`` lines.

    Args:
        desc: text in front of the bar.
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'train') -> None:
        self.desc = desc
        self._bar: Optional[tqdm] = None

    def before_train(self, runner) -> None:
        if runner.rank == 0:
            self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc,
                             dynamic_ncols=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        if outputs and 'loss' in outputs:
            self._bar.set_postfix(loss=f'{float(outputs["loss"]):.3f}', refresh=False)
        self._bar.update(1)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
