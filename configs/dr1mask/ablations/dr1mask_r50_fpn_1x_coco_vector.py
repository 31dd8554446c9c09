# Paper Table 1 row "w/ A, B" = Table 3 row "box tower" = Table 4 row "Vector" (one model):
# YOLACT's vector embedding (E = D = 32) instead of the factored attention, context from the
# box tower, both dynamic factors on. The common base of the Table 1 and Table 3 rows.
_base_ = '../dr1mask_r50_fpn_1x_coco.py'
model = dict(mask_head=dict(attention=dict(_delete_=True, type='VectorAttention')))
