"""`tools/train.py --resume` loses nothing: after a stop at iteration N the next iterations
give the same losses as an uninterrupted run (deterministic mode, CPU), also with a
validation between the checkpoint and the next iteration when RandomStateHook isolates
validation."""
import glob
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, load_tool

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


@pytest.fixture
def restore_determinism():
    """`randomness.deterministic=True` switches torch globally; give other tests it back."""
    saved = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(saved)


def train(work_dir: str, data_root: str, max_iters: int, loader: list,
          resume: bool = False) -> None:
    args = [TINY, '--work-dir', work_dir] + (['--resume'] if resume else []) + [
        '--data-root', data_root, '--cfg-options',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=1000',
        'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3', 'randomness.deterministic=True',
        # few positives kept per image: the blender draws them with torch's generator
        'model.mask_head.max_pos_per_img=2',
        # a visualizer's name must be new to the process, or it keeps an old work_dir
        f'visualizer.name=resume{work_dir.replace(osp.sep, "_")}_{max_iters}', *loader]
    load_tool('train.py').main(args)


def losses_by_iter(work_dir: str) -> dict:
    """{iteration: {loss name: value}} from every run's scalars.json in ``work_dir``."""
    out = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for record in map(json.loads, f):
                if 'loss' in record:
                    out[record['iter']] = {k: v for k, v in record.items()
                                           if k.startswith('loss')}
    return out


@pytest.mark.slow
@pytest.mark.parametrize('loader', [
    # the tiny configs' loader: augmentation in this process, epochs of 4 iterations
    [],
    # as the COCO configs' loader: InfiniteSampler, augmentation in a persistent worker
    # (one worker: more would add time, not coverage)
    ['train_dataloader.sampler.type=InfiniteSampler', 'train_dataloader.num_workers=1',
     'train_dataloader.persistent_workers=True'],
    # a validation right after the checkpoint the run resumes from: the generators are
    # given back to training as validation found them (without, iteration 4 differs)
    ['train_cfg.val_interval=3', 'default_hooks.random_state.isolate_validation=True'],
], ids=['DefaultSampler', 'InfiniteSampler-workers', 'validation-isolated'])
def test_resumed_run_gives_the_losses_of_an_uninterrupted_one(synthetic_root, tmp_path, loader,
                                                              restore_determinism):
    whole, parts = str(tmp_path / 'whole'), str(tmp_path / 'parts')
    train(whole, synthetic_root, 6, loader)
    train(parts, synthetic_root, 3, loader)  # "interrupted" after iteration 3 (iter_3.pth)
    assert 'random_states' in torch.load(osp.join(parts, 'iter_3.pth'))
    train(parts, synthetic_root, 6, loader, resume=True)
    expected, resumed = losses_by_iter(whole), losses_by_iter(parts)
    assert sorted(resumed) == sorted(expected) == [1, 2, 3, 4, 5, 6]
    for it in (4, 5, 6):
        assert resumed[it] == pytest.approx(expected[it], rel=0, abs=0), it
