"""A stand-in for mmcv's compiled ``mmcv._ext`` whose two inference ops run torchvision's kernels.

For timing on a CUDA machine whose mmcv has no compiled ops (mmcv 2.1.0 has no wheel for
the machine's torch and CUDA, and building its CUDA ops takes longer than the machine is
lent). ``benchmarks/gpu/run_on_lent_gpu.sh`` copies this file to ``mmcv/_ext.py`` of a
source copy of mmcv; nothing in the package imports it.

Only the ops that the benchmarked models run at inference are given:

* ``nms``: torchvision's NMS (mmcv's ``NMSop`` is modified from it; both keep boxes in
  descending score order, IoU with ``offset`` 0);
* ``roi_align_forward``: torchvision's ``roi_align`` (mmcv's ``RoIAlign`` itself offers
  it as ``use_torchvision=True``; both are Detectron2's ``aligned`` RoIAlign with the same
  sampling grid), average pooling only.

Both run with autocast off, as mmcv's kernels do (torchvision's own autocast wrappers
would compute in FP32). Every other name loads, so that ``import mmcv.ops`` works, and
raises ``NotImplementedError`` when called. ``benchmarks/gpu/check_ops.py`` compares the
two against float64 references; docs/benchmarks.md §1.4 gives the results.
"""
from typing import Any, Callable

import torch
from torch import Tensor
from torchvision.ops import nms as _tv_nms
from torchvision.ops import roi_align as _tv_roi_align


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float, offset: int = 0) -> Tensor:
    """Indices of the kept (N, 4) ``boxes``, in descending order of their (N,) ``scores``."""
    if offset != 0:
        raise NotImplementedError('torchvision NMS has no offset 1 (legacy box widths)')
    with torch.autocast(boxes.device.type, enabled=False):
        # torchvision wants one dtype; converting the scores keeps their order.
        return _tv_nms(boxes, scores.to(boxes.dtype), float(iou_threshold))


def roi_align_forward(input: Tensor, rois: Tensor, output: Tensor, argmax_y: Tensor,
                      argmax_x: Tensor, aligned_height: int, aligned_width: int,
                      spatial_scale: float, sampling_ratio: int, pool_mode: int,
                      aligned: bool) -> None:
    """RoIAlign of (N, C, H, W) ``input`` over (K, 5) ``rois`` into (K, C, h, w) ``output``."""
    if pool_mode != 1:
        raise NotImplementedError('only average pooling (pool_mode 1) is provided')
    with torch.autocast(input.device.type, enabled=False):
        output.copy_(_tv_roi_align(input, rois, (aligned_height, aligned_width),
                                   spatial_scale, sampling_ratio, aligned))


def __getattr__(name: str) -> Callable[..., Any]:
    """Any other compiled op: present for mmcv's import-time checks, an error when called."""
    if name.startswith('__'):
        raise AttributeError(name)

    def missing(*args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f'mmcv op {name!r} is not in the torchvision stand-in '
                                  '(benchmarks/gpu/mmcv_ext_torchvision.py)')

    return missing
