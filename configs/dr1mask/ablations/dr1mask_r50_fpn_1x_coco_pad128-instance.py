# Paper Table 5 row "128", instance-segmentation version (Table 5 itself is panoptic): input
# padded to a multiple of 128 (the stride of P7) and bilinear up-sampling in DR1Basis.
_base_ = '../dr1mask_r50_fpn_1x_coco.py'
model = dict(
    data_preprocessor=dict(pad_size_divisor=128),
    basis_head=dict(upsample_mode='bilinear'))
