"""Gradient clipping from our configs: `optim_wrapper.clip_grad` (MMEngine's OptimWrapper)
bounds the norm of each step's gradient and logs the norm before clipping."""
import os.path as osp

import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmdet_dr1mask.support import retarget_data_root

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


@HOOKS.register_module(force=True)
class RecordWeightsBeforeStep(Hook):
    """Keeps the parameters the first iteration starts from (after weight init)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == 0:
            self.before = {n: p.detach().clone() for n, p in runner.model.named_parameters()}


def test_clip_grad_from_the_config_bounds_the_step(synthetic_root, tmp_path):
    cfg = retarget_data_root(Config.fromfile(TINY), synthetic_root)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)  # on by default
    max_norm, lr = 1e-3, 1.0
    cfg.merge_from_dict({
        'work_dir': str(tmp_path), 'train_cfg.max_iters': 1, 'train_cfg.val_interval': 100,
        'train_dataloader.batch_size': 2, 'param_scheduler': [],
        'default_hooks.checkpoint.interval': 100,
        'custom_hooks': [dict(type='RecordWeightsBeforeStep')],
        # plain SGD: the step is exactly -lr * (clipped gradient)
        'optim_wrapper.optimizer': dict(type='SGD', lr=lr, momentum=0, weight_decay=0),
        'optim_wrapper.clip_grad.max_norm': max_norm})
    runner = Runner.from_cfg(cfg)
    runner.train()
    before = next(h for h in runner.hooks if isinstance(h, RecordWeightsBeforeStep)).before
    step = torch.stack([torch.linalg.vector_norm(p.detach() - before[n])
                        for n, p in runner.model.named_parameters()])
    grad_norm = runner.message_hub.get_scalar('train/grad_norm').current()  # before clipping
    assert grad_norm > 100 * max_norm
    torch.testing.assert_close(torch.linalg.vector_norm(step).item() / lr, max_norm,
                               rtol=1e-3, atol=0)
