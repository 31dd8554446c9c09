"""AlignedArgmax equals the arg-max of all channels resampled with grid_sample.

The reference below builds the sampling grid in its own way (meshgrid of normalised
coordinates), so that a mistake in AlignedArgmax's grid or chunking shows up. Both forms are
checked: the C++ kernels (``native``, the CPU default) and the tensor form (``grid_sample``
in chunks at the border pixels).
"""
import pytest
import torch
import torch.nn.functional as F

from mmdet_dr1mask.models.seg_heads import aligned_argmax
from mmdet_dr1mask.models.seg_heads.aligned_argmax import AlignedArgmax, ArgmaxMap, ArgmaxParts
from mmdet_dr1mask.models.seg_heads.panoptic_kernels import cpu_kernels


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


def argmax(basis, img, out, native):
    """An AlignedArgmax of the given form; the C++ one is skipped where it cannot be built."""
    if native and cpu_kernels() is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    return AlignedArgmax(basis, img, out, 4, 'cpu', native=native)


def smooth_logits(channels, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, channels, max(h // 4, 1), max(w // 4, 1), generator=g) * 4
    return F.interpolate(coarse, size=(h, w), mode='bilinear')[0]


@pytest.mark.parametrize('native', [True, False])
@pytest.mark.parametrize('channels,basis,img,out', [
    (40, (25, 38), (100, 150), (67, 100)),   # smaller output: original image downscaled
    (40, (25, 38), (100, 150), (200, 300)),  # larger output
    (7, (1, 5), (3, 20), (3, 20)),           # one basis row
    (9, (16, 1), (64, 3), (100, 3)),         # one basis column, elongated
])
def test_equals_the_argmax_of_all_channels_resampled(channels, basis, img, out, native,
                                                     monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 4096)  # several chunks
    logits = smooth_logits(channels, *basis, seed=channels)
    values = resampled(logits, img, out, stride=4)
    expected = values.argmax(0)
    got = argmax(basis, img, out, native)(logits)
    assert got.shape == tuple(out) and got.dtype == torch.long
    differ = got != expected
    # any difference must be a floating-point tie between the two channels
    gap = (values.gather(0, expected[None]) - values.gather(0, got[None]))[0]
    assert (gap[differ] < 1e-4).all()
    assert differ.float().mean() < 1e-3


@pytest.mark.parametrize('native', [True, False])
def test_argmax_at_a_subset_of_pixels_matches_the_full_map(native, monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 1000)  # several chunks
    logits = smooth_logits(12, 10, 14, seed=3)
    resample = argmax((10, 14), (40, 56), (30, 42), native)
    pixels = torch.rand(30, 42, generator=torch.Generator().manual_seed(0)) < 0.3
    expected = resampled(logits, (40, 56), (30, 42), 4).argmax(0)[pixels]
    assert torch.equal(resample.argmax_at(logits, pixels), expected)
    assert resample.argmax_at(logits, torch.zeros(30, 42, dtype=torch.bool)).numel() == 0


@pytest.mark.parametrize('native', [True, False])
def test_noise_where_every_cell_is_a_border_still_matches(native):
    logits = torch.randn(20, 9, 13, generator=torch.Generator().manual_seed(1))
    values = resampled(logits, (36, 52), (50, 70), 4)
    got = argmax((9, 13), (36, 52), (50, 70), native)(logits)
    gap = (values.max(0).values - values.gather(0, got[None])[0])
    assert (gap < 1e-4).all()


def test_only_pixels_of_cells_whose_corners_disagree_are_resampled(monkeypatch):
    # channel 1 wins left of basis column 5, channel 0 from there on: only the cells
    # between columns 4 and 5 have corners that disagree
    logits = torch.zeros(3, 6, 10)
    logits[0, :, 5:] = 1
    logits[1, :, :5] = 1
    resample = AlignedArgmax((6, 10), (24, 40), (24, 40), 4, logits.device, native=False)
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


@pytest.mark.parametrize('channels,basis,img,out', [
    (12, (10, 14), (40, 56), (30, 42)),   # smaller output
    (12, (10, 14), (40, 56), (61, 85)),   # larger output, cells of different sizes
    (7, (1, 5), (3, 20), (3, 20)),        # one basis row
    (9, (16, 1), (64, 3), (100, 3)),      # one basis column
])
def test_parts_count_and_paint_what_the_full_map_holds(channels, basis, img, out):
    logits = smooth_logits(channels, *basis, seed=7)
    resample = AlignedArgmax(basis, img, out, 4, logits.device, native=False)
    full = resample(logits)
    parts = resample.parts(logits)
    assert isinstance(parts, ArgmaxParts)
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


@pytest.mark.parametrize('native', [True, False])
def test_replace_gives_the_pixels_of_dropped_channels_to_the_best_remaining_one(native):
    # channel 3 (dropped) wins a block of whole cells and the borders around it; channel 4
    # (dropped) wins a few scattered basis pixels
    logits = smooth_logits(5, 12, 16, seed=2)
    logits[3] = -10
    logits[3, 3:9, 4:11] = 10
    logits[4] = -10
    logits[4, [1, 10], [14, 2]] = 10
    resample = argmax((12, 16), (48, 64), (41, 53), native)
    parts = resample.parts(logits)
    if not native:
        assert ((parts.cells == 3).sum() > 10) and (parts.winners == 4).any()
    dropped = torch.tensor([False, False, False, True, True])
    replaced = resample.replace(parts, dropped, logits[:3])
    full = resample(logits)
    expected = torch.where(full >= 3, resampled(logits[:3], (48, 64), (41, 53), 4).argmax(0),
                           full)
    assert torch.equal(resample.paint(replaced, torch.arange(5)), expected)
    assert torch.equal(resample.counts(replaced, 5),
                       torch.bincount(expected.flatten(), minlength=5))
    if not native:  # no pixel is listed twice
        flat = replaced.rows * 53 + replaced.cols
        assert flat.unique().numel() == flat.numel()


@pytest.mark.parametrize('channels,basis,img,out', [
    (12, (10, 14), (40, 56), (30, 42)),   # smaller output
    (12, (10, 14), (40, 56), (61, 85)),   # larger output, cells of different sizes
    (7, (1, 5), (3, 20), (3, 20)),        # one basis row
    (9, (16, 1), (64, 3), (100, 3)),      # one basis column
    (3, (7, 11), (28, 44), (33, 517)),    # output pixels beyond the edge basis pixels
    (1, (5, 6), (20, 24), (20, 24)),      # one channel
])
def test_the_kernels_map_counts_and_paint_equal_the_tensor_form(channels, basis, img, out):
    logits = smooth_logits(channels, *basis, seed=11)
    native = argmax(basis, img, out, True)
    tensors = AlignedArgmax(basis, img, out, 4, 'cpu', native=False)
    made, parts = native.parts(logits), tensors.parts(logits)
    assert isinstance(made, ArgmaxMap)
    expected = tensors.paint(parts, torch.arange(channels))
    assert made.channels.shape == tuple(out) and torch.equal(made.channels, expected)
    assert torch.equal(native.counts(made, channels), tensors.counts(parts, channels))
    for dtype in (torch.int32, torch.long):  # the panoptic values are int32
        values = torch.randint(-5, 1 << 30, (channels, ), dtype=dtype)
        painted = native.paint(made, values)
        assert painted.dtype == dtype and torch.equal(painted, tensors.paint(parts, values))


def test_the_kernels_skip_only_channels_that_cannot_win_in_a_cell():
    """A channel that is second at every corner of a cell wins its middle (no corner's
    winner does), so it must be among the channels a border cell resamples; a channel below
    every other one everywhere must not change the result."""
    logits = torch.full((4, 2, 2), -50.0)
    logits[0, :, 0] = 10   # left column
    logits[1, :, 1] = 10   # right column
    logits[2] = 6          # second everywhere, first in the middle (5 against 6)
    logits[0, :, 1] = logits[1, :, 0] = 0
    got = argmax((2, 2), (8, 8), (8, 8), True)(logits)
    expected = resampled(logits, (8, 8), (8, 8), 4).argmax(0)
    assert (got == 2).any() and torch.equal(got, expected)


def test_the_kernels_can_be_switched_off(monkeypatch):
    resample = AlignedArgmax((10, 14), (40, 56), (30, 42), 4, 'cpu')
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', '0')
    assert cpu_kernels() is None and resample.kernels is None
    assert isinstance(resample.parts(smooth_logits(5, 10, 14, seed=1)), ArgmaxParts)


@pytest.mark.parametrize('native', [True, False])
def test_logits_of_another_size_than_the_geometry_are_refused(native):
    resample = argmax((10, 14), (40, 56), (30, 42), native)
    with pytest.raises(ValueError, match='expected \\(C, 10, 14\\)'):
        resample.parts(torch.randn(3, 10, 15))
    parts = resample.parts(torch.randn(3, 10, 14))
    with pytest.raises(ValueError, match='expected'):
        resample.replace(parts, torch.tensor([False, False, True]), torch.randn(2, 9, 14))


def test_the_geometry_predict_shares_uses_the_kernels_on_cpu():
    if cpu_kernels() is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    resample = AlignedArgmax.of_geometry((10, 14), (40, 56), (30, 42), 4, 'cpu')
    assert isinstance(resample.parts(smooth_logits(5, 10, 14, seed=1)), ArgmaxMap)
