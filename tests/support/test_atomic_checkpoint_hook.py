"""AtomicCheckpointHook: checkpoints and the last_checkpoint pointer are never seen half
written; a failed save (disk full, unwritable folder) names the file and leaves the
previous checkpoint intact and named by the pointer."""
import errno
import glob
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmdet_dr1mask.support import atomic_checkpoint_hook, atomic_write

# fail_fsync_of finds the file behind a descriptor in /proc (Linux)
needs_proc = pytest.mark.skipif(not osp.isdir('/proc/self/fd'), reason='needs /proc/self/fd')


def atomic_cfg(cfg, **checkpoint):
    """``cfg`` saving every 2 iterations with AtomicCheckpointHook (one checkpoint kept)."""
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False,
                                        interval=2, max_keep_ckpts=1, **checkpoint)
    return cfg


def pointer(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def partial_files(folder: str) -> list:
    return glob.glob(osp.join(folder, '.*.partial'))


def fail_fsync_of(name: str, error: int, monkeypatch) -> None:
    """Make ``os.fsync`` of the temporary file of ``name`` fail with ``error``, as a full
    disk reports a write the file system could not place."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if osp.basename(os.readlink(f'/proc/self/fd/{fd}')) == f'.{name}.partial':
            raise OSError(error, os.strerror(error))
        real_fsync(fd)
    monkeypatch.setattr(atomic_checkpoint_hook.os, 'fsync', fsync)


def test_atomic_write_replaces_a_file_whole(tmp_path):
    path = str(tmp_path / 'sub' / 'f.bin')
    atomic_write(b'old', path)
    atomic_write(b'new', path)
    with open(path, 'rb') as f:
        assert f.read() == b'new'
    assert os.listdir(tmp_path / 'sub') == ['f.bin']  # no temporary file left


@needs_proc
def test_failed_atomic_write_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = str(tmp_path / 'f.bin')
    atomic_write(b'old', path)
    fail_fsync_of('f.bin', errno.ENOSPC, monkeypatch)
    with pytest.raises(OSError, match=f'cannot write {re.escape(path)}: No space left') as e:
        atomic_write(b'new' * 1000, path)
    assert e.value.errno == errno.ENOSPC
    with open(path, 'rb') as f:
        assert f.read() == b'old'
    assert os.listdir(tmp_path) == ['f.bin']


@needs_proc
def test_disk_full_during_a_save_names_the_file_and_keeps_the_previous_checkpoint(
        tiny_cfg, monkeypatch):
    """With one checkpoint kept MMEngine's hook removes iter_2.pth before it writes
    iter_4.pth: a failed write would leave nothing to resume from."""
    fail_fsync_of('iter_4.pth', errno.ENOSPC, monkeypatch)
    runner = Runner.from_cfg(atomic_cfg(tiny_cfg))
    work_dir = tiny_cfg.work_dir
    previous, failed = osp.join(work_dir, 'iter_2.pth'), osp.join(work_dir, 'iter_4.pth')
    with pytest.raises(OSError, match=f'cannot write {re.escape(failed)}: No space left on '
                       f'device.*previous checkpoint {re.escape(previous)} is intact') as e:
        runner.train()
    assert e.value.errno == errno.ENOSPC
    assert not osp.exists(failed) and partial_files(work_dir) == []
    assert pointer(work_dir) == previous
    assert torch.load(previous)['meta']['iter'] == 2


def test_unwritable_checkpoint_folder_is_named(tiny_cfg, tmp_path):
    """A path below a regular file cannot be written, whoever runs the test (root too)."""
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('')
    runner = Runner.from_cfg(atomic_cfg(tiny_cfg, out_dir=str(blocker)))
    target = osp.join(str(blocker), osp.basename(tiny_cfg.work_dir), 'iter_2.pth')
    with pytest.raises(OSError, match=f'cannot write {re.escape(target)}.*no earlier checkpoint'):
        runner.train()


class ReadOnlyAfterFirstSave(Hook):
    """Takes the write permission of the work dir once iter_2.pth is saved."""

    priority = 'LOWEST'  # after the checkpoint hook

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == 2:  # the loop counts the iteration after its hooks
            os.chmod(runner.work_dir, 0o555)


def read_only_is_enforced(tmp_path) -> bool:
    """Whether this process is refused writing into a folder of mode 555 (root is not,
    unless its CAP_DAC_OVERRIDE is dropped)."""
    folder = tmp_path / 'read_only_probe'
    folder.mkdir(mode=0o555)
    try:
        (folder / 'probe').write_text('')
    except PermissionError:
        return True
    finally:
        folder.chmod(0o755)
    return False


def test_read_only_work_dir_is_named_and_keeps_the_previous_checkpoint(tiny_cfg, tmp_path):
    if not read_only_is_enforced(tmp_path):
        pytest.skip('this user may write into read-only folders (root)')
    runner = Runner.from_cfg(atomic_cfg(tiny_cfg))
    runner.register_hook(ReadOnlyAfterFirstSave())
    work_dir = tiny_cfg.work_dir
    try:
        with pytest.raises(PermissionError, match=f'cannot write {re.escape(work_dir)}.*'
                           'previous checkpoint .*iter_2.pth is intact'):
            runner.train()
    finally:
        os.chmod(work_dir, 0o755)
    assert pointer(work_dir) == osp.join(work_dir, 'iter_2.pth')


def test_restart_removes_an_interrupted_save_and_keeps_one_complete_checkpoint(tiny_cfg):
    work_dir = tiny_cfg.work_dir
    os.makedirs(work_dir)
    stale = osp.join(work_dir, '.iter_2.pth.partial')
    with open(stale, 'wb') as f:
        f.write(b'PK half a checkpoint')
    tiny_cfg.resume = True  # nothing to resume yet: trains from scratch
    Runner.from_cfg(atomic_cfg(tiny_cfg)).train()
    assert partial_files(work_dir) == []
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == ['iter_4.pth']
    assert pointer(work_dir) == osp.join(work_dir, 'iter_4.pth')
    info = torch.load(osp.join(work_dir, 'iter_4.pth'))['message_hub']['runtime_info']
    assert info['keep_ckpt_ids'] == [4] and info['outdated_ckpt'] == osp.join(work_dir,
                                                                              'iter_2.pth')


def test_resume_removes_the_outdated_checkpoint_a_kill_left_behind(tiny_cfg):
    """A kill after the pointer, before the removal of iter_2.pth: the run resumed from
    iter_4.pth removes it."""
    work_dir = tiny_cfg.work_dir
    Runner.from_cfg(atomic_cfg(tiny_cfg.copy())).train()
    orphan = osp.join(work_dir, 'iter_2.pth')
    with open(orphan, 'wb') as f:
        f.write(b'left behind')
    tiny_cfg.resume = True
    Runner.from_cfg(atomic_cfg(tiny_cfg)).train()  # resumed at the end: nothing to train
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == ['iter_4.pth']
