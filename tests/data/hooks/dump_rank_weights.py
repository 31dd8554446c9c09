"""Test-only hook: every rank writes its final parameters to work_dir/rank{R}_weights.pth.

Only parameters: BN running statistics are per process under DDP with
``broadcast_buffers=False`` (MMEngine's default), unless SyncBN is used.
"""
import os.path as osp

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class DumpRankWeights(Hook):

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(dict(model.named_parameters()), osp.join(runner.work_dir,
                                                f'rank{runner.rank}_weights.pth'))
