# Paper Table 6 row "128", instance-segmentation version (Table 6 itself is panoptic):
# DR1Basis width D = 128, 3x schedule.
_base_ = '../dr1mask_r50_fpn_ms-3x_coco.py'
model = dict(basis_head=dict(channels=128))
