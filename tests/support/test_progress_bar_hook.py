"""ProgressBarHook counts iterations from where training (re)starts."""
from types import SimpleNamespace

import torch

from mmdet_dr1mask.support import ProgressBarHook


def test_bar_counts_iterations_from_the_resume_point_and_closes():
    runner = SimpleNamespace(rank=0, max_iters=10, iter=4)
    hook = ProgressBarHook()
    hook.before_train(runner)
    assert hook._bar.n == 4
    for i in range(3):
        hook.after_train_iter(runner, i, outputs=dict(loss=torch.tensor(1.5)))
    assert hook._bar.n == 7 and '1.500' in str(hook._bar.postfix)
    hook.after_train(runner)
    assert hook._bar is None


def test_only_rank_zero_draws():
    hook = ProgressBarHook()
    hook.before_train(SimpleNamespace(rank=1, max_iters=10, iter=0))
    hook.after_train_iter(None, 0)
    assert hook._bar is None
