# Paper Table 8, row "DR1Mask*, R-101" (deformable convolutions in the backbone): as
# AdelaiDet's dcni3 models (configs/BlendMask/R_101_dcni3_5x.yaml: DEFORM_ON_PER_STAGE
# [False, True, True, True], DEFORM_MODULATED, DEFORM_INTERVAL 3), modulated DCNv2 in
# blocks 0, 3, 6, ... of ResNet stages 3-5 (C3-C5) only, not in all their blocks.
_base_ = './dr1mask_r101_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        type='ResNetDCNInterval',
        dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True),
        dcn_interval=3))
