# A tiny two-branch panoptic BlendMask on the synthetic shapes dataset, the counterpart of
# configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py for the CPU PQ comparison in
# docs/benchmarks.md: the same ResNet-18 at 1/8 width, FPN and head widths and schedule;
# BlendMask's own basis (here 16 channels, 4 bases), full-attention blender, semantic FPN
# head over P2-P5 (4 stuff classes + one "thing" channel) and heuristic fusion, with the
# same instance score threshold (0.3) and stuff area limit (64 px) as the DR1Mask config.
_base_ = [
    '../_base_/models/blendmask_r50_fpn_panoptic.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/schedules/schedule_tiny_cpu.py',
]
model = dict(
    # trained from scratch: normalised RGB input and trainable BN (the COCO configs'
    # frozen caffe set-up is for the ImageNet weights)
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(depth=18, base_channels=8, frozen_stages=-1, norm_eval=False,
                  norm_cfg=dict(type='BN', requires_grad=True), style='pytorch',
                  init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=32),
    bbox_head=dict(num_classes=3, in_channels=32, feat_channels=32, stacked_convs=2,
                   norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)),
    basis_head=dict(in_channels=32, channels=16),
    mask_head=dict(max_pos_per_img=64),
    semantic_head=dict(in_channels=32, num_classes=3, feat_channels=16),
    panoptic_head=dict(
        num_things_classes=3,
        num_stuff_classes=4,
        in_channels=32,
        inner_channels=16,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)),
    panoptic_fusion_head=dict(
        num_things_classes=3,
        num_stuff_classes=4,
        test_cfg=dict(stuff_area_limit=64)),
    instance_score_thr=0.3,
    test_cfg=dict(nms_pre=200, max_per_img=20))
