"""Training logs: scalars go to TensorBoard when installed; curves plot to PNG, metrics at
their iteration."""
import glob
import importlib.util
import os.path as osp

import cv2
import pytest
from conftest import load_tool

TB = importlib.util.find_spec('tensorboard') is not None


@pytest.fixture(scope='module')
def trained_work_dir(synthetic_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('train'))
    tiny = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'dr1mask',
                    'dr1mask_r18_fpn_tiny_synthetic.py')
    load_tool('train.py').main([tiny, '--work-dir', work_dir, '--data-root', synthetic_root,
                                '--iters', '4', '--cfg-options',
                                'default_hooks.logger.interval=1',
                                'model.test_cfg.score_thr=0.0',
                                # MMEngine reuses a visualizer of the same name created by an
                                # earlier test in this process (with its old log folder)
                                f'visualizer.name=logs_test_{osp.basename(work_dir)}'])
    return work_dir


@pytest.mark.skipif(not TB, reason='tensorboard is not installed')
def test_scalars_go_to_tensorboard(trained_work_dir):
    assert glob.glob(osp.join(trained_work_dir, '*', 'vis_data', 'events.out.tfevents.*'))


def test_plot_curve_draws_losses_and_metrics(trained_work_dir, tmp_path):
    tool = load_tool('analysis_tools/analyze_logs.py')
    log = glob.glob(osp.join(trained_work_dir, '*', 'vis_data', 'scalars.json'))[0]
    series = tool.load_scalars(log)
    assert len(series['loss'][0]) == 4 and 'coco/segm_mAP' in series
    assert series['coco/segm_mAP'][0] == [4]  # plotted at the iteration it was measured
    out = tool.main(['plot_curve', log, log, '--keys', 'loss', 'loss_mask', 'coco/segm_mAP',
                     '--legend', 'a', 'b', '--out', str(tmp_path / 'c.png')])
    assert cv2.imread(out).shape[0] > 300  # three panels
    with pytest.raises(KeyError, match='in none of the logs'):
        tool.plot_curve([log], ['loss_typo'], str(tmp_path / 'd.png'))
