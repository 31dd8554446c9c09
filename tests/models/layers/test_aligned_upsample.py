"""Aligned ×2 up-sampling: fine pixel j lies at coarse coordinate j / 2 (Table 5)."""
import pytest
import torch
import torch.nn.functional as F

from mmdet_dr1mask.models.layers import aligned_upsample2x, sample_at_stride, upsample_like


@pytest.mark.parametrize('fine', [(9, 13), (10, 14), (1, 2)])
def test_undoes_stride_two_sampling_of_a_linear_ramp(fine):
    # A stride-2 conv with padding k // 2 samples fine pixel 2i; a linear ramp must come back.
    h, w = fine
    ramp = (torch.arange(h, dtype=torch.float)[:, None] * 3
            + torch.arange(w, dtype=torch.float)[None] * 0.5)[None, None]
    coarse = ramp[..., ::2, ::2]
    up = aligned_upsample2x(coarse, (h, w))
    # exact wherever the fine pixel lies inside the coarse grid (j <= 2 (h_c - 1))
    hc, wc = coarse.shape[-2:]
    inside = (..., slice(0, 2 * hc - 1), slice(0, 2 * wc - 1))
    torch.testing.assert_close(up[inside], ramp[inside])
    # beyond it (even fine sizes) the edge repeats
    if h == 2 * hc:
        torch.testing.assert_close(up[..., -1, :2 * wc - 1], ramp[..., -2, :2 * wc - 1])


def test_strided_conv_then_upsample_is_aligned_with_the_input():
    # A 3x3 stride-2 conv with a centred delta kernel picks input pixel 2i: aligned up-sampling
    # puts it back on the same pixel, the usual align_corners=False resize shifts it.
    x = torch.zeros(1, 1, 11, 11)
    x[..., 4, 6] = 1.0
    delta = torch.zeros(1, 1, 3, 3)
    delta[..., 1, 1] = 1.0
    coarse = F.conv2d(x, delta, stride=2, padding=1)
    ys, xs = torch.meshgrid(torch.arange(11.), torch.arange(11.), indexing='ij')

    def centroid(m):
        m = m[0, 0]
        return ((m * ys).sum() / m.sum()).item(), ((m * xs).sum() / m.sum()).item()

    assert centroid(aligned_upsample2x(coarse, x.shape[-2:])) == pytest.approx((4.0, 6.0))
    # the usual x2 resize (align_corners=False, then crop) is half a pixel off
    shifted = F.interpolate(coarse, scale_factor=2, mode='bilinear')[..., :11, :11]
    assert centroid(shifted) == pytest.approx((4.5, 6.5), abs=0.05)


def test_size_must_be_within_one_pixel_of_double():
    with pytest.raises(ValueError, match='cannot give 12x8'):
        aligned_upsample2x(torch.zeros(1, 1, 5, 4), (12, 8))


def test_bilinear_mode_for_the_padding_ablation_and_bad_mode():
    x = torch.randn(1, 2, 4, 4)
    assert upsample_like(x, (8, 8), 'bilinear').shape == (1, 2, 8, 8)
    with pytest.raises(ValueError, match="'aligned' or 'bilinear'"):
        upsample_like(x, (8, 8), 'nearest')


def test_sample_at_stride_takes_the_aligned_input_pixels_then_crops_or_fills():
    values = torch.arange(7 * 9).reshape(7, 9)
    out = sample_at_stride(values, 4, (3, 2), fill=-1)
    # pixel (i, j) of the stride-4 map is input pixel (4i, 4j); row 2 lies beyond the input
    assert out.tolist() == [[0, 4], [36, 40], [-1, -1]]
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[1, 4, 4] = True
    sampled = sample_at_stride(masks, 4, (2, 2), fill=False)
    assert sampled.dtype == torch.bool and sampled.shape == (2, 2, 2)
    assert sampled[1].tolist() == [[False, False], [False, True]] and not sampled[0].any()
