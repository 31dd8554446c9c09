"""OpenMMLab's mim with this package: ``mim search``, ``mim list`` and
``mim train/test mmdet_dr1mask CONFIG`` on the installed wheel (mim looks for
``mmdet_dr1mask/.mim`` beside the package metadata, which an editable install leaves in
the checkout), and ``mim train mmdet <our config file>`` (MMDetection's own train.py,
loading the package through ``custom_imports``)."""
import json
import os
import os.path as osp
import pickle
import sys

import pytest
import yaml
from conftest import REPO_ROOT, TINY_CONFIG, TINY_MODEL_CONFIGS, run_checked
from mmengine.config import Config

from mmdet_dr1mask.support import retarget_data_root, shorten_schedule

MIM = osp.join(osp.dirname(sys.executable), 'mim')
pytestmark = pytest.mark.skipif(not osp.isfile(MIM), reason='openmim is not installed')


def test_mim_search_finds_the_dr1mask_configs(installed_wheel, tmp_path):
    found = str(tmp_path / 'found.json')
    run_checked([MIM, 'search', 'mmdet_dr1mask', '--model', 'dr1mask', '--json', found],
                cwd=str(tmp_path), env=installed_wheel['env'])
    with open(found) as f:
        configs = json.load(f)['config']  # {config id: config path}, one per model
    with open(osp.join(REPO_ROOT, 'configs', 'dr1mask', 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    assert set(configs) == {model['Name'] for model in models}
    packaged = osp.join(installed_wheel['target'], 'mmdet_dr1mask', '.mim')
    for path in configs.values():
        assert osp.isfile(osp.join(packaged, path)), path


def test_mim_list_shows_the_package(installed_wheel, tmp_path):
    out = run_checked([MIM, 'list'], cwd=str(tmp_path), env=installed_wheel['env'])
    assert any(line.split()[:2] == ['mmdet-dr1mask', '0.1.0'] for line in out.splitlines())


@pytest.mark.slow
def test_mim_train_finds_a_config_by_name_then_tests_it(installed_wheel, synthetic_root,
                                                        tmp_path):
    config = osp.basename(TINY_MODEL_CONFIGS['DR1Mask'])
    work_dir = str(tmp_path / 'work_dir')
    out = run_checked([MIM, 'train', 'mmdet_dr1mask', config, '--work-dir', work_dir,
                       '--data-root', synthetic_root, '--iters', '2'],
                      cwd=str(tmp_path), env=installed_wheel['env'])
    # mim resolved the bare name to the installed copy, and ran the installed tools
    packaged = osp.join(installed_wheel['target'], 'mmdet_dr1mask', '.mim')
    assert osp.join(packaged, 'configs', 'dr1mask', config) in out
    assert osp.join(packaged, 'tools', 'train.py') in out
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)
    results = str(tmp_path / 'results.pkl')
    run_checked([MIM, 'test', 'mmdet_dr1mask', config, '--checkpoint', checkpoint,
                 '--work-dir', str(tmp_path / 'test'), '--out', results,
                 '--data-root', synthetic_root], cwd=str(tmp_path), env=installed_wheel['env'])
    with open(results, 'rb') as f:
        assert len(pickle.load(f)) == 3  # one prediction record per val image


@pytest.mark.slow
def test_mim_train_mmdet_runs_our_config_file(synthetic_root, tmp_path):
    # MMDetection's train.py has no --data-root / --iters: the config is aimed at the data
    # and shortened first. Works with the editable install: the config is given by path.
    cfg = shorten_schedule(retarget_data_root(Config.fromfile(TINY_CONFIG), synthetic_root), 2)
    cfg.dump(str(tmp_path / 'tiny.py'))
    run_checked([MIM, 'train', 'mmdet', str(tmp_path / 'tiny.py'), '--work-dir',
                 str(tmp_path / 'mmdet_tools')], cwd=REPO_ROOT,
                env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert osp.isfile(osp.join(tmp_path, 'mmdet_tools', 'iter_2.pth'))
