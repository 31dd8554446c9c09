# Panoptic DR1Mask*, R-101 with deformable convolutions, 3x (Table 9): modulated DCNv2 in
# blocks 0, 3, 6, ... of stages 3-5, as AdelaiDet's configs/BlendMask/Panoptic/
# R_101_dcni3_5x.yaml (DEFORM_INTERVAL 3).
_base_ = './dr1mask_r101_fpn_ms-3x_coco-panoptic.py'
model = dict(
    backbone=dict(type='ResNetDCNInterval',
                  dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
                  stage_with_dcn=(False, True, True, True),
                  dcn_interval=3))
