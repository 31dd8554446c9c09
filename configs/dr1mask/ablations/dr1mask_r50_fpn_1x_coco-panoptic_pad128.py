# Paper Table 5 row "128": inputs padded to 128 (DR1Basis' coarsest stride) with ordinary
# bilinear up-sampling.
_base_ = './dr1mask_r50_fpn_1x_coco-panoptic_pad32.py'
model = dict(data_preprocessor=dict(pad_size_divisor=128))
