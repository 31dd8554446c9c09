# BlendMask (Chen et al., CVPR 2020), R-50-FPN, COCO instance segmentation: the baseline of
# DR1Mask's Tables 8-9, built from the same parts as DR1Mask (same backbone, FPN and FCOS
# head, the head without context; ProtoNet-style basis of K = 4 bases; full-attention
# blender; semantic loss on P3).
_base_ = './dr1mask_r50_fpn.py'
model = dict(
    type='BlendMask',
    data_preprocessor=dict(pad_size_divisor=32),  # BlendMask pads to 32 (C5's stride)
    # the dense head's context_channels (0: BlendMask's basis takes no context) and
    # embedding_channels (K * R^2 = 4 * 14 * 14 = 784) are passed in from the basis and
    # the blender
    basis_head=dict(
        _delete_=True,
        type='BlendMaskBasis',
        in_channels=256,
        channels=128,
        num_bases=4,  # K, the blender's basis_channels
        num_levels=3,  # P3-P5
        num_tower_convs=3,
        upsample_mode='bilinear',  # ordinary bilinear up-sampling (padding 32)
        norm_cfg=dict(type='SyncBN', requires_grad=True)),  # BASIS_MODULE.NORM
    mask_head=dict(
        # BlendMask's blender: 4 x 14 x 14 attention on the bases, no D -> K projection
        attention=dict(
            _delete_=True, type='FullAttention', num_bases=4, attention_size=14,
            use_projection=False)),
    semantic_head=dict(
        in_channels=256,
        input='fpn',  # P3
        in_stride=8,
        num_convs=2,
        feat_channels=128,
        norm_cfg=dict(type='SyncBN', requires_grad=True)))  # in AdelaiDet's basis module
