# DR1Mask, R-50-FPN, COCO instance segmentation (paper Sec. 3.1-3.2, 4.1).
model = dict(
    type='DR1Mask',
    # the MSRA ImageNet ResNet's input: BGR, 0-255, minus the mean, std 1 (Detectron2)
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[103.53, 116.28, 123.675],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False,
        pad_mask=True,
        pad_size_divisor=4),  # Table 5: pad to 4 with aligned up-sampling
    # Detectron2's R-50.pkl, which the paper and AdelaiDet start from: the MSRA "caffe"
    # ResNet (stride in the first 1x1 conv), frozen BN and stem (FrozenBN, FREEZE_AT 2).
    # Offline: README "Pretrained backbone" points this name at a local file.
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='caffe',
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet50_caffe')),
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
        top_input='box_tower',  # Table 3
        # context_channels / embedding_channels are passed in from the basis and blender
        loss_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    basis_head=dict(
        type='DR1Basis',
        in_channels=256,
        # D (Table 6: 64 for panoptic), stated only here: the detector passes it to
        # mask_head.basis_channels, semantic_head.in_channels and panoptic_head.in_channels
        channels=32,
        num_levels=5,
        upsample_mode='aligned',
        use_a=True,
        use_b=True,
        # AdelaiDet's BASIS_MODULE.NORM: SyncBN (plain BN in single-process CPU runs,
        # see mmdet_dr1mask/support/launch.py)
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    mask_head=dict(
        type='BlenderHead',
        attention=dict(  # Table 4
            type='FactoredAttention', num_bases=4, attention_size=14, factor_rank=4),
        roi_size=56,
        basis_stride=4,
        max_pos_per_img=300,
        mask_thr=0.5,
        loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    semantic_head=dict(
        type='ThingSemanticHead',
        num_classes=80,
        input='basis',
        in_stride=4,
        num_convs=0,
        loss_seg=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3)),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
