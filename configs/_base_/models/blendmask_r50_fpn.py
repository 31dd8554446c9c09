# BlendMask (Chen et al., CVPR 2020), R-50-FPN, COCO instance segmentation: the baseline of
# DR1Mask's Tables 8-9, built from the same parts as DR1Mask (FCOS head without context,
# ProtoNet-style basis of K = 4 bases, full-attention blender, semantic loss on P3).
model = dict(
    type='BlendMask',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        pad_size_divisor=32),  # BlendMask pads to 32 (C5's stride), no aligned up-sampling
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_output',  # P6, P7 from P5 as in FCOS
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='DR1FCOSHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        strides=[8, 16, 32, 64, 128],
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        center_sampling=True,
        center_sample_radius=1.5,
        centerness_on_reg=True,
        norm_on_bbox=True,
        conv_bias=True,
        context_channels=0,  # BlendMask's basis takes no context
        # embedding_channels is filled in from the blender: K * R^2 = 4 * 14 * 14 = 784
        loss_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    basis_head=dict(
        type='BlendMaskBasis',
        in_channels=256,
        channels=128,
        num_bases=4,
        num_levels=3,  # P3-P5
        num_tower_convs=3,
        upsample_mode='bilinear',  # ordinary bilinear up-sampling (padding 32)
        norm_cfg=dict(type='BN', requires_grad=True)),
    mask_head=dict(
        type='BlenderHead',
        basis_channels=4,  # the basis already outputs the K = 4 bases
        attention='full',
        use_projection=False,
        num_bases=4,
        attention_size=14,
        roi_size=56,
        basis_stride=4,
        max_pos_per_img=300,
        mask_thr=0.5,
        loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    semantic_head=dict(
        type='ThingSemanticHead',
        in_channels=256,
        num_classes=80,
        input='fpn',  # P3
        in_stride=8,
        num_convs=2,
        feat_channels=128,
        loss_seg=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3)),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
