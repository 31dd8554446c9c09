"""Aligned ×2 up-sampling (DR1Mask paper Sec. 3.3 and Table 5, "4 w/ aligned").

A stride-2 convolution with padding ``k // 2`` puts output pixel i on input
pixel 2i, so a map of size h comes from a finer one of size 2h - 1 or 2h. The
matching up-sampling maps fine pixel j to coarse coordinate j / 2 (not
(j + 0.5) / 2 - 0.5 as ``align_corners=False`` does) and crops the right and
bottom edges to the finer size. With it the input only has to be padded to a
multiple of the output stride (4) instead of 32 or 128.
"""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

UPSAMPLE_MODES = ('aligned', 'bilinear')


def aligned_upsample2x(x: Tensor, size: Sequence[int]) -> Tensor:
    """Up-sample ``x`` by 2 so that fine pixel j lies at coarse coordinate j / 2.

    Args:
        x: (N, C, h, w) coarse map.
        size: (H, W) of the finer map, with 2h - 1 <= H <= 2h (same for W);
            the last fine row/column beyond coarse pixel h - 1 repeats the edge.

    Returns:
        (N, C, H, W) up-sampled map.
    """
    h, w = x.shape[-2:]
    out_h, out_w = size[0], size[1]  # no int(): an exported graph keeps them dynamic
    if not (2 * h - 1 <= out_h <= 2 * h and 2 * w - 1 <= out_w <= 2 * w):
        raise ValueError(f'aligned ×2 up-sampling of a {h}x{w} map cannot give {out_h}x{out_w}; '
                         'expected a size within one pixel of twice the input')
    # One replicated row/column, then align_corners=True onto 2h + 1 points:
    # output j <-> input j * h / (2h) = j / 2 exactly.
    x = F.pad(x, (0, 1, 0, 1), mode='replicate')
    y = F.interpolate(x, size=(2 * h + 1, 2 * w + 1), mode='bilinear', align_corners=True)
    return y[..., :out_h, :out_w]


def upsample_like(x: Tensor, size: Sequence[int], mode: str = 'aligned') -> Tensor:
    """×2 up-sampling of ``x`` to ``size`` with the basis' up-sampling ``mode``.

    Args:
        x: (N, C, h, w) coarse map.
        size: (H, W) of the finer map.
        mode: ``'aligned'`` (:func:`aligned_upsample2x`) or ``'bilinear'``
            (``F.interpolate(size=..., align_corners=False)``, the usual FPN
            resize, for the padding-32/128 rows of Table 5).
    """
    if mode == 'aligned':
        return aligned_upsample2x(x, size)
    if mode == 'bilinear':
        return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)
    raise ValueError(f"upsample mode must be 'aligned' or 'bilinear', got {mode!r}")


def sample_at_stride(values: Tensor, stride: int, size: Sequence[int], fill) -> Tensor:
    """Input-resolution targets on the aligned grid of a stride-``stride`` map.

    Under the alignment above, pixel (i, j) of a stride-s map lies on input pixel
    (s·i, s·j), so a target at that resolution is the input target sampled there (no
    averaging, which would invent labels at object borders).

    Args:
        values: (..., H, W) targets at the (padded) input resolution.
        stride: the map's stride s.
        size: (h, w) of the map; rows/columns beyond the sampled values get ``fill``,
            sampled values beyond (h, w) are cropped.
        fill: value of the filled pixels (e.g. the ignore index, or ``False``).

    Returns:
        (..., h, w) tensor of ``values``' dtype.
    """
    h, w = int(size[0]), int(size[1])
    sampled = values[..., ::stride, ::stride]
    out = values.new_full((*values.shape[:-2], h, w), fill)
    hh, ww = min(h, sampled.size(-2)), min(w, sampled.size(-1))
    out[..., :hh, :ww] = sampled[..., :hh, :ww]
    return out
