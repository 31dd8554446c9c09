"""Arg-max over channels of logits resampled ("aligned") to the output image.

DR1Mask's panoptic layer (Sec. 3.3) produces C = S + K logit maps at the basis stride;
the panoptic map is their per-pixel arg-max at the original image size (C = 153 and
0.3 M pixels for a COCO image with 100 things). Geometry, as the rest of the package's
aligned up-sampling: original pixel y lies at input pixel (y + 0.5) * H_i / H_o - 0.5
and input pixel y_i at basis coordinate y_i / stride (basis pixel i sits on input pixel
stride * i); beyond the first or last basis pixel the edge value.

Only the pixels near a change of the arg-max need resampling. Bilinear interpolation
is a convex combination of a cell's four corners (basis pixels), so a channel that is
the largest at all four corners is the largest everywhere inside the cell. The arg-max
is taken once at the basis resolution; output pixels in cells whose corners agree take
that channel, and only the pixels of the remaining cells (the segment borders) are
resampled over all channels. The result equals the arg-max of the fully resampled
logits (up to ties). Even when the borders cover the whole image (untrained weights),
resampling the listed pixels costs no more than resampling whole rows (COCO image,
140 channels: 79 against 83 ms), so there is no separate dense path.

The map can stay in these parts (``ArgmaxParts``: the cells' channels and the resampled
pixels) while the caller needs only per-channel facts: ``counts`` counts each channel's
pixels from the cells (weighted by their pixels) and the listed pixels, ``replace``
redoes the pixels of some channels over others, and ``paint`` writes a value per channel
to the output map once (DR1PanopticHead.predict paints the panoptic encoding directly).

On CPU the map is made, edited and painted by C++ kernels (``panoptic_kernels.py``) in one
pass over the output each (``ArgmaxMap``; DR1PanopticHead.predict edits and paints it with
the panoptic values in one call, ``panoptic_map``): the arg-max at the basis, then per
output row each cell's span, filled with the cell's channel or, in a border cell,
resampled over the channels that can win there, with the per-channel pixel counts on the
way. For a trained
tiny model's 192×256 maps of a few channels the tensor form (``ArgmaxParts``) took about
0.5 ms of tens of small operations and the kernels about 0.25 ms; for COCO-sized maps the
kernels were faster on a smooth random basis and level where every cell is a border
(docs/benchmarks.md §1.3). The tensor form runs on GPU and where the kernels cannot be
built; it resamples the border pixels with ``grid_sample``, in chunks.
"""
import functools
from types import ModuleType
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .panoptic_kernels import cpu_kernels

# resample in chunks of at most this many values (8 MB): glibc returns larger blocks to the
# system when they are freed, so each bigger chunk paid its page faults again (a COCO image
# with 153 channels: 170-190 ms with 64 MB chunks, 100-130 ms with 4-16 MB ones)
MAX_RESAMPLED_VALUES = 1 << 21

class ArgmaxParts(NamedTuple):
    """An arg-max map in parts, as ``AlignedArgmax.parts`` gives it in tensor form.

    Attributes:
        cells: (h_c, w_c) long, the channel of each cell whose four corners agree (it
            wins at every output pixel of the cell), -1 for the other cells.
        rows, cols: (P,) long, the output pixels of the other cells.
        winners: (P,) long, the channel at each of those pixels.
    """
    cells: Tensor
    rows: Tensor
    cols: Tensor
    winners: Tensor


class ArgmaxMap(NamedTuple):
    """An arg-max map as the CPU kernels give it (``AlignedArgmax.parts``).

    Attributes:
        channels: (H_o, W_o) long, the channel of every output pixel.
        counts: (C,) long, the pixels of each channel.
    """
    channels: Tensor
    counts: Tensor


