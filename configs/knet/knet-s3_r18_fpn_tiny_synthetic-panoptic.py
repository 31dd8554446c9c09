# A tiny panoptic K-Net-s3 (ResNet-18 at 1/8 width, 32 channels, 20 thing kernels and 4
# stuff kernels) on the synthetic shapes dataset: reports PQ and mask AP from one run.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn_panoptic.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/schedules/schedule_tiny_cpu.py',
]
num_proposals = 20
channels = 32
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    backbone=dict(depth=18, base_channels=8, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=channels),
    semantic_fpn=dict(in_channels=channels, feat_channels=channels, out_channels=channels,
                      norm_cfg=norm_cfg),
    kernel_head=dict(num_proposals=num_proposals, in_channels=channels, num_thing_classes=3,
                     num_stuff_classes=4, norm_cfg=norm_cfg),
    iter_head=dict(
        num_proposals=num_proposals,
        num_thing_classes=3,
        num_stuff_classes=4,
        max_per_img=num_proposals,
        update_head=dict(num_classes=7, in_channels=channels, num_heads=4,
                         feedforward_channels=64,
                         kernel_updator=dict(in_channels=channels, feat_channels=channels,
                                             out_channels=channels))))
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=0.001, weight_decay=0.05),
    # the official K-Net decays every weight, norms included (the tiny schedule's
    # norm_decay_mult=0 is Detectron2's, for DR1Mask and BlendMask)
    paramwise_cfg=dict(_delete_=True),
    clip_grad=dict(max_norm=1, norm_type=2))
