# Paper Table 5 row "32", instance-segmentation version (Table 5 itself is panoptic): input
# padded to a multiple of 32 and ordinary bilinear up-sampling in DR1Basis.
_base_ = '../dr1mask_r50_fpn_1x_coco.py'
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    basis_head=dict(upsample_mode='bilinear'))
