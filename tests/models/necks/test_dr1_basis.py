"""DR1Basis (Eq. 6): shapes for any input padded to 4, gradients, switches."""
import math

import pytest
import torch

from mmdet_dr1mask.models.necks import DR1Basis


def pyramid_sizes(h, w, num_levels=5):
    """P3..P7 sizes of an input padded to a multiple of 4 (each stride-2 step: ceil(x / 2))."""
    sizes, (ph, pw) = [], (h, w)
    for _ in range(3):
        ph, pw = math.ceil(ph / 2), math.ceil(pw / 2)
    for _ in range(num_levels):
        sizes.append((ph, pw))
        ph, pw = math.ceil(ph / 2), math.ceil(pw / 2)
    return sizes


def inputs(h, w, in_channels=8, channels=4, batch=2, requires_grad=False):
    sizes = pyramid_sizes(h, w)
    feats = [torch.randn(batch, in_channels, *s, requires_grad=requires_grad) for s in sizes]
    contexts = [torch.randn(batch, 2 * channels, *s, requires_grad=requires_grad)
                for s in sizes]
    return feats, contexts


@pytest.mark.parametrize('size', [(100, 132), (804, 1332), (32, 32), (68, 4)])
def test_basis_is_at_stride_four_for_inputs_padded_to_four(size):
    basis = DR1Basis(in_channels=8, channels=4)
    feats, contexts = inputs(*size)
    out = basis(feats, contexts, out_size=(size[0] // 4, size[1] // 4))
    assert out.shape == (2, 4, size[0] // 4, size[1] // 4)


def test_gradients_reach_features_and_both_dynamic_factors():
    basis = DR1Basis(in_channels=8, channels=4)
    feats, contexts = inputs(64, 96, requires_grad=True)
    basis(feats, contexts, out_size=(16, 24)).square().sum().backward()
    for level in range(5):
        assert feats[level].grad.abs().sum() > 0
        a_grad, b_grad = contexts[level].grad.split(4, dim=1)
        assert a_grad.abs().sum() > 0 and b_grad.abs().sum() > 0


@pytest.mark.parametrize('use_a, use_b', [(False, False), (True, False), (False, True)])
def test_the_context_holds_only_the_factors_that_are_switched_on(use_a, use_b):
    """Tables 1-2: no context channel is asked of the head that nothing would use."""
    basis = DR1Basis(in_channels=8, channels=4, use_a=use_a, use_b=use_b).eval()
    assert basis.context_channels == 4 * (use_a + use_b)
    sizes = pyramid_sizes(40, 56)
    feats = [torch.randn(2, 8, *s) for s in sizes]
    contexts = [torch.rand(2, basis.context_channels, *s) + 0.5 for s in sizes]
    out = basis(feats, contexts, out_size=(10, 14))
    assert out.shape == (2, 4, 10, 14)
    changed = basis(feats, [c * 7 for c in contexts], out_size=(10, 14))
    assert torch.allclose(out, changed) == (not (use_a or use_b))


def test_padding_ablation_uses_plain_bilinear_upsampling():
    basis = DR1Basis(in_channels=8, channels=4, upsample_mode='bilinear')
    feats, contexts = inputs(128, 128)
    assert basis(feats, contexts, out_size=(32, 32)).shape == (2, 4, 32, 32)


def test_bad_settings_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match='upsample_mode'):
        DR1Basis(upsample_mode='nearest')
    feats, contexts = inputs(64, 64)
    with pytest.raises(ValueError, match='needs 5 levels'):
        DR1Basis(in_channels=8, channels=4)(feats[:3], contexts)
