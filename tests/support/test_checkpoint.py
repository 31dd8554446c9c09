"""MMEngine checkpoints load under torch >= 2.6 (weights_only) for resume, test, inference;
a file that cannot be loaded is named."""
import contextlib
import io
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from conftest import load_tool
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmdet_dr1mask.support import from_plain, register_checkpoint_safe_globals, to_plain

# MessageHub's buffers hold float64 values and int64 counts; a HistoryBuffer built from
# given values keeps their dtype, and runtime info may hold any numpy value: every plain
# numeric dtype.
DTYPES = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
          np.uint64, np.uint32, np.uint16, np.uint8, np.bool_)


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


@contextlib.contextmanager
def no_allow_list():
    """torch's allow-list emptied, as in a process that never imported this package."""
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        yield
    finally:
        torch.serialization.add_safe_globals(saved)


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


# --------------------------------------------- numpy and HistoryBuffer round trips
def round_trip(obj):
    """``torch.save`` then ``torch.load(weights_only=True)`` through memory."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def assert_same_array(loaded, expected: np.ndarray) -> None:
    assert type(loaded) is np.ndarray and loaded.dtype == expected.dtype
    np.testing.assert_array_equal(loaded, expected)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda t: np.dtype(t).name)
def test_numpy_arrays_and_scalars_round_trip(dtype):
    arrays = dict(empty=np.zeros(0, dtype), empty_2d=np.zeros((0, 3), dtype),
                  filled=np.arange(6).astype(dtype).reshape(2, 3),
                  fortran=np.asfortranarray(np.arange(6).astype(dtype).reshape(2, 3)))
    loaded = round_trip(dict(arrays, scalar=dtype(1), zero=dtype(0)))
    for key, array in arrays.items():
        assert_same_array(loaded[key], array)
    for key, value in (('scalar', 1), ('zero', 0)):
        assert type(loaded[key]) is dtype and loaded[key] == value


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda t: np.dtype(t).name)
def test_history_buffers_round_trip(dtype):
    values = np.array([3, 1, 2]).astype(dtype)
    buffers = dict(empty=HistoryBuffer(np.zeros(0, dtype), np.zeros(0, dtype)),
                   filled=HistoryBuffer(values, np.ones(3, dtype)))
    loaded = round_trip(buffers)
    for key, buffer in buffers.items():
        assert type(loaded[key]) is HistoryBuffer
        for got, expected in zip(loaded[key].data, buffer.data):
            assert_same_array(got, expected)
    assert loaded['filled'].mean() == buffers['filled'].mean()
    assert loaded['filled'].current() == buffers['filled'].current()


def test_message_hub_buffers_round_trip():
    """The buffers MessageHub itself makes: empty, then updated with python, numpy and
    torch values (stored as float64 and int64 arrays)."""
    hub = MessageHub(name='test_checkpoint_hub_buffers', log_scalars={'empty': HistoryBuffer()},
                     resumed_keys={'empty': True})
    for value, count in ((0.5, 1), (2, 4), (np.float32(1.5), 1), (torch.tensor(3), 2)):
        hub.update_scalar('updated', value, count)
    buffers = hub.state_dict()['log_scalars']
    loaded = round_trip(buffers)
    assert loaded['empty'].data[0].size == 0
    for key in ('empty', 'updated'):
        for got, expected in zip(loaded[key].data, buffers[key].data):
            assert_same_array(got, expected)
    assert loaded['updated'].mean(3) == buffers['updated'].mean(3)


def test_mmengine_checkpoint_with_an_empty_history_buffer_loads():
    """A checkpoint as MMEngine's runner writes it, whose message hub has a buffer that
    was never updated (the case that needs ``bytes()``)."""
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2])
    hub = MessageHub(name='test_checkpoint_empty_buffer',
                     log_scalars={'train/loss': HistoryBuffer(), 'train/lr': HistoryBuffer()},
                     resumed_keys={'train/loss': True, 'train/lr': True})
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('iter', 4)
    checkpoint = dict(
        meta=dict(epoch=0, iter=4, seed=0, mmengine_version='0.10.7',
                  dataset_meta=dict(classes=('a', 'b'))),
        state_dict=model.state_dict(), message_hub=hub.state_dict(),
        optimizer=optimizer.state_dict(), param_schedulers=[scheduler.state_dict()])
    loaded = round_trip(checkpoint)
    restored = MessageHub(name='test_checkpoint_empty_buffer_restored')
    restored.load_state_dict(loaded['message_hub'])
    assert restored.get_scalar('train/lr').data[0].size == 0
    assert restored.get_scalar('train/loss').current() == 0.25
    assert restored.get_info('iter') == 4
    torch.testing.assert_close(loaded['state_dict'], checkpoint['state_dict'])
    assert loaded['optimizer']['state'][0]['momentum_buffer'].shape == (2, 3)


@pytest.mark.parametrize('written_by', ['numpy.core', 'numpy._core'])
def test_numpy_arrays_written_by_numpy_1_or_2_load(written_by):
    """numpy 1.x pickles name ``numpy.core.multiarray``, 2.x ``numpy._core.multiarray``;
    a checkpoint written under either loads under the installed numpy."""
    buffer = io.BytesIO()
    # the legacy format is one plain pickle stream, so its global names can be rewritten
    torch.save(dict(array=np.arange(3.0), scalar=np.float64(2)), buffer,
               _use_new_zipfile_serialization=False)
    data = buffer.getvalue()
    for module in (b'numpy.core', b'numpy._core'):
        data = data.replace(b'c' + module + b'.multiarray\n',
                            b'c' + written_by.encode() + b'.multiarray\n')
    assert (b'c' + written_by.encode() + b'.multiarray\n') in data
    loaded = torch.load(io.BytesIO(data), weights_only=True)
    assert_same_array(loaded['array'], np.arange(3.0))
    assert loaded['scalar'] == 2


# ------------------------------------------ plain checkpoints (WeightsOnlyCheckpointHook)
def test_plain_message_hub_loads_without_the_allow_list_and_comes_back_exactly():
    hub = MessageHub(name='test_checkpoint_plain_hub',
                     log_scalars={'never_updated': HistoryBuffer()},
                     resumed_keys={'never_updated': True})
    for dtype in DTYPES:
        hub.log_scalars[np.dtype(dtype).name] = HistoryBuffer(
            np.array([3, 1, 2]).astype(dtype), np.ones(3, np.int64), max_length=7)
    hub.update_info('eta', np.float64(12.5))
    hub.update_info('grid', np.arange(6, dtype=np.int32).reshape(2, 3))
    hub.update_info('cfg', 'model = dict()')
    state = hub.state_dict()
    buffer = io.BytesIO()
    torch.save(to_plain(state), buffer)
    buffer.seek(0)
    with no_allow_list():
        loaded = torch.load(buffer, weights_only=True)
    restored = from_plain(loaded)
    for key, expected in state['log_scalars'].items():
        assert type(restored['log_scalars'][key]) is HistoryBuffer
        assert restored['log_scalars'][key].max_length == expected.max_length
        for got, want in zip(restored['log_scalars'][key].data, expected.data):
            assert_same_array(got, want)
    info = restored['runtime_info']
    assert type(info['eta']) is np.float64 and info['eta'] == 12.5
    assert_same_array(info['grid'], state['runtime_info']['grid'])
    assert info['cfg'] == 'model = dict()'  # inferencers read the config string from here


def test_runner_checkpoint_with_the_hook_loads_without_the_allow_list_and_resumes(tiny_cfg):
    tiny_cfg.default_hooks.weights_only_checkpoint = dict(type='WeightsOnlyCheckpointHook')
    tiny_cfg.default_hooks.random_state = dict(type='RandomStateHook')
    Runner.from_cfg(tiny_cfg).train()
    with no_allow_list():
        checkpoint = torch.load(osp.join(tiny_cfg.work_dir, 'iter_4.pth'))
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'], dict)
    cfg = tiny_cfg.copy()
    cfg.resume = True
    cfg.train_cfg.max_iters = 6
    runner = Runner.from_cfg(cfg)
    runner.train()
    # the 4 losses logged before the resume came back as a HistoryBuffer, 2 more follow
    loss = runner.message_hub.get_scalar('train/loss')
    assert type(loss) is HistoryBuffer and len(loss.data[0]) == 6


# ------------------------------------------------------ still refused
class Reduce:
    """Pickles as ``func(*args)``: what a crafted checkpoint can ask the unpickler for."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class Arbitrary:
    """A class nobody allowed."""


