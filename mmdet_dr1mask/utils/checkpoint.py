"""Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which only
unpickles tensors, containers and an allow-list of globals. MMEngine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints carry a few more
objects: the message hub's ``HistoryBuffer`` logs, numpy arrays and scalars in
the log history, and the config as a ``ConfigDict`` in some meta fields. Without
them ``--resume``, ``tools/test.py`` and inference from a trained checkpoint
fail with ``UnpicklingError: Weights only load failed``.

Rather than turning ``weights_only`` off for every file (which would let any
checkpoint run arbitrary code), this adds exactly those types to torch's
allow-list. Importing ``mmdet_dr1mask`` does it, so every config with
``custom_imports=dict(imports=['mmdet_dr1mask'])`` loads its checkpoints.
"""
import importlib
from typing import List

import numpy as np
import torch


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor types found in checkpoints written by MMEngine's runner."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    numpy_types: List[object] = [np.ndarray, np.dtype]
    # Pickles name numpy's helpers by module path: numpy.core in 1.x, numpy._core in 2.x.
    multiarray = importlib.import_module(
        'numpy.core.multiarray' if np.__version__.startswith('1.') else 'numpy._core.multiarray')
    numpy_types += [multiarray._reconstruct, multiarray.scalar]
    # The dtype classes (Float64DType, Int64DType, ...) pickled with np.dtype objects.
    numpy_types += [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.str_)]
    return [HistoryBuffer, ConfigDict, *numpy_types]


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