class AlignedArgmax:
    """Arg-max over channels of (C, h, w) logits resampled aligned to (H_o, W_o).

    Args:
        basis_size: (h, w) of the logits.
        img_shape: (H_i, W_i) network input size of the image (before padding).
        out_shape: (H_o, W_o) size of the output map.
        stride: basis stride in input pixels.
        device: where the logits are.
        native: on CPU, use the C++ kernels where they can be built (see the module doc);
            False always uses the tensor form.
    """

    def __init__(self, basis_size: Sequence[int], img_shape: Sequence[int],
                 out_shape: Sequence[int], stride: int, device: torch.device,
                 native: bool = True) -> None:
        self.basis_size = (int(basis_size[0]), int(basis_size[1]))
        self.out_shape = (int(out_shape[0]), int(out_shape[1]))
        self.native = native and torch.device(device).type == 'cpu'

        def axis(size_out: int, size_in: int, size_basis: int) -> Tuple[Tensor, ...]:
            pos = torch.arange(size_out, device=device, dtype=torch.float32) + 0.5
            coord = (pos * size_in / size_out - 0.5) / stride  # basis index coordinate
            inside = coord.clamp(0, size_basis - 1)  # beyond the edge pixels: their value
            # the cell (pair of basis pixels lo, lo + 1) each output pixel falls in
            cell = inside.floor().long().clamp(max=max(size_basis - 2, 0))
            upper = (cell + 1).clamp(max=size_basis - 1)
            # grid_sample's normalised coordinate (align_corners), the cell, its upper
            # corner and the weight of that corner
            return (coord * (2 / max(size_basis - 1, 1)) - 1, cell, upper, inside - cell)

        self.gy, self.cell_y, self.upper_y, self.weight_y = axis(
            self.out_shape[0], img_shape[0], self.basis_size[0])
        self.gx, self.cell_x, self.upper_x, self.weight_x = axis(
            self.out_shape[1], img_shape[1], self.basis_size[1])
        # the kernels' geometry: lower and upper corner and the upper one's weight per axis
        self.tables = (self.cell_y, self.upper_y, self.weight_y, self.cell_x, self.upper_x,
                       self.weight_x)
    @property
    def kernels(self) -> Optional[ModuleType]:
        """The CPU kernels (``panoptic_kernels.cpu_kernels``), or None for the tensor form."""
        return cpu_kernels() if self.native else None

    @functools.cached_property
    def cell_index(self) -> Tensor:
        """(H_o, W_o) flat index of each output pixel's cell in the (h_c, w_c) cell map (the
        tensor form's): one ``take`` expands a cell map (twice as fast as index_select along
        both axes)."""
        return self.cell_y[:, None] * max(self.basis_size[1] - 1, 1) + self.cell_x

    @functools.cached_property
    def cell_pixels(self) -> Tensor:
        """(h_c * w_c,) output pixels in each cell, to count a channel's pixels per cell."""
        cells_y, cells_x = max(self.basis_size[0] - 1, 1), max(self.basis_size[1] - 1, 1)
        return (torch.bincount(self.cell_y, minlength=cells_y)[:, None] *
                torch.bincount(self.cell_x, minlength=cells_x)).flatten()

    @staticmethod
    def of_geometry(basis_size: Sequence[int], img_shape: Sequence[int],
                    out_shape: Sequence[int], stride: int,
                    device: torch.device) -> 'AlignedArgmax':
        """The instance for this geometry, built once and shared (``native=True``): images
        of one size, as in a batch or a video, reuse its tables (0.1 ms to build for a
        192×256 image on CPU). Only the last two geometries are kept: the tensor form's
        hold an (H_o, W_o) int64 cell index, 96 MB for a 12-megapixel photo."""
        return _of_geometry(tuple(int(v) for v in basis_size[:2]),
                            tuple(int(v) for v in img_shape[:2]),
                            tuple(int(v) for v in out_shape[:2]), int(stride),
                            torch.device(device))

    def __call__(self, logits: Tensor) -> Tensor:
        """(H_o, W_o) long: the channel of largest resampled logit at every output pixel.

        Args:
            logits: (C, h, w).
        """
        return self.paint(self.parts(logits), torch.arange(logits.size(0), device=logits.device))

    def parts(self, logits: Tensor) -> Union[ArgmaxParts, ArgmaxMap]:
        """The arg-max map: made by the CPU kernels (``ArgmaxMap``), or as cells whose
        corners agree and the pixels of the other cells (``ArgmaxParts``).

        Args:
            logits: (C, h, w).
        """
        self._check_size(logits)
        kernels = self.kernels
        if kernels is not None:
            return ArgmaxMap(*kernels.argmax_map(logits.float().contiguous(), *self.tables))
        best = logits.max(0).indices  # (h, w) arg-max at the basis pixels
        top, bottom = (best[:-1], best[1:]) if self.basis_size[0] > 1 else (best, best)
        if self.basis_size[1] > 1:
            corners = (top[:, :-1], top[:, 1:], bottom[:, :-1], bottom[:, 1:])
        else:
            corners = (top, top, bottom, bottom)
        # (h_c, w_c) the cells where not one channel wins at all four corners
        disagree = (corners[0] != corners[1]) | (corners[0] != corners[2]) | \
            (corners[0] != corners[3])
        rows, cols = disagree.take(self.cell_index).nonzero(as_tuple=True)
        return ArgmaxParts(corners[0].masked_fill(disagree, -1), rows, cols,
                           self.argmax_at_pixels(logits, rows, cols))

    def counts(self, parts: Union[ArgmaxParts, ArgmaxMap], num_channels: int) -> Tensor:
        """(num_channels,) int64: the output pixels of each channel in the map of ``parts``.

        ``ArgmaxParts`` are counted per cell (its pixels at once) and per resampled pixel, no
        pass over the map; scatter-adds, as ``bincount`` with weights has no deterministic
        CUDA kernel.
        """
        if isinstance(parts, ArgmaxMap):
            return parts.counts
        counts = torch.zeros(num_channels + 1, dtype=torch.long, device=parts.cells.device)
        counts.scatter_add_(0, parts.cells.flatten() + 1, self.cell_pixels)  # 0: cells of -1
        return counts[1:].scatter_add_(0, parts.winners, torch.ones_like(parts.winners))

    def paint(self, parts: Union[ArgmaxParts, ArgmaxMap], values: Tensor) -> Tensor:
        """(H_o, W_o): ``values[channel]`` at every output pixel of the map of ``parts``.

        Args:
            parts: an arg-max map from ``parts``.
            values: (C,) int32 or int64, a value per channel (``arange(C)`` gives the
                channel map).
        """
        if isinstance(parts, ArgmaxMap):
            return self.kernels.paint(parts.channels, values)
        out = values[parts.cells.clamp(min=0)].take(self.cell_index)
        out[parts.rows, parts.cols] = values[parts.winners]
        return out

    def replace(self, parts: Union[ArgmaxParts, ArgmaxMap], dropped: Tensor,
                logits: Tensor) -> Union[ArgmaxParts, ArgmaxMap]:
        """``parts`` with every pixel of a ``dropped`` channel given the arg-max over
        ``logits`` instead (e.g. a dropped thing's pixels go to the best stuff class). An
        ``ArgmaxMap``'s channels are changed in place.

        Args:
            parts: an arg-max map from ``parts``, over C channels.
            dropped: (C,) bool.
            logits: (C', h, w), channels ``[0, C')`` of the map, none of them dropped.
        """
        self._check_size(logits)
        if isinstance(parts, ArgmaxMap):
            return ArgmaxMap(parts.channels, self.kernels.replace_channels(
                parts.channels, dropped.contiguous(), logits.float().contiguous(),
                *self.tables))
        # the pixels of cells won by a dropped channel join the listed pixels; those and the
        # listed pixels won by a dropped channel are resampled over `logits` in one call
        won = (parts.cells >= 0) & dropped[parts.cells.clamp(min=0)]
        rows, cols = won.take(self.cell_index).nonzero(as_tuple=True)
        at = dropped[parts.winners].nonzero()[:, 0]
        winners = self.argmax_at_pixels(logits, torch.cat([parts.rows[at], rows]),
                                        torch.cat([parts.cols[at], cols]))
        return ArgmaxParts(parts.cells.masked_fill(won, -1), torch.cat([parts.rows, rows]),
                           torch.cat([parts.cols, cols]),
                           torch.cat([parts.winners.index_put((at, ), winners[:at.numel()]),
                                      winners[at.numel():]]))

    def _check_size(self, logits: Tensor) -> None:
        """The kernels index the logits by this geometry's tables: a map of another size
        is refused here rather than read out of bounds."""
        if logits.dim() != 3 or tuple(logits.shape[1:]) != self.basis_size:
            raise ValueError(f'AlignedArgmax: logits of shape {tuple(logits.shape)}, expected '
                             f'(C, {self.basis_size[0]}, {self.basis_size[1]})')

    def argmax_at(self, logits: Tensor, pixels: Tensor) -> Tensor:
        """(P,) arg-max over the channels at the P output pixels where ``pixels`` is True.

        Args:
            logits: (C, h, w).
            pixels: (H_o, W_o) bool.
        """
        return self.argmax_at_pixels(logits, *pixels.nonzero(as_tuple=True))

    def argmax_at_pixels(self, logits: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
        """(P,) arg-max over the channels at the output pixels ``(rows[p], cols[p])``, by
        ``grid_sample`` in chunks.

        Args:
            logits: (C, h, w).
            rows, cols: (P,) long output row and column of each pixel.
        """
        out = torch.empty(rows.numel(), dtype=torch.long, device=logits.device)
        step = max(1, MAX_RESAMPLED_VALUES // max(logits.size(0), 1))
        for start in range(0, rows.numel(), step):
            r, c = rows[start:start + step], cols[start:start + step]
            coords = torch.stack([self.gx[c], self.gy[r]], dim=-1)[None]  # (1, P_chunk, 2)
            out[start:start + step] = self._sample(logits, coords)[:, 0].max(0).indices
        return out

    @staticmethod
    def _sample(logits: Tensor, coords: Tensor) -> Tensor:
        """(C, *coords.shape[:2]) bilinear values at normalised (x, y) ``coords``."""
        return F.grid_sample(logits[None], coords[None].to(logits.dtype), mode='bilinear',
                             padding_mode='border', align_corners=True)[0]


@functools.lru_cache(maxsize=2)
def _of_geometry(basis_size: Tuple[int, int], img_shape: Tuple[int, int],
                 out_shape: Tuple[int, int], stride: int,
                 device: torch.device) -> AlignedArgmax:
    return AlignedArgmax(basis_size, img_shape, out_shape, stride, device)

