"""CPU kernels of the panoptic post-processing (``panoptic_kernels.cpp``).

On CPU, ``AlignedArgmax`` makes its arg-max map (and, called on their own, edits and
paints it), ``DR1PanopticHead.predict`` turns that map into the panoptic map (covered
things, their replacement, the panoptic values, the painting) and runs its duplicate
filter, and its forward subtracts the position prior in inference, each in one C++ call
instead of tens of tensor operations: for the tiny trained
models, whose panoptic maps have a few channels and 50 k pixels, each operation's own cost
was most of the time (docs/benchmarks.md §1.3).
The C++ source is compiled by ``torch.utils.cpp_extension.load_inline`` at the first call
in an environment (about 25 s; ``make install`` does it once) and loaded from PyTorch's
extension cache (``TORCH_EXTENSIONS_DIR``, by default ``~/.cache/torch_extensions``)
after that; with OpenMP where PyTorch uses it, so that the kernels' ``at::parallel_for``
runs on PyTorch's threads. Where it cannot be compiled (no C++ compiler) the tensor forms
run instead, after one warning; ``DR1MASK_CPU_KERNELS=0`` chooses them without trying.
"""
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Optional

SOURCE = Path(__file__).with_suffix('.cpp')
FUNCTIONS = ['argmax_map', 'replace_channels', 'paint', 'panoptic_map', 'kept_things',
             'subtract_position_prior']
_LOADED: dict = {}


def cpu_kernels() -> Optional[ModuleType]:
    """The compiled kernels (``FUNCTIONS``), or None where they are switched off
    (``DR1MASK_CPU_KERNELS=0``) or could not be built in this process."""
    if os.environ.get('DR1MASK_CPU_KERNELS', '1') == '0':
        return None
    if 'module' not in _LOADED:
        _LOADED['module'] = _build()
    return _LOADED['module']


def _build() -> Optional[ModuleType]:
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
            return load_inline(name='mmdet_dr1mask_panoptic_kernels',
                               cpp_sources=[SOURCE.read_text()], functions=FUNCTIONS,
                               extra_cflags=['-O3', *flags], extra_ldflags=flags)
        except Exception as error:  # e.g. no C++ compiler: the tensor forms from now on
            errors.append(error)
    warnings.warn(f'mmdet_dr1mask: the CPU panoptic kernels could not be built '
                  f'({errors[-1]!r}); using the slower tensor operations instead (set '
                  'DR1MASK_CPU_KERNELS=0 to skip this attempt)', stacklevel=3)
    return None
