# Two-branch panoptic BlendMask, R-50-FPN (AdelaiDet configs/BlendMask/Panoptic/
# Base-Panoptic.yaml, the design DR1Mask's single panoptic layer replaces): BlendMask
# instance segmentation + Detectron2's semantic FPN head as MMDetection's PanopticFPNHead
# (53 stuff classes + one "thing" channel, P2-P5 at stride 4: 1+1+2+3 convs of 128
# channels, GN; cross-entropy of weight 0.5 averaged over the labelled pixels only) +
# heuristic fusion (instance score 0.45 on the sqrt(cls*ctr) scale, mask overlap 0.4,
# stuff area 4096).
_base_ = './blendmask_r50_fpn.py'
num_things_classes = 80
num_stuff_classes = 53
model = dict(
    data_preprocessor=dict(pad_seg=True, seg_pad_value=255),
    # the FPN also outputs P2 for the semantic head; the instance branch keeps P3-P7
    neck=dict(start_level=0, num_outs=6),
    instance_start_level=1,
    panoptic_head=dict(
        type='PanopticFPNHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        in_channels=256,
        inner_channels=128,
        start_level=0,
        end_level=4,  # P2-P5
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        # void and padding are 255; averaged over the other pixels, as Detectron2's
        # cross_entropy(ignore_index=255, reduction='mean')
        loss_seg=dict(type='CrossEntropyLoss', ignore_index=255, avg_non_ignore=True,
                      loss_weight=0.5)),
    panoptic_fusion_head=dict(
        type='HeuristicFusionHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        test_cfg=dict(mask_overlap=0.4, stuff_area_limit=4096)),
    instance_score_thr=0.45)
