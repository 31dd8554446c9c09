# Paper Table 1 row "w/ B": vector embedding, only the post-convolution factor B is dynamic.
_base_ = './dr1mask_r50_fpn_1x_coco_vector.py'
model = dict(basis_head=dict(use_a=False))
