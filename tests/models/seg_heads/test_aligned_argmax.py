"""AlignedArgmax equals the arg-max of all channels resampled with grid_sample.

The reference below builds the sampling grid in its own way (meshgrid of normalised
coordinates), so that a mistake in AlignedArgmax's grid or chunking shows up. Both ways of
resampling the border pixels are checked: the compiled kernel (``fused``, CPU default) and
``grid_sample`` in chunks.
"""
import warnings

import pytest
import torch
import torch.nn.functional as F

from mmdet_dr1mask.models.seg_heads import aligned_argmax
from mmdet_dr1mask.models.seg_heads.aligned_argmax import AlignedArgmax


def resampled(logits, img_shape, out_shape, stride):
    """All channels at the output size by grid_sample: the definition AlignedArgmax meets.

    Output pixel y is input pixel (y + 0.5) * H_i / H_o - 0.5, and input pixel y_i is
    basis coordinate y_i / stride; beyond the first or last basis pixel the edge value.
    """
    _, h, w = logits.shape

    def grid(size_out, size_in, size_basis):
        coord = ((torch.arange(size_out) + 0.5) * size_in / size_out - 0.5) / stride
        return coord * (2 / max(size_basis - 1, 1)) - 1

    gy, gx = grid(out_shape[0], img_shape[0], h), grid(out_shape[1], img_shape[1], w)
    coords = torch.stack(torch.meshgrid(gy, gx, indexing='ij')[::-1], dim=-1)[None]
    return F.grid_sample(logits[None], coords, mode='bilinear', padding_mode='border',
                         align_corners=True)[0]


def kernel_on_small_maps_too(monkeypatch):
    """The compiled kernel wherever ``fused`` allows it, not only at the sizes where it is
    faster (more than 1 channel and 16 pixels, so that these tests compile it once)."""
    monkeypatch.setattr(aligned_argmax, 'use_fused_kernel',
                        lambda channels, pixels, basis_pixels: channels > 1 and pixels >= 16)


