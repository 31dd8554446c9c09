# Reuse: DR1Mask's dense head (DR1FCOSHead) as the bbox_head of MMDetection's stock FCOS
# detector, a box detector on the synthetic shapes (ResNet-18 at 1/8 width, as the tiny
# DR1Mask config). DR1FCOSHead keeps FCOSHead's loss/predict contract; with no basis or
# blender to feed it predicts neither context nor embedding (both widths 0), so it is
# FCOS as AdelaiDet configures it. For the tests, not for accuracy.
_base_ = [
    '../_base_/datasets/synthetic_instance.py',
    '../_base_/schedules/schedule_tiny_cpu.py',
]
model = dict(
    type='FCOS',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=8,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[8, 16, 32, 64],
        out_channels=32,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='DR1FCOSHead',
        num_classes=3,
        in_channels=32,
        stacked_convs=2,
        feat_channels=32,
        strides=[8, 16, 32, 64, 128],
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
        center_sampling=True,
        center_sample_radius=1.5,
        centerness_on_reg=True,
        norm_on_bbox=True,
        conv_bias=True,
        context_channels=0,
        embedding_channels=0,
        loss_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    test_cfg=dict(
        nms_pre=200,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=20))

val_evaluator = dict(metric=['bbox'])  # boxes only
test_evaluator = val_evaluator
