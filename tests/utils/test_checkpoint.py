"""MMEngine checkpoints load under torch >= 2.6 (weights_only) for resume, test, inference."""
import os.path as osp
import pickle

import pytest
import torch
from conftest import load_tool
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmdet_dr1mask.utils import register_checkpoint_safe_globals


@HOOKS.register_module(force=True)
class RecordStart(Hook):
    """Remembers the iteration and weights the runner starts training from."""

    started = {}

    def before_train(self, runner) -> None:
        RecordStart.started = dict(
            iter=runner.iter,
            state={k: v.clone() for k, v in runner.model.state_dict().items()},
            optim=runner.optim_wrapper.state_dict())


@pytest.fixture
def trained(tiny_cfg):
    """Train the tiny model 4 iterations: checkpoints iter_2.pth and iter_4.pth."""
    runner = Runner.from_cfg(tiny_cfg)
    runner.train()
    return tiny_cfg, runner


def test_checkpoint_needs_the_allow_list_and_loads_with_it(trained):
    cfg, _ = trained
    ckpt = osp.join(cfg.work_dir, 'iter_4.pth')
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(ckpt)  # torch >= 2.6: weights_only=True by default
    finally:
        assert register_checkpoint_safe_globals()
    checkpoint = torch.load(ckpt)
    assert checkpoint['meta']['iter'] == 4
    assert 'message_hub' in checkpoint and 'optimizer' in checkpoint


def test_resume_continues_from_the_saved_state(trained):
    cfg, first = trained
    saved = torch.load(osp.join(cfg.work_dir, 'iter_4.pth'))
    cfg = cfg.copy()
    cfg.resume = True  # latest checkpoint of work_dir, as `tools/train.py --resume`
    cfg.train_cfg.max_iters = 6
    cfg.custom_hooks = [dict(type='RecordStart')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    start = RecordStart.started
    assert start['iter'] == 4
    for name, value in saved['state_dict'].items():
        torch.testing.assert_close(start['state'][name], value)
    # SGD momentum buffers and the step count survive the round trip
    assert start['optim']['state'] and len(start['optim']['state']) == len(
        saved['optimizer']['state'])
    assert runner.iter == 6
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_6.pth'))
    assert runner.message_hub.get_scalar('train/loss').current() > 0


def test_tools_test_evaluates_a_trained_checkpoint(trained, tmp_path):
    test_main = load_tool('test.py').main
    cfg, _ = trained
    cfg_file = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_file)
    out = str(tmp_path / 'results.pkl')
    test_main([cfg_file, osp.join(cfg.work_dir, 'iter_4.pth'), '--work-dir',
               str(tmp_path / 'test'), '--out', out])
    with open(out, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 3  # one record per val image
    assert {'pred_instances', 'img_id'} <= set(results[0])


def test_inference_from_a_trained_checkpoint(trained, synthetic_root):
    from mmdet.apis import inference_detector, init_detector
    cfg, _ = trained
    model = init_detector(cfg, osp.join(cfg.work_dir, 'iter_4.pth'), device='cpu')
    result = inference_detector(model, osp.join(synthetic_root, 'val', '000000000001.jpg'))
    pred = result.pred_instances
    assert pred.bboxes.shape[1] == 4
    assert pred.masks.shape[1:] == (96, 128)  # full-size masks at the original resolution
