# K-Net-s3, R-50-FPN, COCO instance segmentation (K-Net Sec. 4; the official
# configs/det/_base_/models/knet_s3_r50_fpn.py of github.com/ZwwWayne/K-Net):
# 100 thing kernels, 3 update stages, masks at stride 8 supervised at stride 4.
num_stages = 3
num_proposals = 100
num_thing_classes = 80
num_stuff_classes = 0
# the mask BCE and dice of the matched kernels, the same in the initial and update heads
# (no rank loss for instance segmentation; the panoptic model adds one)
kernel_mask_loss = dict(
    type='KernelMaskLoss',
    loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    loss_dice=dict(type='DiceLoss', use_sigmoid=True, naive_dice=False, loss_weight=4.0))
model = dict(
    type='KNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        pad_size_divisor=32),
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
        start_level=0,
        add_extra_convs='on_input',
        num_outs=4),
    semantic_fpn=dict(
        type='KNetSemanticFPN',
        in_channels=256,
        feat_channels=256,
        out_channels=256,
        start_level=0,
        end_level=3,
        out_level=1,  # stride 8 ("upsample_times=2")
        pos_level=3,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    kernel_head=dict(
        type='KNetKernelInitHead',
        num_proposals=num_proposals,
        in_channels=256,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        kernel_init_std=1.0,
        hard_mask_thr=0.5,  # masks that gather each kernel's features
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        # the official initial matching has no class scores: mask and dice costs only
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='MaskAgreementCost', weight=1.0, pred_act=True),
                dict(type='DiceCost', weight=4.0, pred_act=True, naive_dice=False)]),
        loss_seg=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_kernel_mask=kernel_mask_loss),
    iter_head=dict(
        type='KernelIterHead',
        num_stages=num_stages,
        stage_loss_weights=[1] * num_stages,
        num_proposals=num_proposals,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        mask_upsample_ratio=2,
        update_head=dict(
            type='KernelUpdateHead',
            num_classes=num_thing_classes + num_stuff_classes,
            in_channels=256,
            num_heads=8,
            feedforward_channels=2048,
            num_ffn_fcs=2,
            num_cls_fcs=1,
            num_mask_fcs=1,
            dropout=0.0,
            hard_mask_thr=0.5,
            kernel_updator=dict(type='KernelUpdator', in_channels=256, feat_channels=256,
                                out_channels=256),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                          loss_weight=2.0),
            loss_kernel_mask=kernel_mask_loss),
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='MaskAgreementCost', weight=1.0, pred_act=True),
                dict(type='DiceCost', weight=4.0, pred_act=True, naive_dice=False)]),
        # inference (official test_cfg): top 100 (kernel, class) pairs, masks at 0.5
        max_per_img=num_proposals,
        score_thr=0.0,
        mask_thr=0.5,
        # panoptic merge (used with stuff kernels)
        overlap_thr=0.6,
        instance_score_thr=0.3,
        # off, as in the official merge: its test_cfg lists stuff_score_thr=0.05 and
        # stuff_max_area=4096, but merge_stuff_thing reads neither (stuff is kept
        # whatever its score and area)
        stuff_score_thr=None,
        stuff_max_area=None))
