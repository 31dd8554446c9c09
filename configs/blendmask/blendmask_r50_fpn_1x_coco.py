# BlendMask R-50-FPN, the baseline of the paper's Table 8 (row "BlendMask, R-50"), here with
# the same 1x schedule and multi-scale data as dr1mask_r50_fpn_1x_coco.py for a like-for-like
# comparison (Table 8 itself uses the 3x schedule).
_base_ = [
    '../_base_/models/blendmask_r50_fpn.py',
    '../_base_/datasets/coco_instance_ms.py',
    '../_base_/schedules/schedule_90k.py',
]
