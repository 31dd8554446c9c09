# Paper Table 1 row "Baseline" = Table 3 row "None" (one model): vector embedding, both
# dynamic factors replaced by ones, so DR1Basis is a plain inverted FPN without context.
_base_ = './dr1mask_r50_fpn_1x_coco_vector.py'
model = dict(basis_head=dict(use_a=False, use_b=False))
