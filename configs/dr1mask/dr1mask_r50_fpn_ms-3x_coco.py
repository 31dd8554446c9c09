# Paper Table 8, row "DR1Mask, R-50" (COCO test-dev instance segmentation): the 3x schedule,
# 270k iterations with lr / 10 at 180k and 240k, multi-scale training (Sec. 4.3).
_base_ = [
    '../_base_/models/dr1mask_r50_fpn.py',
    '../_base_/datasets/coco_instance_ms.py',
    '../_base_/schedules/schedule_270k.py',
]
