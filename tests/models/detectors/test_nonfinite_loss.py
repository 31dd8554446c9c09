"""A NaN or inf loss stops training with the iteration and the loss name, weights untouched."""
import math
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, point_to_data
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


@HOOKS.register_module(force=True)
class PoisonLossAt(Hook):
    """From iteration ``at`` (0-based) on, ``loss_mask`` becomes ``value``; remembers the
    weights and optimizer state the poisoned iteration starts from."""

    def __init__(self, at: int, value: float) -> None:
        self.at, self.value = at, value
        self.before = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter != self.at:
            return
        model = runner.model
        self.before = dict(
            params={k: v.detach().clone() for k, v in model.named_parameters()},
            momentum={i: s['momentum_buffer'].clone() for i, s in
                      runner.optim_wrapper.optimizer.state_dict()['state'].items()})
        loss = model.loss

        def poisoned(*args, **kwargs):
            losses = loss(*args, **kwargs)
            losses['loss_mask'] = losses['loss_mask'] * self.value
            return losses

        model.loss = poisoned


@pytest.mark.parametrize('value', [math.nan, math.inf])
def test_nonfinite_loss_is_reported_before_the_step(synthetic_root, tmp_path, value):
    cfg = point_to_data(Config.fromfile(TINY), synthetic_root)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.update(max_iters=4, val_interval=100)
    cfg.default_hooks.checkpoint.interval = 100
    cfg.custom_hooks = [dict(type='PoisonLossAt', at=2, value=value)]
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError, match=r'iteration 3: loss_mask=(nan|inf)'):
        runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, PoisonLossAt))
    # parameters only: BatchNorm statistics move in the (finite) forward pass, as always
    for name, weight in runner.model.named_parameters():
        torch.testing.assert_close(weight, hook.before['params'][name], msg=name)
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    for i, buf in hook.before['momentum'].items():
        torch.testing.assert_close(state[i]['momentum_buffer'], buf)
    assert all(torch.isfinite(t).all() for t in runner.model.state_dict().values())
