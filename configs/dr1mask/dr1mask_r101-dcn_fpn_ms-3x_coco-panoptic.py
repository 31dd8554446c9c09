# Panoptic DR1Mask*, R-101 with DCNv2 in stages 3-5, 3x (Table 9).
_base_ = './dr1mask_r101_fpn_ms-3x_coco-panoptic.py'
model = dict(
    backbone=dict(dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
                  stage_with_dcn=(False, True, True, True)))
