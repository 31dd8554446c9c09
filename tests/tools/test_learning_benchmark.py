"""tools/analysis_tools/learning_benchmark.py gives every model the same recipe."""
import json
import os.path as osp
from argparse import Namespace
from pathlib import Path

import pytest
from conftest import REPO_ROOT, load_tool
from mmengine.config import Config
from mmengine.hub import get_config

CONFIGS = [osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r50_fpn_1x_coco.py'),
           osp.join(REPO_ROOT, 'configs', 'blendmask', 'blendmask_r50_fpn_1x_coco.py'),
           osp.join(REPO_ROOT, 'configs', 'knet', 'knet-s3_r50_fpn_1x_coco.py'),
           'mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py']
SHARED_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
               'train_cfg', 'optim_wrapper', 'param_scheduler', 'randomness')


def recipe_args(tmp_path) -> Namespace:
    return Namespace(backbone=str(tmp_path / 'r50.pth'), data_root=str(tmp_path / 'data'),
                     ann_file='ann.json', img_prefix='images/', iters=60, val_interval=30,
                     batch_size=2, lr=0.01, short_sides=[416, 480], workers=0,
                     frozen_stages=4, seed=0)


def test_every_config_gets_the_same_data_schedule_and_backbone(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    cfgs = [tool.apply_recipe(get_config(c) if '::' in c else Config.fromfile(c),
                              recipe_args(tmp_path), 'train.json', 'eval.json')
            for c in CONFIGS]
    for cfg in cfgs:
        backbone = cfg.model.backbone
        assert backbone.style == 'caffe' and backbone.norm_cfg.requires_grad is False
        assert backbone.frozen_stages == 4
        assert cfg.train_dataloader.dataset.ann_file == 'train.json'
        assert cfg.val_evaluator.ann_file == 'eval.json'
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
    assert table.splitlines()[-1] == '| m | 0.250 | 0.500 | - | 0.125 | - | - | 5.50 → 1.50 |'
    log.write_text(json.dumps({'coco/segm_mAP': 0.1}))
    with pytest.raises(ValueError, match='no training loss'):
        tool.main([str(summary)])


def test_own_optimizer_keeps_the_configs_optimizer(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    cfg = tool.apply_recipe(Config.fromfile(CONFIGS[2]), recipe_args(tmp_path), 'a.json',
                            'b.json', own_optimizer=True)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.param_scheduler[1].milestones == [45]


def _coco(num_images: int) -> dict:
    images = [dict(id=i, file_name=f'{i}.jpg', width=8, height=8)
              for i in range(num_images, 0, -1)]  # ids out of order on purpose
    anns = [dict(id=10 * i + k, image_id=i, category_id=1, bbox=[0, 0, 2, 2], area=4,
                 iscrowd=0, segmentation=[[0, 0, 2, 0, 2, 2]]) for i in range(1, num_images + 1)
            for k in range(2)]
    return dict(images=images, annotations=anns, categories=[dict(id=1, name='a')])


def test_subset_evaluates_on_the_trained_photos_only(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    (tmp_path / 'ann.json').write_text(json.dumps(_coco(5)))
    train, evaluate = tool.split_annotations(str(tmp_path / 'ann.json'), str(tmp_path / 'o'),
                                             num_photos=3)
    for path in (train, evaluate):
        part = json.loads(Path(path).read_text())
        assert [im['id'] for im in part['images']] == [1, 2, 3]
        assert sorted({a['image_id'] for a in part['annotations']}) == [1, 2, 3]
        assert len(part['annotations']) == 6


def test_holdout_trains_on_the_others_and_evaluates_on_the_last_photos(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    (tmp_path / 'ann.json').write_text(json.dumps(_coco(5)))
    train, evaluate = tool.split_annotations(str(tmp_path / 'ann.json'), str(tmp_path / 'o'),
                                             holdout=2)
    train, evaluate = json.loads(Path(train).read_text()), json.loads(Path(evaluate).read_text())
    assert [im['id'] for im in train['images']] == [1, 2, 3]
    assert [im['id'] for im in evaluate['images']] == [4, 5]
    assert {a['image_id'] for a in evaluate['annotations']} == {4, 5}
    with pytest.raises(ValueError, match='has 5 photos'):
        tool.split_annotations(str(tmp_path / 'ann.json'), str(tmp_path / 'o'), holdout=5)


def test_mask_ap_plot_has_one_line_per_model(tmp_path):
    tool = load_tool('analysis_tools/learning_benchmark.py')
    runs = [dict(model=m, history=[{'step': 100, 'coco/segm_mAP': 0.1},
                                   {'step': 200, 'coco/segm_mAP': 0.3}]) for m in 'ab']
    tool.plot_mask_ap(runs, str(tmp_path / 'ap.png'))
    assert (tmp_path / 'ap.png').stat().st_size > 0


def test_missing_photos_are_named_before_anything_runs(tmp_path, capsys):
    backbone = tmp_path / 'r50.pth'
    backbone.write_bytes(b'')
    tool = load_tool('analysis_tools/learning_benchmark.py')
    with pytest.raises(SystemExit):
        tool.parse_args([CONFIGS[0], '--work-dir', str(tmp_path / 'work'),
                         '--backbone', str(backbone), '--data-root', str(tmp_path / 'none')])
    assert osp.join(str(tmp_path / 'none'), 'instances_coco128seg.json') in capsys.readouterr().err