def smooth_logits(channels, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, channels, max(h // 4, 1), max(w // 4, 1), generator=g) * 4
    return F.interpolate(coarse, size=(h, w), mode='bilinear')[0]


@pytest.mark.parametrize('fused', [True, False])
@pytest.mark.parametrize('channels,basis,img,out', [
    (40, (25, 38), (100, 150), (67, 100)),   # smaller output: original image downscaled
    (40, (25, 38), (100, 150), (200, 300)),  # larger output
    (7, (1, 5), (3, 20), (3, 20)),           # one basis row
    (9, (16, 1), (64, 3), (100, 3)),         # one basis column, elongated
])
def test_equals_the_argmax_of_all_channels_resampled(channels, basis, img, out, fused,
                                                     monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 4096)  # several chunks
    kernel_on_small_maps_too(monkeypatch)
    logits = smooth_logits(channels, *basis, seed=channels)
    values = resampled(logits, img, out, stride=4)
    expected = values.argmax(0)
    got = AlignedArgmax(basis, img, out, 4, logits.device, fused=fused)(logits)
    assert got.shape == tuple(out) and got.dtype == torch.long
    differ = got != expected
    # any difference must be a floating-point tie between the two channels
    gap = (values.gather(0, expected[None]) - values.gather(0, got[None]))[0]
    assert (gap[differ] < 1e-4).all()
    assert differ.float().mean() < 1e-3


@pytest.mark.parametrize('fused', [True, False])
def test_argmax_at_a_subset_of_pixels_matches_the_full_map(fused, monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 1000)  # several chunks
    kernel_on_small_maps_too(monkeypatch)
    logits = smooth_logits(12, 10, 14, seed=3)
    resample = AlignedArgmax((10, 14), (40, 56), (30, 42), 4, logits.device, fused=fused)
    pixels = torch.rand(30, 42, generator=torch.Generator().manual_seed(0)) < 0.3
    expected = resampled(logits, (40, 56), (30, 42), 4).argmax(0)[pixels]
    assert torch.equal(resample.argmax_at(logits, pixels), expected)
    assert resample.argmax_at(logits, torch.zeros(30, 42, dtype=torch.bool)).numel() == 0


@pytest.mark.parametrize('fused', [True, False])
def test_noise_where_every_cell_is_a_border_still_matches(fused, monkeypatch):
    kernel_on_small_maps_too(monkeypatch)
    logits = torch.randn(20, 9, 13, generator=torch.Generator().manual_seed(1))
    values = resampled(logits, (36, 52), (50, 70), 4)
    got = AlignedArgmax((9, 13), (36, 52), (50, 70), 4, logits.device, fused=fused)(logits)
    gap = (values.max(0).values - values.gather(0, got[None])[0])
    assert (gap < 1e-4).all()


def test_only_pixels_of_cells_whose_corners_disagree_are_resampled(monkeypatch):
    # channel 1 wins left of basis column 5, channel 0 from there on: only the cells
    # between columns 4 and 5 have corners that disagree
    logits = torch.zeros(3, 6, 10)
    logits[0, :, 5:] = 1
    logits[1, :, :5] = 1
    resample = AlignedArgmax((6, 10), (24, 40), (24, 40), 4, logits.device)
    asked = []
    original = resample.argmax_at_pixels
    monkeypatch.setattr(resample, 'argmax_at_pixels',
                        lambda lg, rows, cols: asked.append(cols.clone())
                        or original(lg, rows, cols))
    got = resample(logits)
    (cols,) = asked
    assert cols.unique().tolist() == list(range(16, 20))  # input x [16, 20): basis x [4, 5)
    assert cols.numel() == 24 * 4  # every row, and nothing else
    assert (got[:, :18] == 1).all() and (got[:, 18:] == 0).all()  # switch at basis x 4.5


def test_border_pixels_of_a_cpu_map_go_through_the_compiled_kernel(monkeypatch):
    calls = []
    kernel = aligned_argmax.fused_kernel()
    assert kernel is not None, 'torch.compile failed on this machine'
    monkeypatch.setattr(aligned_argmax, 'fused_kernel',
                        lambda: lambda *args: calls.append(args[1].numel()) or kernel(*args))
    # noise: nearly every cell is a border, 160 × 200 = 32 k border pixels of 64 channels
    logits = torch.randn(aligned_argmax.MIN_FUSED_CHANNELS, 40, 50,
                         generator=torch.Generator().manual_seed(1))
    resample = AlignedArgmax((40, 50), (160, 200), (160, 200), 4, logits.device)
    resample(logits)
    assert calls and calls[0] >= aligned_argmax.MIN_FUSED_PIXELS + 40 * 50 // 2
    assert aligned_argmax._FUSED['kernel'] is not None  # it compiled and ran: no fallback
    calls.clear()
    AlignedArgmax((40, 50), (160, 200), (160, 200), 4, logits.device, fused=False)(logits)
    assert not calls


@pytest.mark.parametrize('channels,pixels,basis_pixels,kernel', [
    (153, 219_000, 200 * 267, True),   # random weights at COCO size: every cell a border
    (153, 20_000, 200 * 267, False),   # too few pixels for the copy of a COCO-sized basis
    (153, 20_000, 48 * 64, True),
    (40, 200_000, 200 * 267, False),   # too few channels at any size
    (12, 6_000, 48 * 64, False),       # a trained tiny model
])
def test_the_kernel_is_used_only_where_it_was_measured_faster(channels, pixels, basis_pixels,
                                                              kernel):
    assert aligned_argmax.use_fused_kernel(channels, pixels, basis_pixels) is kernel


def test_few_channels_go_to_grid_sample(monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'fused_kernel', lambda: pytest.fail('kernel used'))
    logits = torch.randn(12, 40, 50, generator=torch.Generator().manual_seed(1))
    AlignedArgmax((40, 50), (160, 200), (160, 200), 4, logits.device)(logits)


@pytest.mark.parametrize('channels,basis,img,out', [
    (12, (10, 14), (40, 56), (30, 42)),   # smaller output
    (12, (10, 14), (40, 56), (61, 85)),   # larger output, cells of different sizes
    (7, (1, 5), (3, 20), (3, 20)),        # one basis row
    (9, (16, 1), (64, 3), (100, 3)),      # one basis column
])
def test_parts_count_and_paint_what_the_full_map_holds(channels, basis, img, out):
    logits = smooth_logits(channels, *basis, seed=7)
    resample = AlignedArgmax(basis, img, out, 4, logits.device)
    full = resample(logits)
    parts = resample.parts(logits)
    # the counts per cell and resampled pixel are the counts of the painted map
    assert torch.equal(resample.counts(parts, channels),
                       torch.bincount(full.flatten(), minlength=channels))
    values = torch.randint(-5, 1000, (channels, ), dtype=torch.int32)
    painted = resample.paint(parts, values)
    assert painted.dtype == torch.int32 and torch.equal(painted, values[full])
    # the resampled pixels are those of the cells whose corners disagree, nothing else
    border = torch.zeros(out, dtype=torch.bool)
    border[parts.rows, parts.cols] = True
    assert len(parts.rows) == int(border.sum())
    assert torch.equal(border, (parts.cells < 0)[resample.cell_y][:, resample.cell_x])


@pytest.mark.parametrize('fused', [True, False])
def test_replace_gives_the_pixels_of_dropped_channels_to_the_best_remaining_one(
        fused, monkeypatch):
    kernel_on_small_maps_too(monkeypatch)
    # channel 3 (dropped) wins a block of whole cells and the borders around it; channel 4
    # (dropped) wins a few scattered basis pixels
    logits = smooth_logits(5, 12, 16, seed=2)
    logits[3] = -10
    logits[3, 3:9, 4:11] = 10
    logits[4] = -10
    logits[4, [1, 10], [14, 2]] = 10
    resample = AlignedArgmax((12, 16), (48, 64), (41, 53), 4, logits.device, fused=fused)
    parts = resample.parts(logits)
    assert ((parts.cells == 3).sum() > 10) and (parts.winners == 4).any()
    dropped = torch.tensor([False, False, False, True, True])
    replaced = resample.replace(parts, dropped, logits[:3])
    full = resample(logits)
    expected = torch.where(full >= 3, resampled(logits[:3], (48, 64), (41, 53), 4).argmax(0),
                           full)
    assert torch.equal(resample.paint(replaced, torch.arange(5)), expected)
    assert torch.equal(resample.counts(replaced, 5),
                       torch.bincount(expected.flatten(), minlength=5))
    # no pixel is listed twice
    flat = replaced.rows * 53 + replaced.cols
    assert flat.unique().numel() == flat.numel()


def test_eager_interpolated_argmax_equals_grid_sample():
    """The kernel's function itself (not compiled): corners, weights and edges as
    grid_sample's with border padding, including output pixels beyond the edge pixels."""
    logits = smooth_logits(9, 7, 11, seed=5)
    resample = AlignedArgmax((7, 11), (28, 44), (33, 517), 4, logits.device)
    rows, cols = torch.ones(33, 517, dtype=torch.bool).nonzero(as_tuple=True)
    got = aligned_argmax.interpolated_argmax(
        logits.permute(1, 2, 0).reshape(-1, 9), rows, cols, resample.row_lo, resample.row_hi,
        resample.weight_y, resample.cell_x, resample.upper_x, resample.weight_x)
    values = resampled(logits, (28, 44), (33, 517), 4)
    gap = values.max(0).values.flatten() - values.flatten(1).gather(0, got[None])[0]
    assert (gap < 1e-5).all()


def test_a_kernel_that_fails_falls_back_to_grid_sample_with_a_warning(monkeypatch):
    def broken(*args):
        raise RuntimeError('no C++ compiler')
    monkeypatch.setitem(aligned_argmax._FUSED, 'kernel', broken)
    kernel_on_small_maps_too(monkeypatch)
    logits = smooth_logits(12, 10, 14, seed=3)
    resample = AlignedArgmax((10, 14), (40, 56), (30, 42), 4, logits.device)
    pixels = torch.ones(30, 42, dtype=torch.bool)
    with pytest.warns(UserWarning, match='no C\\+\\+ compiler'):
        got = resample.argmax_at(logits, pixels)
    expected = resampled(logits, (40, 56), (30, 42), 4).argmax(0)[pixels]
    assert torch.equal(got, expected)
    assert aligned_argmax._FUSED['kernel'] is None  # not tried again in this process
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert torch.equal(resample.argmax_at(logits, pixels), expected)
