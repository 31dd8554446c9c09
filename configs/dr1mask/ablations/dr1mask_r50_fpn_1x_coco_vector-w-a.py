# Paper Table 1 row "w/ A": vector embedding, only the pre-convolution factor A is dynamic.
_base_ = './dr1mask_r50_fpn_1x_coco_vector.py'
model = dict(basis_head=dict(use_b=False))
