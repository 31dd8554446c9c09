"""BlendMaskBasis: ProtoNet-style bases at stride 4 from P3-P5."""
import pytest
import torch

from mmdet_dr1mask.models.necks import BlendMaskBasis


@pytest.mark.parametrize('size', [(100, 132), (64, 64), (36, 20)])
def test_bases_at_stride_four_any_size(size):
    h, w = size
    sizes = [(-(-h // 8), -(-w // 8)), (-(-h // 16), -(-w // 16)), (-(-h // 32), -(-w // 32))]
    feats = [torch.randn(2, 8, *s, requires_grad=True) for s in sizes]
    basis = BlendMaskBasis(in_channels=8, channels=16, num_bases=4)
    out = basis(feats, out_size=(h // 4, w // 4))
    assert out.shape == (2, 4, h // 4, w // 4)
    out.square().sum().backward()
    assert all(f.grad.abs().sum() > 0 for f in feats)
    assert basis.context_channels == 0 and basis.out_channels == 4
