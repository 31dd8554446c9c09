"""The shared tool recipe: another data root, a shorter schedule, config loading, images,
a tool re-run as a child process."""
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config

from mmdet_dr1mask.support import (
    child_process,
    inference_pipeline,
    list_images,
    load_config,
    retarget_data_root,
    run_child,
    shorten_schedule,
)

PANOPTIC = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic-panoptic.py')
COCO = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r50_fpn_1x_coco.py')


def test_data_root_moves_every_loader_and_evaluator_path_with_the_same_layout():
    cfg = retarget_data_root(Config.fromfile(PANOPTIC), '/new/root')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.data_root == '/new/root/'
    panoptic, instances = cfg.val_evaluator
    assert panoptic.ann_file == '/new/root/annotations/panoptic_val.json'
    assert panoptic.seg_prefix == '/new/root/annotations/panoptic_val/'
    assert instances.ann_file == '/new/root/annotations/instances_val.json'
    assert cfg.test_evaluator[0].ann_file == '/new/root/annotations/panoptic_val.json'


def test_data_root_reaches_a_wrapped_dataset_and_names_a_missing_key():
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2, dataset=dict(type='CocoDataset', data_root='a/')))))
    retarget_data_root(cfg, 'b')
    assert cfg.train_dataloader.dataset.dataset.data_root == 'b/'
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[]))))
    with pytest.raises(KeyError, match='train_dataloader.dataset has no data_root'):
        retarget_data_root(cfg, 'b')


def test_shorter_schedule_drops_the_lr_at_fractions_and_evaluates_once_at_the_end():
    cfg = shorten_schedule(Config.fromfile(PANOPTIC), 600, lr_drops=(0.8, ))
    assert cfg.train_cfg.max_iters == 600 and cfg.train_cfg.val_interval == 600
    warmup, steps = cfg.param_scheduler
    assert warmup.end == 50  # the config's warm-up, shorter than the run, is kept
    assert (steps.end, steps.milestones) == (600, [480])
    assert cfg.default_hooks.checkpoint.interval == 600
    cfg = shorten_schedule(Config.fromfile(PANOPTIC), 30, val_interval=10)
    assert cfg.param_scheduler[0].end == 30 and cfg.param_scheduler[1].milestones == [25]
    assert cfg.train_cfg.val_interval == 10


def test_shorter_schedule_refuses_epoch_loops_and_nonpositive_lengths():
    knet = osp.join(REPO_ROOT, 'configs', 'knet', 'knet-s3_r50_fpn_1x_coco.py')
    with pytest.raises(ValueError, match='EpochBasedTrainLoop'):
        shorten_schedule(Config.fromfile(knet), 100)
    with pytest.raises(ValueError, match='iters must be >= 1'):
        shorten_schedule(Config.fromfile(PANOPTIC), 0)


def test_configs_load_from_paths_and_from_installed_packages():
    assert load_config(COCO).model.type == 'DR1Mask'
    cfg = load_config('mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py')
    assert cfg.model.type == 'CondInst'


def test_inference_pipeline_drops_annotation_loading_and_can_resize():
    steps = inference_pipeline(Config.fromfile(COCO), resize=(640, 384)).transforms
    names = [type(t).__name__ for t in steps]
    assert not any('Annotations' in n for n in names)
    assert steps[names.index('Resize')].scale == (640, 384)


def test_images_are_listed_by_name_with_any_case_of_extension(tmp_path):
    for name in ('b.JPG', 'a.png', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    assert list_images(str(tmp_path)) == [str(tmp_path / 'a.png'), str(tmp_path / 'b.JPG')]
    with pytest.raises(FileNotFoundError, match='missing is not a folder'):
        list_images(str(tmp_path / 'missing'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no image files'):
        list_images(str(tmp_path / 'empty'))


def test_a_tool_runs_itself_as_a_child_with_the_checkout_on_its_path(tmp_path):
    script = tmp_path / 'tool.py'
    script.write_text(
        'import os, sys\n'
        "if sys.argv[1:2] == ['child']:\n"
        "    print(os.getcwd(), os.environ['PYTHONPATH'].split(os.pathsep)[0], *sys.argv[2:])\n")
    out = subprocess.run(capture_output=True, text=True, check=True,
                         **child_process(str(script), 'a', 'b', root=str(tmp_path))).stdout
    assert out.split() == [str(tmp_path), str(tmp_path), 'a', 'b']
    assert child_process(str(script), root=REPO_ROOT)['args'][0] == sys.executable


def test_run_child_dispatches_child_arguments_and_passes_the_others_through():
    seen = []
    assert run_child(['child', 'x', '1'], seen.append) is None
    assert seen == [['x', '1']]
    assert run_child(['--out', 'r.json'], seen.append) == ['--out', 'r.json']
    assert seen == [['x', '1']]