@pytest.mark.parametrize('payload', [
    Reduce(os.system, 'true'),
    Reduce(bytes, 10 ** 9),  # allocation through the allowed bytes()
    Reduce(bytes, [1, 2]),
    Reduce(getattr, HistoryBuffer, '__init__'),
    Reduce(getattr, np.ndarray, 'tofile'),
    Arbitrary(),
], ids=['os.system', 'bytes(n)', 'bytes(iterable)', 'getattr_private', 'getattr_numpy',
        'arbitrary_class'])
def test_what_numpy_and_mmengine_do_not_pickle_is_refused(payload):
    with pytest.raises(pickle.UnpicklingError):
        round_trip(dict(state_dict={}, meta=payload))


# --------------------------------------------- unreadable files are named
def damaged(data: bytes, kind: str) -> bytes:
    if kind == 'truncated':  # a kill during an in-place write
        return data[:len(data) // 2]
    if kind == 'last_bytes_missing':
        return data[:-10]
    if kind == 'empty':
        return b''
    if kind == 'changed_byte':  # in a stored tensor: torch.load would not notice
        return data[:-2000] + bytes([data[-2000] ^ 0xFF]) + data[-1999:]
    return b'not a checkpoint\n' * 10  # 'text'


@pytest.mark.parametrize('kind', ['truncated', 'last_bytes_missing', 'empty', 'changed_byte',
                                  'text'])
def test_a_damaged_checkpoint_is_named_as_truncated_or_corrupt(tmp_path, kind):
    from mmengine.runner import load_checkpoint
    buffer = io.BytesIO()
    torch.save(dict(state_dict=torch.nn.Linear(30, 20).state_dict()), buffer)
    path = str(tmp_path / 'iter_8.pth')
    with open(path, 'wb') as f:
        f.write(damaged(buffer.getvalue(), kind))
    with pytest.raises(RuntimeError, match=f'checkpoint {path} is truncated or corrupt'):
        load_checkpoint(torch.nn.Linear(30, 20), path)


def test_an_intact_checkpoint_torch_refuses_is_named_but_not_called_corrupt(tmp_path):
    path = str(tmp_path / 'foreign.pth')
    torch.save(dict(state_dict={}, extra=RecordStart), path)  # a class off the allow-list
    from mmengine.runner import load_checkpoint
    with pytest.raises(RuntimeError, match=f'(?s)checkpoint {path} cannot be loaded.*'
                       'Unsupported global'):
        load_checkpoint(torch.nn.Linear(3, 2), path)


def test_resume_from_a_truncated_checkpoint_names_it(trained, tmp_path):
    cfg, _ = trained
    with open(osp.join(cfg.work_dir, 'iter_4.pth'), 'rb') as f:
        data = f.read()
    path = str(tmp_path / 'iter_4_truncated.pth')
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 3])
    cfg = cfg.copy()
    cfg.resume, cfg.load_from = True, path  # as `tools/train.py --resume PATH`
    cfg.work_dir = str(tmp_path / 'resumed')
    with pytest.raises(RuntimeError, match=f'checkpoint {path} is truncated or corrupt: not '
                       'a complete zip archive'):
        Runner.from_cfg(cfg).train()
