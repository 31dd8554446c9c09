# Paper Table 5 row "32": inputs padded to 32 (C5's stride) with ordinary bilinear
# up-sampling. Row "4 w/ aligned" is ../dr1mask_r50_fpn_1x_coco-panoptic.py.
_base_ = '../dr1mask_r50_fpn_1x_coco-panoptic.py'
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    basis_head=dict(upsample_mode='bilinear'))
