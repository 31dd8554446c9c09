"""KernelUpdateHead: one update stage, shapes, mask pooling, losses with and without GT."""
import torch

from mmdet_dr1mask.knet import KernelUpdateHead

C, K, NUM_CLASSES = 16, 5, 4


def stage(rank=False):
    torch.manual_seed(0)
    h = KernelUpdateHead(num_classes=NUM_CLASSES, in_channels=C, num_heads=4,
                         feedforward_channels=32,
                         kernel_updator=dict(type='KernelUpdator', in_channels=C,
                                             feat_channels=C),
                         loss_kernel_mask=dict(type='KernelMaskLoss', loss_rank=dict(
                             type='CrossEntropyLoss', loss_weight=0.1) if rank else None))
    h.init_weights()
    return h


def test_forward_shapes_and_masks_at_feature_resolution():
    feats, kernels = torch.randn(2, C, 8, 12), torch.randn(2, K, C)
    cls, masks, new_kernels = stage()(feats, kernels, torch.randn(2, K, 16, 24))
    assert cls.shape == (2, K, NUM_CLASSES) and masks.shape == (2, K, 8, 12)
    assert new_kernels.shape == (2, K, C)


def test_mask_branch_convolves_the_transformed_features():
    h = stage().eval()
    feats, kernels, prev = torch.randn(1, C, 8, 12), torch.randn(1, K, C), torch.randn(1, K, 8, 12)
    _, masks, new_kernels = h(feats, kernels, prev)
    mask_kernels = h.fc_mask(h.mask_fcs(new_kernels))
    expected = torch.einsum('bkc,bchw->bkhw', mask_kernels, h.feat_transform(feats))
    torch.testing.assert_close(masks, expected)


def targets(num_pos):
    labels = torch.full((1, K), NUM_CLASSES)
    mask_targets = torch.zeros(1, K, 16, 24)
    pos = torch.zeros(1, K, dtype=torch.bool)
    for i in range(num_pos):
        labels[0, i], pos[0, i] = i % NUM_CLASSES, True
        mask_targets[0, i, 2:10, 3 * i:3 * i + 8] = 1
    return labels, torch.ones(1, K, NUM_CLASSES), mask_targets, pos


def test_empty_gt_classification_only():
    h = stage(rank=True)
    losses = h.loss(torch.randn(1, K, NUM_CLASSES), torch.randn(1, K, 16, 24), *targets(0))
    assert losses['loss_cls'] > 0
    assert losses['loss_mask'] == 0 and losses['loss_dice'] == 0 and losses['loss_rank'] == 0


def test_one_gt_all_losses_positive():
    losses = stage(rank=True).loss(torch.randn(1, K, NUM_CLASSES),
                                   torch.randn(1, K, 16, 24), *targets(1))
    assert set(losses) == {'loss_cls', 'loss_mask', 'loss_dice', 'loss_rank'}
    assert all(v > 0 for v in losses.values()), losses


def test_zero_label_weights_silence_the_class_loss():
    labels, _, mask_targets, pos = targets(1)
    loss = stage().loss(torch.randn(1, K, NUM_CLASSES), torch.randn(1, K, 16, 24), labels,
                        torch.zeros(1, K, NUM_CLASSES), mask_targets, pos)['loss_cls']
    assert loss == 0
