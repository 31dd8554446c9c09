"""A NaN or inf loss stops training with the iteration and the loss name, weights and
optimizer state untouched (DR1Mask with SGD, K-Net with AdamW)."""
import math
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmdet_dr1mask.support import retarget_data_root

CONFIGS = osp.join(REPO_ROOT, 'configs')
TINY_DR1MASK = osp.join(CONFIGS, 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')
TINY_KNET = osp.join(CONFIGS, 'knet', 'knet-s3_r18_fpn_tiny_synthetic.py')


@HOOKS.register_module(force=True)
class PoisonLossAt(Hook):
    """From iteration ``at`` (0-based) on, the loss ``name`` becomes ``value``; remembers
    the weights and optimizer state the poisoned iteration starts from."""

    def __init__(self, at: int, name: str, value: float) -> None:
        self.at, self.name, self.value = at, name, value
        self.before = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter != self.at:
            return
        model = runner.model
        self.before = dict(
            params={k: v.detach().clone() for k, v in model.named_parameters()},
            optim={i: {k: v.clone() for k, v in s.items() if torch.is_tensor(v)}
                   for i, s in runner.optim_wrapper.optimizer.state_dict()['state'].items()})
        loss = model.loss

        def poisoned(*args, **kwargs):
            losses = loss(*args, **kwargs)
            losses[self.name] = losses[self.name] * self.value
            return losses

        model.loss = poisoned


@pytest.mark.parametrize('config,loss_name', [(TINY_DR1MASK, 'loss_mask'),
                                              (TINY_KNET, 's2.loss_mask')],
                         ids=['DR1Mask', 'KNet'])
@pytest.mark.parametrize('value', [math.nan, math.inf])
def test_nonfinite_loss_is_reported_before_the_step(synthetic_root, tmp_path, config,
                                                    loss_name, value):
    cfg = retarget_data_root(Config.fromfile(config), synthetic_root)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.update(max_iters=4, val_interval=100)
    cfg.default_hooks.checkpoint.interval = 100
    cfg.custom_hooks = [dict(type='PoisonLossAt', at=2, name=loss_name, value=value)]
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError,
                       match=rf'iteration 3: {loss_name}=(nan|inf); the weights were not'):
        runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, PoisonLossAt))
    # parameters only: BatchNorm statistics move in the (finite) forward pass, as always
    for name, weight in runner.model.named_parameters():
        torch.testing.assert_close(weight, hook.before['params'][name], msg=name)
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    assert hook.before['optim']  # two steps taken: momentum / Adam moments exist
    for i, tensors in hook.before['optim'].items():
        for key, value in tensors.items():
            torch.testing.assert_close(state[i][key], value, msg=f'{i}.{key}')
    assert all(torch.isfinite(t).all() for t in runner.model.state_dict().values())
