# Paper Table 6 row "128": basis width D = 128 (3x schedule). Row "64" is
# ../dr1mask_r50_fpn_ms-3x_coco-panoptic.py.
_base_ = '../dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
model = dict(basis_head=dict(channels=128))
