"""AlignedArgmax equals the arg-max of all channels resampled with grid_sample.

The reference below builds the sampling grid in its own way (meshgrid of normalised
coordinates), so that a mistake in AlignedArgmax's grid or chunking shows up.
"""
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


def smooth_logits(channels, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, channels, max(h // 4, 1), max(w // 4, 1), generator=g) * 4
    return F.interpolate(coarse, size=(h, w), mode='bilinear')[0]


@pytest.mark.parametrize('channels,basis,img,out', [
    (40, (25, 38), (100, 150), (67, 100)),   # smaller output: original image downscaled
    (40, (25, 38), (100, 150), (200, 300)),  # larger output
    (7, (1, 5), (3, 20), (3, 20)),           # one basis row
    (9, (16, 1), (64, 3), (100, 3)),         # one basis column, elongated
])
def test_equals_the_argmax_of_all_channels_resampled(channels, basis, img, out, monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 4096)  # several chunks
    logits = smooth_logits(channels, *basis, seed=channels)
    values = resampled(logits, img, out, stride=4)
    expected = values.argmax(0)
    got = AlignedArgmax(basis, img, out, 4, logits.device)(logits)
    assert got.shape == tuple(out) and got.dtype == torch.long
    differ = got != expected
    # any difference must be a floating-point tie between the two channels
    gap = (values.gather(0, expected[None]) - values.gather(0, got[None]))[0]
    assert (gap[differ] < 1e-4).all()
    assert differ.float().mean() < 1e-3


def test_argmax_at_a_subset_of_pixels_matches_the_full_map(monkeypatch):
    monkeypatch.setattr(aligned_argmax, 'MAX_RESAMPLED_VALUES', 1000)  # several chunks
    logits = smooth_logits(12, 10, 14, seed=3)
    resample = AlignedArgmax((10, 14), (40, 56), (30, 42), 4, logits.device)
    pixels = torch.rand(30, 42, generator=torch.Generator().manual_seed(0)) < 0.3
    expected = resampled(logits, (40, 56), (30, 42), 4).argmax(0)[pixels]
    assert torch.equal(resample.argmax_at(logits, pixels), expected)
    assert resample.argmax_at(logits, torch.zeros(30, 42, dtype=torch.bool)).numel() == 0


def test_noise_where_every_cell_is_a_border_still_matches():
    logits = torch.randn(20, 9, 13, generator=torch.Generator().manual_seed(1))
    values = resampled(logits, (36, 52), (50, 70), 4)
    got = AlignedArgmax((9, 13), (36, 52), (50, 70), 4, logits.device)(logits)
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
    original = resample.argmax_at
    monkeypatch.setattr(resample, 'argmax_at',
                        lambda lg, px: asked.append(px.clone()) or original(lg, px))
    got = resample(logits)
    (pixels,) = asked
    cols = pixels.nonzero()[:, 1].unique().tolist()
    assert cols == list(range(16, 20))  # input x in [16, 20): basis x in [4, 5)
    assert (got[:, :18] == 1).all() and (got[:, 18:] == 0).all()  # switch at basis x 4.5
