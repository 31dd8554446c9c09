# Two-branch panoptic BlendMask (the design DR1Mask replaces, Table 9): BlendMask instance
# segmentation + MMDetection's semantic FPN head (53 stuff classes + one "thing" channel)
# on P3-P5 + heuristic fusion (instance score 0.45, mask overlap 0.4, stuff area 4096).
_base_ = [
    '../_base_/models/blendmask_r50_fpn.py',
    '../_base_/datasets/coco_panoptic_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
model = dict(
    data_preprocessor=dict(pad_seg=True, seg_pad_value=255),
    panoptic_head=dict(
        type='PanopticFPNHead',
        num_things_classes=80,
        num_stuff_classes=53,
        in_channels=256,
        inner_channels=128,
        start_level=0,
        end_level=3,  # P3-P5 (this FPN starts at P3)
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_seg=dict(type='CrossEntropyLoss', ignore_index=255, loss_weight=0.5)),
    panoptic_fusion_head=dict(
        type='HeuristicFusionHead',
        num_things_classes=80,
        num_stuff_classes=53,
        test_cfg=dict(mask_overlap=0.4, stuff_area_limit=4096)),
    instance_score_thr=0.45)
