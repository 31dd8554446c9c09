# Paper Table 8, row "DR1Mask*, R-101" (deformable convolutions in the backbone): DCNv2 in
# ResNet stages 3-5 (res3-res5, i.e. C3-C5), as MMDetection's *_r101-dconv-c3-c5 configs.
_base_ = './dr1mask_r101_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
