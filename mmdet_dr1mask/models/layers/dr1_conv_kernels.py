"""CPU kernels of DR1Conv's inference path (``dr1_conv_kernels.cpp``).

PyTorch's CPU convolution of an NCHW tensor reorders its input into oneDNN's blocked layout
and its output back; the convolution of a channels-last tensor needs neither. The kernels
do DR1Conv's two products (Eq. 4) in the two passes that a convolution in channels-last
memory needs to take NCHW in and give NCHW out: ``mul_to_channels_last`` writes X ∘ A
channels-last, ``act_mul_from_channels_last`` writes act(Y) ∘ B back to NCHW
(docs/benchmarks.md, component costs). Built like the panoptic kernels
(``cpu_extension.py``): at the first use, with a warning and the tensor form where they
cannot be built, never with ``DR1MASK_CPU_KERNELS=0``.
"""
from pathlib import Path
from types import ModuleType
from typing import Optional

from ..cpu_extension import cpu_kernels_of

SOURCE = Path(__file__).with_suffix('.cpp')
FUNCTIONS = ['mul_to_channels_last', 'act_mul_from_channels_last']


def dr1_conv_kernels() -> Optional[ModuleType]:
    """The compiled kernels (``FUNCTIONS``), or None where they are switched off
    (``DR1MASK_CPU_KERNELS=0``) or could not be built in this process."""
    return cpu_kernels_of('mmdet_dr1mask_dr1_conv_kernels', SOURCE, FUNCTIONS,
                          'CPU DR1Conv kernels')
