# Panoptic DR1Mask, R-50, 3x (Table 9; Table 6 row D = 64).
_base_ = [
    '../_base_/models/dr1mask_r50_fpn_panoptic.py',
    '../_base_/datasets/coco_panoptic_ms.py',
    '../_base_/schedules/schedule_270k.py',
]
