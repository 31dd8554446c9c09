# Paper Table 6 row "64", instance-segmentation version (Table 6 itself is panoptic):
# DR1Basis width D = 64, 3x schedule.
_base_ = '../dr1mask_r50_fpn_ms-3x_coco.py'
basis_channels = 64
model = dict(
    basis_head=dict(channels=basis_channels),
    mask_head=dict(basis_channels=basis_channels),
    semantic_head=dict(in_channels=basis_channels))
