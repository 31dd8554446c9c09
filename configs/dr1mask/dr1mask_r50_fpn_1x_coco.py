_base_ = [
    '../_base_/models/dr1mask_r50_fpn.py',
    '../_base_/datasets/coco_instance_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
