"""tools/dist_train.sh (torchrun) with 2 CPU processes: both ranks end with the same weights,
also when one rank only gets images without annotations."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT, TESTS_DIR

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


def train_two_processes(root: str, tmp_path, port: int, sampler: str = '',
                        filter_empty_gt: bool = True, extra: str = '') -> str:
    """Train the tiny DR1Mask 3 iterations on 2 CPU processes; returns the work_dir.

    ``sampler``: the train sampler's config as Python text ('' keeps the config's);
    ``extra``: more config lines.
    """
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(f"""
_base_ = {TINY!r}
custom_imports = dict(imports=['mmdet_dr1mask', 'dump_rank_weights'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='DumpRankWeights')]
train_dataloader = dict(
    batch_size=2, {f'sampler={sampler},' if sampler else ''}
    dataset=dict(data_root={root!r}, filter_cfg=dict(filter_empty_gt={filter_empty_gt})))
val_dataloader = dict(dataset=dict(data_root={root!r}))
test_dataloader = dict(dataset=dict(data_root={root!r}))
val_evaluator = dict(ann_file={root + 'annotations/instances_val.json'!r})
test_evaluator = dict(ann_file={root + 'annotations/instances_val.json'!r})
train_cfg = dict(max_iters=3, val_interval=1000)
{extra}
""")
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port), PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(TESTS_DIR, 'data', 'hooks') + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    work_dir = str(tmp_path / 'work')
    # a hang (one rank waiting for the other's gradients) ends in the timeout
    proc = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), str(cfg_file),
                           '2', '--work-dir', work_dir], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work_dir


def assert_ranks_in_sync(work_dir: str) -> None:
    rank0 = torch.load(osp.join(work_dir, 'rank0_weights.pth'))
    rank1 = torch.load(osp.join(work_dir, 'rank1_weights.pth'))
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        torch.testing.assert_close(rank0[name], rank1[name], msg=name)


@pytest.mark.slow
def test_two_process_cpu_training_keeps_ranks_in_sync(synthetic_root, tmp_path):
    work_dir = train_two_processes(synthetic_root + '/', tmp_path, 29533)
    assert_ranks_in_sync(work_dir)
    assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))


@pytest.mark.slow
def test_rank_with_only_unannotated_images_does_not_hang(synthetic_root, tmp_path):
    root = shutil.copytree(synthetic_root, str(tmp_path / 'data')) + '/'
    ann_file = osp.join(root, 'annotations', 'instances_train.json')
    with open(ann_file) as f:
        data = json.load(f)
    # DefaultSampler without shuffling gives rank 1 the images at odd positions
    odd = {img['id'] for img in data['images'][1::2]}
    data['annotations'] = [a for a in data['annotations'] if a['image_id'] not in odd]
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    work_dir = train_two_processes(root, tmp_path, 29534, filter_empty_gt=False,
                                   sampler="dict(type='DefaultSampler', shuffle=False)")
    assert_ranks_in_sync(work_dir)


@pytest.mark.slow
def test_two_process_training_without_dynamic_factors(synthetic_root, tmp_path):
    """Table 1 "Baseline" / Table 2 "w/o A, B" / Table 3 "None": with both factors off no
    context is predicted, so DDP finds no parameter without a gradient (it stopped at the
    second iteration when an unused context conv was built)."""
    work_dir = train_two_processes(synthetic_root + '/', tmp_path, 29535,
                                   extra="model = dict(basis_head=dict(use_a=False, "
                                         "use_b=False))")
    assert_ranks_in_sync(work_dir)
    assert not any('conv_context' in name
                   for name in torch.load(osp.join(work_dir, 'rank0_weights.pth')))
