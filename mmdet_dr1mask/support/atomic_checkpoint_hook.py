"""Checkpoints that a kill at any moment cannot leave half-written.

MMEngine 0.10.7's ``CheckpointHook`` (i) removes the oldest kept checkpoint, (ii) writes
the new one in place (``open(path, 'wb')``) and (iii) rewrites the ``last_checkpoint``
pointer in place. A kill during (ii) leaves a truncated file under the checkpoint's name;
a kill during (iii) leaves an empty or half-written pointer (half a path), which
``--resume`` tries to load; with ``max_keep_ckpts=1`` a kill between (i) and (iii) leaves
the pointer naming a removed file. Nothing can be resumed in those cases (measured in
docs/benchmarks.md, section 6.1).

Here every file is written to a temporary file in the same folder, flushed to disk
(``fsync``) and renamed over its name (``os.replace``, atomic on POSIX and Windows), so a
name holds either the old complete file or the new complete one. The order becomes:
write the checkpoint, then the pointer, then remove the checkpoint that falls out of
``max_keep_ckpts``; a kill at any point leaves the pointer naming a complete checkpoint.
"""
import errno
import glob
import os
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

# temporary files are hidden (dot) and end so, to be found and removed after a kill
PARTIAL_SUFFIX = '.partial'
ATOMIC_BACKEND = 'atomic_local'
OUTDATED_KEY = 'outdated_ckpt'  # message hub: the checkpoint to remove after this save


def partial_path(path: str) -> str:
    """The temporary name ``path`` is written under before it is renamed to ``path``."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}{PARTIAL_SUFFIX}')


def _fsync_folder(folder: str) -> None:
    # the rename itself must reach the disk too; a folder cannot be opened on Windows
    if os.name != 'posix':
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(data: Union[bytes, str], path: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen incomplete.

    The data goes to :func:`partial_path` first, is flushed to disk and then renamed
    over ``path``. On failure the temporary file is removed and ``path`` (if it
    existed) is left as it was.

    Raises:
        OSError: of the failure's ``errno`` (``ENOSPC``, ``EACCES``, ...), naming ``path``.
    """
    path = str(path)
    tmp = partial_path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    try:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(tmp, 'wb') as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_folder(osp.dirname(osp.abspath(path)))
    except OSError as e:
        if osp.isfile(tmp):
            os.remove(tmp)
        raise OSError(e.errno or errno.EIO,
                      f'cannot write {path}: {e.strerror or e}; a file of that name, if '
                      'there was one, is left as it was') from e


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose writes (``put``, ``put_text``) are atomic.

    Select it with ``backend_args=dict(backend='atomic_local')``, as
    :class:`AtomicCheckpointHook` does for local folders.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write(obj, filepath, encoding=encoding)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints and ``last_checkpoint`` pointer survive a kill.

    Takes ``CheckpointHook``'s arguments. For a local ``out_dir`` (the default, the work
    dir) without ``backend_args`` it writes through :class:`AtomicLocalBackend`: every
    checkpoint (periodic, best, last) is renamed into place complete. The pointer is
    written the same way, after the checkpoint, and a checkpoint beyond
    ``max_keep_ckpts`` is removed only after both. So ``--resume`` (automatic or with a
    named file) always finds a complete checkpoint. When training starts again, the
    temporary files of saves a kill interrupted are removed, and so is the outdated
    checkpoint a kill between the pointer and its removal left behind (the checkpoint
    resumed from names it).

    A failed save (disk full, folder not writable) raises an ``OSError`` that names the
    file and the previous checkpoint, which is left intact and still named by the pointer.
    Remote ``out_dir`` or user ``backend_args`` keep MMEngine's behaviour for the
    checkpoint files; the pointer, always local, is still written atomically.
    """

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if self.backend_args is None and self.file_client_args is None and \
                '://' not in str(out_dir):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        if not is_main_process():
            return
        if not isinstance(self.file_backend, LocalBackend):
            return
        for folder in {self.out_dir, runner.work_dir}:
            for stale in glob.glob(osp.join(folder, f'.*{PARTIAL_SUFFIX}')):
                os.remove(stale)
                print_log(f'removed {stale}, a save interrupted earlier', logger='current')
        outdated = runner.message_hub.get_info(OUTDATED_KEY)
        # only in this run's folder: a checkpoint resumed from elsewhere names another's
        if outdated is not None and osp.isfile(outdated) and \
                osp.samefile(osp.dirname(outdated), self.out_dir):
            os.remove(outdated)
            print_log(f'removed {outdated}, beyond max_keep_ckpts when the checkpoint resumed '
                      'from was saved', logger='current')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        # MMEngine's order, less its early removal: the ids to keep are updated first, as
        # they are saved inside the checkpoint; the file that falls out goes last.
        outdated: Optional[str] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        # saved with the checkpoint: a run resumed from it removes the file if a kill came
        # before this save could
        runner.message_hub.update_info(OUTDATED_KEY, outdated)

        # the message hub's, not self.last_ckpt: after a resume it names the resumed file
        previous = runner.message_hub.get_info('last_ckpt')
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        try:
            runner.save_checkpoint(
                self.out_dir, ckpt_filename, self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        except OSError as e:
            kept = f'the previous checkpoint {previous} is intact and last_checkpoint ' \
                'still names it' if previous else 'no earlier checkpoint of this run'
            raise OSError(e.errno, f'saving the checkpoint of step {step} failed ({e}); '
                          f'{kept}') from e

        # model-parallel training pulls sharded states from all ranks; only rank 0 writes
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        if outdated is not None:
            if self.file_backend.isfile(outdated):
                self.file_backend.remove(outdated)
            elif self.file_backend.isdir(outdated):  # checkpoints saved by DeepSpeed
                self.file_backend.rmtree(outdated)
