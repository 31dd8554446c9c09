# Two-branch panoptic BlendMask (the design DR1Mask replaces, Table 9), see
# configs/_base_/models/blendmask_r50_fpn_panoptic.py; the 1x schedule of
# dr1mask_r50_fpn_1x_coco-panoptic.py for a like-for-like comparison.
_base_ = [
    '../_base_/models/blendmask_r50_fpn_panoptic.py',
    '../_base_/datasets/coco_panoptic_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
