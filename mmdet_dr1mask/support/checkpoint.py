"""Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which only
unpickles tensors, containers and an allow-list of globals. MMEngine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints carry more: the
message hub's ``HistoryBuffer`` logs (numpy arrays and scalars inside) and the
buffer's statistics methods, which pickle as ``getattr(HistoryBuffer, 'mean')``.
Without them ``--resume``, ``tools/test.py`` and inference from a trained
checkpoint fail with ``UnpicklingError: Weights only load failed``.

Rather than turning ``weights_only`` off for every file (which lets a
checkpoint run arbitrary code), this adds exactly those types to torch's
allow-list. ``getattr`` itself is not allowed (chained, it reaches any object);
in its place the unpickler gets :func:`history_buffer_method`, which can only
look up HistoryBuffer's own public methods. Likewise ``bytes``: ``torch.save``
writes pickle protocol 2, where an empty ``bytes`` object (the data of an empty
array, e.g. a HistoryBuffer never updated) is the call ``bytes()``; the
unpickler gets :func:`empty_bytes`, not ``bytes`` itself, whose ``bytes(n)``
would allocate whatever a file asks for. numpy's helpers are allowed under both
the names numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) pickle them with,
so a checkpoint written under either loads under the other. Importing
``mmdet_dr1mask`` does the registration, so every config with
``custom_imports=dict(imports=['mmdet_dr1mask'])`` loads its checkpoints.

Tools that read a checkpoint before any config, without importing this package
(MMDetection's ``publish_model.py``, ``image_demo.py IMAGE CKPT`` taking the config
from the checkpoint), never see that allow-list. For them the checkpoints our configs
write need none: :class:`WeightsOnlyCheckpointHook` stores the message hub's
``HistoryBuffer`` logs and numpy values as plain lists and numbers, and turns them back
when a run resumes.

Importing it also makes MMEngine's loader of local files check a file before loading it
and name a file it cannot read (:func:`load_local_checkpoint`).
"""
import importlib
import os.path as osp
import pickle
import zipfile
from collections import OrderedDict
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.config import ConfigDict
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

SafeGlobal = Union[object, Tuple[Callable, str]]


def history_buffer_method(owner: type, name: str) -> Callable:
    """``getattr`` restricted to what MMEngine pickles: ``HistoryBuffer``'s public methods.

    Raises:
        pickle.UnpicklingError: for any other object or attribute.
    """
    method = getattr(HistoryBuffer, name, None) if owner is HistoryBuffer else None
    if name.startswith('_') or not callable(method):
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only the public methods of '
            'mmengine.logging.HistoryBuffer are allowed when loading with weights_only=True')
    return method


def empty_bytes(*args: object) -> bytes:
    """``bytes`` restricted to what numpy's pickles use: ``bytes()``, the empty object.

    Protocol 2 pickles a non-empty ``bytes`` as ``_codecs.encode(str, 'latin1')``
    (allowed by torch) and only the empty one as a call of ``bytes``.

    Raises:
        pickle.UnpicklingError: for any argument (``bytes(n)`` allocates n bytes).
    """
    if args:
        raise pickle.UnpicklingError(
            f'checkpoint asks for bytes() with {len(args)} argument(s); only bytes(), the '
            'empty object of protocol-2 pickles, is allowed when loading with weights_only=True')
    return b''


def numpy_checkpoint_globals() -> List[SafeGlobal]:
    """The globals of pickled numpy arrays, scalars and dtypes, for numpy 1.x and 2.x."""
    multiarray = importlib.import_module(
        'numpy.core.multiarray' if np.__version__.startswith('1.') else 'numpy._core.multiarray')
    # A pickle names the module of the numpy that wrote it, whichever numpy loads it.
    helpers: List[SafeGlobal] = [
        (helper, f'{module}.multiarray.{helper.__name__}')
        for helper in (multiarray._reconstruct, multiarray.scalar)
        for module in ('numpy.core', 'numpy._core')]
    # torch applies a pickled state (BUILD) only to instances of listed types, and a dtype
    # is an instance of its class (Float64DType, ...).
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.str_)]
    return [np.ndarray, np.dtype, *helpers, *dtype_classes]


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """The non-tensor globals found in checkpoints written by MMEngine's runner."""
    # torch.save writes pickle protocol 2, where builtins are named `__builtin__`.
    builtins = [(replacement, f'{module}.{name}')
                for replacement, name in ((history_buffer_method, 'getattr'),
                                          (empty_bytes, 'bytes'))
                for module in ('__builtin__', 'builtins')]
    return [HistoryBuffer, ConfigDict, *numpy_checkpoint_globals(), *builtins]


