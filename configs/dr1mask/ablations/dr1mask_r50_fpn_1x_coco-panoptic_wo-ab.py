# Paper Table 2 row "w/o A, B": panoptic DR1Mask with both dynamic factors removed (the basis
# is a plain inverted FPN). Row "w/ A, B" is ../dr1mask_r50_fpn_1x_coco-panoptic.py.
_base_ = '../dr1mask_r50_fpn_1x_coco-panoptic.py'
model = dict(basis_head=dict(use_a=False, use_b=False))
