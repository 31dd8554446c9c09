"""Builds the package's C++ CPU kernels (``*.cpp`` beside the modules that use them).

Each source is compiled by ``torch.utils.cpp_extension.load_inline`` at its first use in an
environment (``make install`` does it once) and loaded from PyTorch's extension cache
(``TORCH_EXTENSIONS_DIR``, by default ``~/.cache/torch_extensions``) after that; with
OpenMP where PyTorch uses it, so that the kernels' ``at::parallel_for`` runs on PyTorch's
threads. Where a source cannot be compiled (no C++ compiler) the callers run their tensor
forms instead, after one warning; ``DR1MASK_CPU_KERNELS=0`` chooses them without trying.
"""
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Dict, Optional, Sequence

_BUILT: Dict[str, Optional[ModuleType]] = {}  # by extension name, once per process


def kernels_enabled() -> bool:
    """False where ``DR1MASK_CPU_KERNELS=0`` switches every C++ kernel off."""
    return os.environ.get('DR1MASK_CPU_KERNELS', '1') != '0'


def cpu_kernels_of(name: str, source: Path, functions: Sequence[str],
                   purpose: str) -> Optional[ModuleType]:
    """The compiled kernels of ``source``, built (or tried) once per process.

    Returns:
        The module, or None where the kernels are switched off (``DR1MASK_CPU_KERNELS=0``)
        or could not be built in this process (one warning, at the first try).
    """
    if not kernels_enabled():
        return None
    if name not in _BUILT:
        _BUILT[name] = build_cpu_extension(name, source, functions, purpose)
    return _BUILT[name]


def build_cpu_extension(name: str, source: Path, functions: Sequence[str],
                        purpose: str) -> Optional[ModuleType]:
    """Compile (or load from the cache) one C++ source exposing ``functions``.

    Args:
        name: the extension's module name in PyTorch's cache.
        source: the ``.cpp`` file.
        functions: the C++ functions to bind.
        purpose: what the kernels are, for the warning when they cannot be built.

    Returns:
        The module, or None (after one warning) where it could not be built.
    """
    import torch
    from torch.utils.cpp_extension import load_inline

    # ATen's parallel_for is inline in the headers: built without OpenMP it runs on one
    # thread. With PyTorch's OpenMP backend the kernels join its OpenMP runtime (same
    # libgomp, same thread count as torch.set_num_threads).
    attempts = [[]]
    if 'parallel backend: OpenMP' in torch.__config__.parallel_info():
        attempts.insert(0, ['-fopenmp'])
    errors = []
    for flags in attempts:
        try:
            return load_inline(name=name, cpp_sources=[source.read_text()],
                               functions=list(functions), extra_cflags=['-O3', *flags],
                               extra_ldflags=flags)
        except Exception as error:  # e.g. no C++ compiler: the tensor forms from now on
            errors.append(error)
    warnings.warn(f'mmdet_dr1mask: the {purpose} could not be built ({errors[-1]!r}); '
                  'using the slower tensor operations instead (set DR1MASK_CPU_KERNELS=0 '
                  'to skip this attempt)', stacklevel=4)
    return None
