"""CPU kernels of the panoptic post-processing (``panoptic_kernels.cpp``).

On CPU, ``AlignedArgmax`` makes, edits and paints its arg-max map, and
``DR1PanopticHead``'s duplicate filter runs, in one C++ call each instead of tens of
tensor operations: for the tiny trained models, whose panoptic maps have a few channels
and 50 k pixels, each operation's own cost was most of the time (docs/benchmarks.md §1.3).
The C++ source is compiled by ``torch.utils.cpp_extension.load_inline`` at the first call
in an environment (about 25 s; ``make install`` does it once) and loaded from PyTorch's
extension cache (``TORCH_EXTENSIONS_DIR``, by default ``~/.cache/torch_extensions``)
after that. Where it cannot be compiled (no C++ compiler) the tensor forms run instead,
after one warning; ``DR1MASK_CPU_KERNELS=0`` chooses them without trying.
"""
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Optional

SOURCE = Path(__file__).with_suffix('.cpp')
FUNCTIONS = ['argmax_map', 'replace_channels', 'paint', 'duplicate_things']
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
    from torch.utils.cpp_extension import load_inline
    try:
        return load_inline(name='mmdet_dr1mask_panoptic_kernels',
                           cpp_sources=[SOURCE.read_text()], functions=FUNCTIONS,
                           extra_cflags=['-O3'])
    except Exception as error:  # e.g. no C++ compiler: the tensor forms from now on
        warnings.warn(f'mmdet_dr1mask: the CPU panoptic kernels could not be built '
                      f'({error!r}); using the slower tensor operations instead (set '
                      'DR1MASK_CPU_KERNELS=0 to skip this attempt)', stacklevel=3)
        return None
