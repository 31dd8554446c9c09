"""A config naming an unknown type fails with MMEngine's error naming the type and the
registry, before any training."""
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from mmdet_dr1mask.support import retarget_data_root

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


@pytest.mark.parametrize('key,typo,registry', [
    ('model.bbox_head.type', 'DR1FCOSHeed', 'model'),
    ('train_dataloader.dataset.type', 'CheckedCocoDatset', 'dataset'),
    ('custom_hooks', [dict(type='NoSuchHook')], 'hook'),
    ('optim_wrapper.optimizer.type', 'SDG', 'optimizer'),  # ours: MMEngine's is a TypeError
])
def test_unknown_type_is_named(synthetic_root, tmp_path, key, typo, registry):
    cfg = retarget_data_root(Config.fromfile(TINY), synthetic_root)
    cfg.merge_from_dict({key: typo, 'work_dir': str(tmp_path), 'train_cfg.max_iters': 1})
    name = typo if isinstance(typo, str) else typo[0]['type']
    with pytest.raises(KeyError, match=rf'{name} is not in the mmdet::{registry} registry'):
        Runner.from_cfg(cfg).train()


def test_unknown_pipeline_transform_is_named(synthetic_root, tmp_path):
    cfg = retarget_data_root(Config.fromfile(TINY), synthetic_root)
    cfg.train_dataloader.dataset.pipeline[2].type = 'Resise'
    cfg.work_dir = str(tmp_path)
    with pytest.raises(KeyError, match='Resise is not in the mmdet::transform registry'):
        Runner.from_cfg(cfg).train()
