"""The parts serve in models other than DR1Mask: every config under configs/reuse trains a
few iterations with MMEngine's runner and is evaluated on the synthetic validation images.

``fcos_dr1head_*``: DR1FCOSHead as the bbox_head of MMDetection's stock FCOS detector
(FCOSHead's loss/predict contract); ``blendmask-dr1basis_*``: DR1Basis inside BlendMask.
"""
import glob
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from mmdet_dr1mask.support import retarget_data_root

REUSE_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'reuse', '*.py')))


def test_reuse_configs_are_found():
    names = [osp.basename(p) for p in REUSE_CONFIGS]
    assert 'fcos_dr1head_r18_fpn_tiny_synthetic.py' in names
    assert 'blendmask-dr1basis_r18_fpn_tiny_synthetic.py' in names


@pytest.mark.parametrize('path', REUSE_CONFIGS, ids=osp.basename)
def test_reuse_config_trains_and_evaluates(path, synthetic_root, tmp_path):
    cfg = retarget_data_root(Config.fromfile(path), synthetic_root)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.train_dataloader.batch_size = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 3
    cfg.model.test_cfg.score_thr = 0.0  # nearly untrained: keep detections to evaluate
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert 'coco/bbox_mAP' in metrics
    if 'blendmask' in osp.basename(path):
        assert 'coco/segm_mAP' in metrics
        assert type(runner.model.basis_head).__name__ == 'DR1Basis'
    else:
        assert type(runner.model).__name__ == 'FCOS'
        assert type(runner.model.bbox_head).__name__ == 'DR1FCOSHead'
