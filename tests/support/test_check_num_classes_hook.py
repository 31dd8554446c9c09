"""CheckNumClassesHook: a num_classes that does not match the dataset's classes is named by
its config key before training or testing starts; matching configs pass."""
import os.path as osp
from types import SimpleNamespace

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmdet_dr1mask.support import (
    SYNTHETIC_INSTANCE_METAINFO,
    SYNTHETIC_PANOPTIC_METAINFO,
    CheckNumClassesHook,
    retarget_data_root,
)

CONFIGS = osp.join(REPO_ROOT, 'configs')
TINY = osp.join(CONFIGS, 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


def tiny_runner(synthetic_root, tmp_path, **model) -> Runner:
    cfg = retarget_data_root(Config.fromfile(TINY), synthetic_root)
    cfg.work_dir = str(tmp_path)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model.items()})
    return Runner.from_cfg(cfg)


def test_training_refuses_a_head_with_another_num_classes(synthetic_root, tmp_path):
    runner = tiny_runner(synthetic_root, tmp_path, **{'bbox_head.num_classes': 4})
    with pytest.raises(ValueError, match=r"model\.bbox_head\.num_classes=4 does not match the "
                       r"dataset: CheckedCocoDataset\(.*instances_train.json\) has 3 classes "
                       r"\('disk', 'box', 'triangle'\); expected 3"):
        runner.train()
    assert runner.iter == 0


def test_testing_refuses_a_head_with_another_num_classes(synthetic_root, tmp_path):
    runner = tiny_runner(synthetic_root, tmp_path, **{'semantic_head.num_classes': 2})
    with pytest.raises(ValueError, match=r'model\.semantic_head\.num_classes=2 .*'
                       r'instances_val.json'):
        runner.test()


@pytest.mark.parametrize('rel_path,metainfo', [
    ('dr1mask/dr1mask_r18_fpn_tiny_synthetic.py', SYNTHETIC_INSTANCE_METAINFO),
    ('dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py', SYNTHETIC_PANOPTIC_METAINFO),
    ('blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py', SYNTHETIC_PANOPTIC_METAINFO),
])
def test_matching_configs_pass_and_a_wrong_stuff_count_is_named(rel_path, metainfo):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(CONFIGS, rel_path))
    dataset = SimpleNamespace(metainfo=metainfo, ann_file='x.json')
    CheckNumClassesHook._check(MODELS.build(cfg.model), dataset)
    if 'panoptic_head' in cfg.model and cfg.model.panoptic_head:
        cfg.model.panoptic_head.num_stuff_classes = 5
        # num_classes (things + stuff, or stuff + 1) is the first count found wrong
        with pytest.raises(ValueError, match=r'model\.panoptic_head\.num_classes=\d+ .* '
                           r'\(3 things, 4 stuff\); expected 3 or 5 or 7'):
            CheckNumClassesHook._check(MODELS.build(cfg.model), dataset)
