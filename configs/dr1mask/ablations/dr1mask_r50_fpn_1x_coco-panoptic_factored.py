# Paper Table 7 row "Factored": factored attention (Eq. 8) for the instance masks of the
# panoptic model; the panoptic layer's thing weights are the mean of the K projections of
# each embedding (BlenderHead.vector_embeddings). Row "Vector" is
# ../dr1mask_r50_fpn_1x_coco-panoptic.py.
_base_ = '../dr1mask_r50_fpn_1x_coco-panoptic.py'
model = dict(mask_head=dict(attention=dict(
    _delete_=True, type='FactoredAttention', num_bases=4, attention_size=14, factor_rank=4)))
