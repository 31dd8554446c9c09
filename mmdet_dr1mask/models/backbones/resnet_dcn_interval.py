"""ResNet with a deformable 3x3 conv in every k-th block of its DCN stages, as the
DCN models of AdelaiDet (github.com/aim-uofa/AdelaiDet, the code of BlendMask and of
DR1Mask's authors): adet/modeling/backbone/resnet_interval.py builds block ``i`` of a
deformable stage as a deformable block when ``i % DEFORM_INTERVAL == 0``, and its
``*_dcni3_*`` configs (e.g. configs/BlendMask/R_101_dcni3_5x.yaml) set
``DEFORM_ON_PER_STAGE: [False, True, True, True]``, ``DEFORM_MODULATED: True`` and
``DEFORM_INTERVAL: 3``: modulated DCNv2 (one deformable group) in blocks 0, 3, 6, ...
of res3-res5.

MMDetection's ``ResNet(dcn=..., stage_with_dcn=...)`` puts the DCN in every block of a
stage; ``dcn_interval=1`` gives that. Everything else (stem, frozen stages,
``norm_eval``, initialisation, checkpoint loading) is the parent's, and the blocks
without DCN have the state-dict keys of plain ResNet, so ImageNet weights load into
them unchanged (DCN blocks add only ``conv2.conv_offset``).
"""
from mmdet.models.backbones import ResNet
from mmdet.models.layers import ResLayer
from mmdet.registry import MODELS


@MODELS.register_module()
class ResNetDCNInterval(ResNet):
    """:class:`mmdet.models.backbones.ResNet` whose stages with DCN (``dcn`` and
    ``stage_with_dcn``) use it only in blocks 0, k, 2k, ... (k = ``dcn_interval``).

    With ``depth=101``, ``stage_with_dcn=(False, True, True, True)`` and k = 3 (the
    AdelaiDet ``dcni3`` models), the DCN blocks are 0 and 3 of C3 (4 blocks), 0, 3,
    ..., 21 of C4 (23 blocks) and 0 of C5 (3 blocks).

    Args:
        dcn_interval (int): k; block ``i`` of a DCN stage is deformable iff
            ``i % k == 0``. 1 is MMDetection's ResNet. Defaults to 3 (AdelaiDet
            ``DEFORM_INTERVAL: 3``).
        **kwargs: :class:`ResNet` arguments (``depth``, ``dcn``, ``stage_with_dcn``,
            ``frozen_stages``, ``norm_eval``, ``init_cfg``, ...). Outputs as the
            parent: one (B, C_i, H / s_i, W / s_i) map per ``out_indices`` entry.
    """

    def __init__(self, dcn_interval: int = 3, **kwargs) -> None:
        if dcn_interval < 1:
            raise ValueError(f'dcn_interval must be >= 1, got {dcn_interval}')
        # read by make_res_layer, which the parent's __init__ calls
        self.dcn_interval = dcn_interval
        super().__init__(**kwargs)

    def make_res_layer(self, **kwargs) -> ResLayer:
        """One stage: the parent's DCN blocks at indices ``i % dcn_interval == 0``,
        its plain blocks elsewhere."""
        dcn = kwargs.pop('dcn', None)
        plain = super().make_res_layer(dcn=None, **kwargs)
        if dcn is None:
            return plain
        # ResLayer hands one conv config to all its blocks, so the stage is built
        # both ways by the parent and the blocks are picked by index: each block
        # (stride, downsample of block 0, init) is exactly the parent's
        deformable = super().make_res_layer(dcn=dcn, **kwargs)
        for i in range(0, len(plain), self.dcn_interval):
            plain[i] = deformable[i]
        return plain
