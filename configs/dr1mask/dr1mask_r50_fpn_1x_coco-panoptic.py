# Panoptic DR1Mask, R-50, 1x (the setting of the panoptic ablations, Tables 2, 5, 7).
# D = 32: Sec. 4.1 fixes the basis width at 32 for the ablations, and Tables 2, 5 and 7
# name no other; only Table 6 varies it (3x schedule, where the panoptic models use 64).
_base_ = [
    '../_base_/models/dr1mask_r50_fpn_panoptic.py',
    '../_base_/datasets/coco_panoptic_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
model = dict(basis_head=dict(channels=32))
