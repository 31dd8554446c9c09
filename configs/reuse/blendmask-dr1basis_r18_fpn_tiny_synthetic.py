# Reuse: DR1Mask's basis (DR1Basis, dynamic rank-1 convolutions) inside BlendMask, in place
# of BlendMask's ProtoNet-style basis; the rest is the tiny BlendMask
# (../blendmask/blendmask_r18_fpn_tiny_synthetic.py: padding to 32, semantic head on P3,
# 4 x 14 x 14 attention). With a D-wide basis the attention first projects D to the K = 4
# bases (Eq. 7). The detector passes the basis's context width (2 D) to the dense head and
# D to the blender. For the tests, not for accuracy.
_base_ = '../blendmask/blendmask_r18_fpn_tiny_synthetic.py'
model = dict(
    basis_head=dict(
        _delete_=True,
        type='DR1Basis',
        in_channels=32,
        channels=8,  # D
        num_levels=5,
        upsample_mode='bilinear',  # BlendMask pads to 32
        norm_cfg=dict(type='BN', requires_grad=True)),
    mask_head=dict(attention=dict(use_projection=True)))