def register_checkpoint_safe_globals() -> bool:
    """Allow-list MMEngine's checkpoint types for ``torch.load(weights_only=True)``.

    Returns:
        bool: True if registered, False on torch < 2.4, whose ``torch.load``
        has no allow-list (and defaults to ``weights_only=False`` anyway).
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True


# Marks a dict that stands for a value of a type weights_only loading refuses.
PLAIN_TYPE_KEY = '__mmdet_dr1mask_type__'
# The containers MessageHub.state_dict() nests values in, rebuilt with their own type.
MAPPINGS, SEQUENCES = (dict, OrderedDict), (list, tuple)


def to_plain(obj: Any) -> Any:
    """``obj`` with every ``HistoryBuffer``, numpy array (not of object dtype) and numpy
    scalar inside its dicts, OrderedDicts, lists and tuples replaced by a dict of plain
    Python values (undone by :func:`from_plain`, exactly: dtypes and shapes are kept)."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {PLAIN_TYPE_KEY: 'HistoryBuffer', 'log_history': to_plain(log),
                'count_history': to_plain(count), 'max_length': obj.max_length}
    if isinstance(obj, np.ndarray) and obj.dtype.kind != 'O':
        return {PLAIN_TYPE_KEY: 'ndarray', 'dtype': obj.dtype.str, 'shape': list(obj.shape),
                'data': obj.ravel().tolist()}
    if isinstance(obj, np.generic):
        return {PLAIN_TYPE_KEY: 'numpy_scalar', 'dtype': obj.dtype.str, 'value': obj.item()}
    if type(obj) in MAPPINGS:
        return type(obj)((key, to_plain(value)) for key, value in obj.items())
    if type(obj) in SEQUENCES:
        return type(obj)(to_plain(value) for value in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """The objects :func:`to_plain` replaced, back from their dicts."""
    if type(obj) in MAPPINGS:
        kind = obj.get(PLAIN_TYPE_KEY)
        if kind == 'HistoryBuffer':
            return HistoryBuffer(from_plain(obj['log_history']),
                                 from_plain(obj['count_history']), obj['max_length'])
        if kind == 'ndarray':
            return np.array(obj['data'], dtype=obj['dtype']).reshape(obj['shape'])
        if kind == 'numpy_scalar':
            return np.dtype(obj['dtype']).type(obj['value'])
        return type(obj)((key, from_plain(value)) for key, value in obj.items())
    if type(obj) in SEQUENCES:
        return type(obj)(from_plain(value) for value in obj)
    return obj


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Writes checkpoints that ``torch.load(weights_only=True)`` reads with no allow-list.

    MMEngine puts the message hub in every checkpoint: ``HistoryBuffer`` logs holding
    numpy arrays, and numpy scalars among its runtime information. Saved as they are,
    they need :func:`register_checkpoint_safe_globals`, which tools that load a checkpoint
    without importing this package do not run. This hook saves them as plain lists and
    numbers (:func:`to_plain`) and restores them when a checkpoint is loaded by the
    runner (``--resume``), before MMEngine reads the message hub. The config string in the
    message hub and in ``meta`` stays a string, so inferencers still find it.
    """

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['message_hub'] = to_plain(checkpoint['message_hub'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])


def checkpoint_damage(filename: str) -> Optional[str]:
    """What is wrong with the file ``filename`` as a torch checkpoint, or None if nothing
    shows.

    torch writes zip archives (since 1.6); their central directory sits at the end (a
    truncated file lacks it) and every member has a CRC (a changed byte fails it), so the
    whole archive is read. Older torch wrote a bare pickle, which has no such check.
    """
    with open(filename, 'rb') as f:
        head = f.read(2)
    if not head:
        return 'the file is empty'
    if head == b'PK':
        try:
            with zipfile.ZipFile(filename) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, EOFError) as e:
            return f'not a complete zip archive ({e})'
        return None if bad is None else f'member {bad} fails its CRC check'
    if head[:1] == pickle.PROTO:  # the legacy format: nothing to check
        return None
    return 'neither a zip archive (torch >= 1.6) nor a pickle (older torch)'


def load_local_checkpoint(filename: str, map_location=None):
    """MMEngine's loader of local checkpoint files, checking the file first and naming a
    file it cannot read.

    torch itself reports a truncated file as a zip-reader, ``EOFError``, ``KeyError`` or
    ``UnicodeDecodeError`` trace without its path, and loads a file with a changed byte
    in a tensor without a word; the check (:func:`checkpoint_damage`) reads the file once
    more (about 0.1 s per 100 MB).

    Raises:
        FileNotFoundError: no such file (MMEngine's message).
        RuntimeError: naming ``filename``: "truncated or corrupt" with what
            :func:`checkpoint_damage` found, or "cannot be loaded" with torch's error.
    """
    path = osp.expanduser(filename)
    damage = checkpoint_damage(path) if osp.isfile(path) else None
    if damage is not None:
        raise RuntimeError(f'checkpoint {filename} is truncated or corrupt: {damage}')
    try:
        return load_from_local(filename, map_location)
    except FileNotFoundError:
        raise
    except Exception as e:  # an intact file torch refuses, or a damaged legacy pickle
        raise RuntimeError(f'checkpoint {filename} cannot be loaded. torch.load said: '
                           f'{type(e).__name__}: {e}') from e


def register_checked_local_loader() -> None:
    """Put :func:`load_local_checkpoint` in place of MMEngine's loader of local paths.

    Every MMEngine load of a local file goes through it: ``--resume``, ``load_from``,
    ``tools/test.py`` and ``DetInferencer``.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
