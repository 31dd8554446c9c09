# Paper Table 3 row "FPN": vector embedding, the context conv reads the FPN output P_l instead
# of the box tower (the embedding stays on the box tower).
_base_ = './dr1mask_r50_fpn_1x_coco_vector.py'
model = dict(bbox_head=dict(top_input='fpn'))
