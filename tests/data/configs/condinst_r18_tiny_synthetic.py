# A tiny MMDetection CondInst on the synthetic dataset: trains a few iterations on CPU in
# seconds. Used by the checkpoint/resume tests; not a model to learn anything with.
_base_ = [
    '../../../configs/_base_/datasets/synthetic_instance.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmdet_dr1mask'], allow_failed_imports=False)

model = dict(
    type='CondInst',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet', depth=18, base_channels=8, num_stages=4, out_indices=(0, 1, 2, 3),
        frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
        style='pytorch', init_cfg=None),
    neck=dict(
        type='FPN', in_channels=[8, 16, 32, 64], out_channels=16, start_level=1,
        add_extra_convs='on_output', num_outs=5, relu_before_extra_convs=True),
    bbox_head=dict(
        type='CondInstBboxHead', num_params=169, num_classes=3, in_channels=16,
        stacked_convs=1, feat_channels=16, strides=[8, 16, 32, 64, 128], norm_on_bbox=True,
        centerness_on_reg=True, center_sampling=True, conv_bias=True,
        norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    mask_head=dict(
        type='CondInstMaskHead', num_layers=3, feat_channels=8, size_of_interest=8,
        mask_out_stride=4, max_masks_to_train=50,
        mask_feature_head=dict(
            in_channels=16, feat_channels=16, start_level=0, end_level=2, out_channels=8,
            mask_stride=8, num_stacked_convs=1, norm_cfg=dict(type='BN', requires_grad=True)),
        loss_mask=dict(type='DiceLoss', use_sigmoid=True, activate=True, eps=5e-6,
                       loss_weight=1.0)),
    test_cfg=dict(nms_pre=200, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.6), max_per_img=20, mask_thr=0.5))

train_dataloader = dict(batch_size=2)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3)]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=3),
    visualization=dict(type='DetVisualizationHook', draw=False))
log_processor = dict(type='LogProcessor', window_size=2, by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)
