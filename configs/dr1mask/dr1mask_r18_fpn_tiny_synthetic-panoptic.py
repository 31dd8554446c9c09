# A tiny panoptic DR1Mask (ResNet-18 at 1/8 width, D = 8, vector embeddings) on the
# synthetic shapes dataset: trains on a CPU in minutes; reports PQ and mask AP from one run.
_base_ = [
    '../_base_/models/dr1mask_r50_fpn.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/schedules/schedule_tiny_cpu.py',
]
model = dict(
    # trained from scratch: normalised RGB input and trainable BN (the COCO configs'
    # frozen caffe set-up is for the ImageNet weights)
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, pad_seg=True, seg_pad_value=255),
    backbone=dict(depth=18, base_channels=8, frozen_stages=-1, norm_eval=False,
                  norm_cfg=dict(type='BN', requires_grad=True), style='pytorch',
                  init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=32),
    bbox_head=dict(num_classes=3, in_channels=32, feat_channels=32, stacked_convs=2,
                   norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)),
    basis_head=dict(in_channels=32, channels=8),  # D
    mask_head=dict(attention=dict(_delete_=True, type='VectorAttention'), max_pos_per_img=64),
    semantic_head=None,  # the panoptic layer supervises F
    panoptic_head=dict(
        type='DR1PanopticHead',
        num_things_classes=3,
        num_stuff_classes=4,
        score_thr=0.3,
        overlap_thr=0.5,
        stuff_area_limit=64,  # 4096 on COCO; these images are 192x256
        loss_panoptic=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    test_cfg=dict(nms_pre=200, max_per_img=20))
