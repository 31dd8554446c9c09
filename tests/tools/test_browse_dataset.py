"""MMDetection's browse_dataset.py draws our synthetic configs' training pipelines."""
import os
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
from conftest import REPO_ROOT

BROWSE = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'analysis_tools',
                  'browse_dataset.py')


@pytest.mark.slow
@pytest.mark.parametrize('config', ['dr1mask_r18_fpn_tiny_synthetic.py',
                                    'dr1mask_r18_fpn_tiny_synthetic-panoptic.py'])
def test_browse_dataset_writes_a_picture_per_training_image(config, synthetic_root, tmp_path):
    out = tmp_path / 'browse'
    proc = subprocess.run(
        [sys.executable, BROWSE, osp.join(REPO_ROOT, 'configs', 'dr1mask', config),
         '--output-dir', str(out), '--not-show', '--cfg-options',
         f'train_dataloader.dataset.data_root={synthetic_root}/'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(os.listdir(out)) == 8  # the 8 synthetic training images
