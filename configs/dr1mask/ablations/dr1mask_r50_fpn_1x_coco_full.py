# Paper Table 4 row "Full": BlendMask's 4x14x14 attention with the per-instance D -> K
# projection of Eq. 7 (E = D*K + K*14*14 = 32*4 + 784 = 912).
_base_ = '../dr1mask_r50_fpn_1x_coco.py'
model = dict(mask_head=dict(attention=dict(
    _delete_=True, type='FullAttention', num_bases=4, attention_size=14, use_projection=True)))
