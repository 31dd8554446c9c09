"""`mim train/test mmdet_dr1mask ...` and `mim train mmdet <our config>` run our tools."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, TINY_CONFIG
from mmengine.config import Config

from mmdet_dr1mask.support import retarget_data_root, shorten_schedule

MIM = osp.join(osp.dirname(sys.executable), 'mim')
pytestmark = pytest.mark.skipif(not osp.isfile(MIM), reason='openmim is not installed')


def _run(args, cwd):
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([MIM, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_mim_finds_the_packaged_configs_and_tools():
    from mim.utils import get_installed_path
    mim_dir = osp.join(get_installed_path('mmdet_dr1mask'), '.mim')
    assert osp.isfile(osp.join(mim_dir, 'tools', 'train.py'))
    assert osp.isfile(osp.join(mim_dir, 'tools', 'test.py'))
    assert osp.isdir(osp.join(mim_dir, 'configs', '_base_'))


@pytest.mark.slow
def test_mim_train_then_test_a_tiny_config(synthetic_root, tmp_path):
    work_dir = str(tmp_path / 'work_dir')
    _run(['train', 'mmdet_dr1mask', TINY_CONFIG, '--work-dir', work_dir, '--data-root',
          synthetic_root, '--iters', '2'], cwd=str(tmp_path))
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)
    results = str(tmp_path / 'results.pkl')
    _run(['test', 'mmdet_dr1mask', TINY_CONFIG, '--checkpoint', checkpoint,
          '--work-dir', str(tmp_path / 'test'), '--out', results, '--data-root', synthetic_root],
         cwd=str(tmp_path))
    with open(results, 'rb') as f:
        assert len(pickle.load(f)) == 3  # one prediction record per val image

    # MMDetection's own train.py with our config: custom_imports loads the package. It has
    # no --data-root / --iters, so the config is aimed at the data and shortened first.
    cfg = shorten_schedule(retarget_data_root(Config.fromfile(TINY_CONFIG), synthetic_root), 2)
    cfg.dump(str(tmp_path / 'tiny.py'))
    _run(['train', 'mmdet', str(tmp_path / 'tiny.py'), '--work-dir',
          str(tmp_path / 'mmdet_tools')], cwd=REPO_ROOT)
    assert osp.isfile(osp.join(tmp_path, 'mmdet_tools', 'iter_2.pth'))
