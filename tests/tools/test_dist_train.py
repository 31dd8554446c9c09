"""tools/dist_train.sh (torchrun) with 2 CPU processes: both ranks end with the same weights."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT, TESTS_DIR

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


@pytest.mark.slow
def test_two_process_cpu_training_keeps_ranks_in_sync(synthetic_root, tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    root = synthetic_root + '/'
    cfg_file.write_text(f"""
_base_ = {TINY!r}
custom_imports = dict(imports=['mmdet_dr1mask', 'dump_rank_weights'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='DumpRankWeights')]
train_dataloader = dict(batch_size=2, dataset=dict(data_root={root!r}))
val_dataloader = dict(dataset=dict(data_root={root!r}))
test_dataloader = dict(dataset=dict(data_root={root!r}))
val_evaluator = dict(ann_file={root + 'annotations/instances_val.json'!r})
test_evaluator = dict(ann_file={root + 'annotations/instances_val.json'!r})
train_cfg = dict(max_iters=3, val_interval=1000)
""")
    env = dict(os.environ, PYTHON=sys.executable, PORT='29533', PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(TESTS_DIR, 'data', 'hooks') + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    work_dir = tmp_path / 'work'
    proc = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), str(cfg_file),
                           '2', '--work-dir', str(work_dir)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rank0 = torch.load(work_dir / 'rank0_weights.pth')
    rank1 = torch.load(work_dir / 'rank1_weights.pth')
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        torch.testing.assert_close(rank0[name], rank1[name], msg=name)
    assert (work_dir / 'iter_3.pth').is_file()
