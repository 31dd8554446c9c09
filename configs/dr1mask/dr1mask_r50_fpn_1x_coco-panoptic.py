# Panoptic DR1Mask, R-50, 1x (the setting of the panoptic ablations, Tables 2, 5, 7).
_base_ = [
    '../_base_/models/dr1mask_r50_fpn_panoptic.py',
    '../_base_/datasets/coco_panoptic_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
