"""MMDetection's own tools (the scripts mim ships in ``mmdet/.mim/tools``) run on this
project's configs and on the checkpoints its configs write, each in a fresh process that
imports only what the tool imports."""
import glob
import json
import os
import os.path as osp
import pickle
import sys
import time

import mmdet
import pytest
from conftest import REPO_ROOT, TINY_MODEL_CONFIGS, run_checked
from mmengine.config import Config

from mmdet_dr1mask.support import retarget_data_root, shorten_schedule

MMDET_TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not osp.isdir(MMDET_TOOLS), reason=f'{MMDET_TOOLS} absent'),
]


def run_mmdet_tool(script: str, *args: str, cwd: str) -> str:
    """``python <mmdet>/.mim/tools/<script> args`` in ``cwd``; its output."""
    return run_checked([sys.executable, osp.join(MMDET_TOOLS, script), *args], cwd=cwd,
                       env=dict(os.environ, PYTHONWARNINGS='ignore'))


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory) -> dict:
    """The tiny DR1Mask, aimed at the synthetic data, shortened to 2 iterations and given
    the README's TensorBoard backend and progress bar, trained by MMDetection's train.py;
    and its predictions on the 3 val images from MMDetection's test.py ``--out``."""
    work_dir = str(tmp_path_factory.mktemp('tiny_dr1mask'))
    cfg = shorten_schedule(retarget_data_root(
        Config.fromfile(osp.join(REPO_ROOT, TINY_MODEL_CONFIGS['DR1Mask'])), synthetic_root), 2)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend'),
                                   dict(type='TensorboardVisBackend')]
    cfg.custom_hooks = [dict(type='ProgressBarHook')]
    cfg.model.test_cfg.score_thr = 0.0  # predictions from a 2-iteration model, to evaluate
    config = osp.join(work_dir, 'tiny_dr1mask.py')
    cfg.dump(config)
    train_log = run_mmdet_tool('train.py', config, '--work-dir', work_dir, cwd=work_dir)
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    results = osp.join(work_dir, 'results.pkl')
    run_mmdet_tool('test.py', config, checkpoint, '--work-dir', osp.join(work_dir, 'test'),
                   '--out', results, cwd=work_dir)
    return dict(config=config, checkpoint=checkpoint, results=results, work_dir=work_dir,
                train_log=train_log)


def test_config_alone_adds_tensorboard_and_the_progress_bar(trained):
    """MMDetection's train.py knows nothing of them: the config's vis_backends and
    custom_hooks do it (README, "Logging")."""
    assert glob.glob(osp.join(trained['work_dir'], '*', 'vis_data', 'events.out.tfevents.*'))
    assert glob.glob(osp.join(trained['work_dir'], '*', 'vis_data', 'scalars.json'))
    assert 'train: 100%' in trained['train_log'] and '2/2' in trained['train_log']


def test_analyze_results_draws_the_best_and_worst_predictions(trained, tmp_path):
    show_dir = str(tmp_path / 'analysis')
    run_mmdet_tool('analysis_tools/analyze_results.py', trained['config'], trained['results'],
                   show_dir, '--topk', '1', cwd=str(tmp_path))
    with open(trained['results'], 'rb') as f:
        names = {osp.basename(r['img_path']) for r in pickle.load(f)}
    for folder in ('good', 'bad'):
        drawn = glob.glob(osp.join(show_dir, folder, '*'))
        assert len(drawn) == 1 and osp.basename(drawn[0]).split('_')[0] + '.jpg' in names


def test_publish_model_reads_a_checkpoint_without_importing_the_package(trained, tmp_path):
    """publish_model.py calls torch.load (weights_only under torch >= 2.6) with nothing of
    this package imported: the checkpoint must need no allow-list."""
    run_mmdet_tool('model_converters/publish_model.py', trained['checkpoint'],
                   str(tmp_path / 'published.pth'), cwd=str(tmp_path))
    # the tool renames its output to published-<sha256[:8]>.pth in a process it does not wait
    for _ in range(100):
        published = glob.glob(str(tmp_path / 'published-*.pth'))
        if published:
            break
        time.sleep(0.1)
    (published, ) = published
    out = run_checked([sys.executable, '-c', 'import sys, torch; '
                       'print(sorted(torch.load(sys.argv[1], weights_only=True)))', published],
                      cwd=str(tmp_path))
    assert out.strip().splitlines()[-1] == "['meta', 'state_dict']"


# What MMDetection's demo/image_demo.py IMAGE CKPT.pth does (its config taken from the
# checkpoint); the demo folder is not among the tools mim ships.
IMAGE_DEMO = """
import sys
from mmdet.apis import DetInferencer
inferencer = DetInferencer(model=None, weights=sys.argv[1], device='cpu', palette='none')
inferencer(inputs=sys.argv[2], out_dir=sys.argv[3], pred_score_thr=0.0, no_save_pred=False)
print('model:', type(inferencer.model).__name__)
"""


def test_det_inferencer_takes_the_config_from_the_checkpoint(trained, synthetic_root,
                                                             tmp_path):
    image = osp.join(synthetic_root, 'val', '000000000001.jpg')
    out = run_checked([sys.executable, '-c', IMAGE_DEMO, trained['checkpoint'], image,
                       str(tmp_path / 'out')], cwd=str(tmp_path),
                      env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert 'model: DR1Mask' in out
    with open(tmp_path / 'out' / 'preds' / '000000000001.json') as f:
        pred = json.load(f)
    assert len(pred['masks']) == len(pred['bboxes']) == len(pred['labels']) > 0
    assert osp.isfile(tmp_path / 'out' / 'vis' / '000000000001.jpg')


@pytest.mark.parametrize('script, args, expected', [
    ('misc/print_config.py', [], "type='DR1Mask'"),
    ('analysis_tools/get_flops.py', ['--num-images', '1'], 'Flops:'),
    ('analysis_tools/eval_metric.py', ['{results}'], "'coco/segm_mAP'"),
    ('analysis_tools/confusion_matrix.py', ['{results}', '{tmp}'], ''),
], ids=['print_config', 'get_flops', 'eval_metric', 'confusion_matrix'])
def test_mmdetection_analysis_tool_runs_on_the_config(trained, tmp_path, script, args, expected):
    args = [a.format(results=trained['results'], tmp=tmp_path) for a in args]
    out = run_mmdet_tool(script, trained['config'], *args, cwd=str(tmp_path))
    assert expected in out
    if script.endswith('confusion_matrix.py'):
        assert osp.isfile(tmp_path / 'confusion_matrix.png')
