"""KNetKernelInitHead: initial kernels and masks, stuff kernels, losses with and without GT."""
import torch
from mmengine.structures import InstanceData

from mmdet_dr1mask.knet import KNetKernelInitHead

C, N, T, S = 16, 6, 2, 3
GN = dict(type='GN', num_groups=4, requires_grad=True)


def head(num_stuff=0, rank=False):
    torch.manual_seed(0)
    h = KNetKernelInitHead(num_proposals=N, in_channels=C, num_thing_classes=T,
                           num_stuff_classes=num_stuff, norm_cfg=GN,
                           loss_kernel_mask=dict(type='KernelMaskLoss', loss_rank=dict(
                               type='CrossEntropyLoss', loss_weight=0.1) if rank else None))
    h.init_weights()
    return h


def maps(b=2, h=8, w=12):
    return torch.randn(b, C, h, w), torch.randn(b, C, h, w)


def gt(n, size=(16, 24)):
    masks = torch.zeros(n, *size)
    for i in range(n):
        masks[i, 2 * i:2 * i + 6, 3:12] = 1
    return InstanceData(labels=torch.arange(n) % T, masks=masks)


def test_forward_shapes_instance_and_panoptic():
    (feats, kernels, masks), seg = head()(*maps())
    assert feats.shape == (2, C, 8, 12) and kernels.shape == (2, N, C)
    assert masks.shape == (2, N, 8, 12) and seg.shape == (2, T, 8, 12)
    (_, kernels, masks), seg = head(num_stuff=S)(*maps())
    assert kernels.shape == (2, N + S, C) and masks.shape == (2, N + S, 8, 12)
    assert seg.shape == (2, T + S, 8, 12)
    torch.testing.assert_close(masks[:, N:], seg[:, T:])  # stuff masks: semantic logits


def test_kernels_are_learned_weights_plus_features_under_their_binary_masks():
    h = head()
    loc, sem = maps()
    (feats, kernels, masks), _ = h(loc, sem)
    binary = (masks.sigmoid() > 0.5).float()
    expected = h.init_kernels.weight.flatten(1) + torch.einsum('bnhw,bchw->bnc', binary, feats)
    torch.testing.assert_close(kernels, expected)


def test_empty_gt_semantic_loss_only():
    losses, _ = head().loss(*maps(), [gt(0), gt(0)], None)
    assert set(losses) == {'init.loss_mask', 'init.loss_dice', 'init.loss_seg'}
    assert losses['init.loss_seg'] > 0
    assert losses['init.loss_mask'] == 0 and losses['init.loss_dice'] == 0


def test_one_gt_all_losses_positive_and_state_returned():
    stuff = [InstanceData(labels=torch.tensor([T + 1]), masks=torch.ones(1, 16, 24))] * 2
    losses, (feats, kernels, masks) = head(num_stuff=S, rank=True).loss(
        *maps(), [gt(1), gt(0)], stuff)
    assert set(losses) == {'init.loss_mask', 'init.loss_dice', 'init.loss_seg',
                           'init.loss_rank'}
    assert all(v > 0 for v in losses.values()), losses
    assert kernels.shape == (2, N + S, C) and masks.shape == (2, N + S, 8, 12)
