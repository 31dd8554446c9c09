"""tools/analysis_tools/learning_benchmark.py gives every model the same recipe."""
import json
import os.path as osp
from argparse import Namespace

import pytest
from conftest import REPO_ROOT, load_tool
from mmengine.config import Config

CONFIGS = [osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r50_fpn_1x_coco.py'),
           osp.join(REPO_ROOT, 'configs', 'blendmask', 'blendmask_r50_fpn_1x_coco.py'),
           osp.join(REPO_ROOT, 'configs', 'knet', 'knet-s3_r50_fpn_1x_coco.py'),
           'mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py']
SHARED_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
               'train_cfg', 'optim_wrapper', 'param_scheduler', 'randomness')


def recipe_args(tmp_path) -> Namespace:
    return Namespace(backbone=str(tmp_path / 'r50.pth'), data_root=str(tmp_path / 'data'),
                     ann_file='ann.json', img_prefix='images/', iters=60, val_interval=30,
                     batch_size=2, lr=0.01, short_sides=[416, 480], workers=0)


def test_every_config_gets_the_same_data_schedule_and_backbone(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    bench = load_tool('analysis_tools/benchmark.py')
    cfgs = [tool.apply_recipe(Config.fromfile(bench.resolve_config(c)), recipe_args(tmp_path))
            for c in CONFIGS]
    for cfg in cfgs:
        backbone = cfg.model.backbone
        assert backbone.style == 'caffe' and backbone.norm_cfg.requires_grad is False
        assert backbone.init_cfg.checkpoint == str(tmp_path / 'r50.pth')
        assert cfg.model.data_preprocessor.std == [1.0, 1.0, 1.0]
        assert cfg.model.data_preprocessor.bgr_to_rgb is False
        assert cfg.train_cfg.max_iters == 60 and cfg.param_scheduler[1].milestones == [45]
        resize = cfg.train_dataloader.dataset.pipeline[2]
        assert resize.scales == [(693, 416), (800, 480)]
        for key in SHARED_KEYS:
            assert cfgs[0][key] == cfg[key], key
    # the heads stay each model's own
    assert [c.model.type for c in cfgs] == ['DR1Mask', 'BlendMask', 'KNet', 'CondInst']


def test_the_last_evaluation_is_collected_and_a_missing_run_is_an_error(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    with pytest.raises(FileNotFoundError, match='no scalars.json'):
        tool.last_scalars(str(tmp_path))
    log = tmp_path / '20261122_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    records = [dict(loss=2.0, iter=10), dict({'coco/segm_mAP': 0.1}, step=30),
               dict(loss=1.0, iter=40), dict({'coco/segm_mAP': 0.2}, step=60)]
    log.write_text('\n'.join(json.dumps(r) for r in records))
    assert tool.last_scalars(str(tmp_path))['coco/segm_mAP'] == 0.2


def test_table_shows_final_aps_and_the_mean_first_and_last_losses(tmp_path):
    tool = load_tool('analysis_tools/learning_table.py')
    log = tmp_path / 'scalars.json'
    records = [dict(loss=v, lr=0.01, iter=i) for i, v in enumerate([6., 5., 4., 3., 2., 1.])]
    records.insert(3, {'coco/segm_mAP': 0.1, 'step': 3})  # evaluations are skipped
    log.write_text('\n'.join(json.dumps(r) for r in records))
    summary = tmp_path / 'summary.json'
    summary.write_text(json.dumps(dict(runs=[
        {'model': 'm', 'log': str(log), 'coco/bbox_mAP': 0.25, 'coco/bbox_mAP_50': 0.5,
         'coco/segm_mAP': 0.125}])))
    table = tool.main([str(summary), '--window', '2'])
    assert table.splitlines()[-1] == '| m | 0.250 | 0.500 | 0.125 | - | 5.50 → 1.50 |'
    log.write_text(json.dumps({'coco/segm_mAP': 0.1}))
    with pytest.raises(ValueError, match='no training loss'):
        tool.main([str(summary)])
