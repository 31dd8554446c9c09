"""KernelUpdator (K-Net Eqs. 3-5): shapes and that both inputs shape the update."""
import torch

from mmdet_dr1mask.knet import KernelUpdator


def test_shapes_and_gradients_reach_kernels_and_group_features():
    updator = KernelUpdator(in_channels=16, feat_channels=8, out_channels=12)
    group = torch.randn(2, 5, 16, requires_grad=True)
    kernels = torch.randn(2, 5, 16, requires_grad=True)
    out = updator(group, kernels)
    assert out.shape == (2, 5, 12) and (out >= 0).all()  # ReLU output
    out.sum().backward()
    assert group.grad.abs().sum() > 0 and kernels.grad.abs().sum() > 0


def test_kernels_are_updated_independently():
    updator = KernelUpdator(in_channels=8, feat_channels=8).eval()
    group, kernels = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    full = updator(group, kernels)
    single = updator(group[:, 2:3], kernels[:, 2:3])
    torch.testing.assert_close(full[:, 2:3], single)
