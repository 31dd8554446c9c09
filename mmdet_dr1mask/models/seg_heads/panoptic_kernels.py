"""CPU kernels of the panoptic post-processing (``panoptic_kernels.cpp``).

On CPU, ``AlignedArgmax`` makes its arg-max map (and, called on their own, edits and
paints it), ``DR1PanopticHead.predict`` turns that map into the panoptic map (covered
things, their replacement, the panoptic values, the painting) and runs its duplicate
filter, and its forward subtracts the position prior in inference, each in one C++ call
instead of tens of tensor operations: for the tiny trained
models, whose panoptic maps have a few channels and 50 k pixels, each operation's own cost
was most of the time (docs/benchmarks.md §1.3).
The C++ source is compiled at the first call in an environment (about 25 s; ``make
install`` does it once), with OpenMP where PyTorch uses it; where it cannot be compiled the
tensor forms run instead, after one warning (``cpu_extension.py``).
"""
from pathlib import Path
from types import ModuleType
from typing import Optional

from ..cpu_extension import cpu_kernels_of

SOURCE = Path(__file__).with_suffix('.cpp')
FUNCTIONS = ['argmax_map', 'replace_channels', 'paint', 'panoptic_map', 'kept_things',
             'subtract_position_prior']


def cpu_kernels() -> Optional[ModuleType]:
    """The compiled kernels (``FUNCTIONS``), or None where they are switched off
    (``DR1MASK_CPU_KERNELS=0``) or could not be built in this process."""
    return cpu_kernels_of('mmdet_dr1mask_panoptic_kernels', SOURCE, FUNCTIONS,
                          'CPU panoptic kernels')
