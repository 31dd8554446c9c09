"""DR1Basis, the bottom-up branch of DR1Mask (paper Sec. 3.2.2, Eq. 6, Fig. 3).

An inverted pyramid from the coarsest FPN level to the finest; at each level a
DR1Conv merges the level's features with the up-sampled result so far, its
dynamic factors A_l, B_l coming from the dense head's context output C_l:

    F_l = DR1Conv_{A_l, B_l}( Conv3x3(P_l) + up2(F_{l+1}) ),  l = 7, ..., 3,  F_8 = 0

then F_3 (stride 8) is up-sampled ×2 and refined by one 3×3 ConvModule into
the basis F at stride 4, shared by the blender and the panoptic layer.

Decisions (``docs/paper_map.md``): the lateral 3×3 convs take the FPN width to D and
D is kept after that; up-sampling is aligned (Table 5) unless
``upsample_mode='bilinear'`` (the padding-32/128 ablation rows).
"""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import UPSAMPLE_MODES, DR1Conv, upsample_like


@MODELS.register_module()
class DR1Basis(BaseModule):
    """Inverted pyramid of DR1Convs producing the basis F (Eq. 6).

    Args:
        in_channels: channels of every FPN level P_l (256).
        channels: D, the basis width (32 for instance models, 64 for panoptic, Table 6).
        num_levels: FPN levels used, finest first (5: P3..P7).
        upsample_mode: ``'aligned'`` (Table 5 "4 w/ aligned") or ``'bilinear'``.
        use_a: use the dynamic factor A in every DR1Conv (Tables 1-2).
        use_b: use the dynamic factor B in every DR1Conv (Tables 1-2).
        conv_cfg: conv layer config for all convs.
        norm_cfg: norm layer config for all convs.
        act_cfg: activation config for all convs.
        init_cfg: MMEngine init config; None keeps ConvModule's Kaiming init
            (for the ReLU that follows each conv).
    """

    def __init__(self,
                 in_channels: int = 256,
                 channels: int = 32,
                 num_levels: int = 5,
                 upsample_mode: str = 'aligned',
                 use_a: bool = True,
                 use_b: bool = True,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(
                f'upsample_mode must be one of {UPSAMPLE_MODES}, got {upsample_mode!r}')
        self.in_channels = in_channels
        self.channels = channels
        self.num_levels = num_levels
        self.upsample_mode = upsample_mode
        self.use_a = use_a
        self.use_b = use_b
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.laterals = nn.ModuleList(
            ConvModule(in_channels, channels, 3, padding=1, **common) for _ in range(num_levels))
        self.dr1_convs = nn.ModuleList(
            DR1Conv(channels, channels, 3, use_a=use_a, use_b=use_b, **common)
            for _ in range(num_levels))
        self.output_conv = ConvModule(channels, channels, 3, padding=1, **common)

    @property
    def out_channels(self) -> int:
        """D, the width of F that the blender and the panoptic layer read."""
        return self.channels

    @property
    def context_channels(self) -> int:
        """Channels of each context map C_l the dense head must produce.

        D for each factor that is switched on: [A_l, B_l] (2·D) by default, one factor
        for the "w/ A" / "w/ B" rows of Tables 1–2 and none for the baseline, so that no
        context is predicted that nothing uses (DDP fails on parameters without a
        gradient).
        """
        return self.channels * (int(self.use_a) + int(self.use_b))

    def forward(self, feats: Sequence[Tensor], contexts: Sequence[Tensor],
                out_size: Optional[Sequence[int]] = None) -> Tensor:
        """Compute the basis F.

        Args:
            feats: P_3..P_7, each (N, in_channels, H_l, W_l), finest first
                (extra levels beyond ``num_levels`` are ignored).
            contexts: C_3..C_7, each (N, ``context_channels``, H_l, W_l): A_l then
                B_l along channels, each D wide and present only when switched on.
            out_size: (H, W) of F, i.e. the padded input size / 4; twice the
                finest level when None.

        Returns:
            (N, D, H, W) basis F at stride 4.
        """
        if len(feats) < self.num_levels or len(contexts) < self.num_levels:
            raise ValueError(f'DR1Basis needs {self.num_levels} levels, got {len(feats)} '
                             f'features and {len(contexts)} contexts')
        out = None
        for level in reversed(range(self.num_levels)):  # coarsest first (F_8 = 0)
            x = self.laterals[level](feats[level])
            if out is not None:
                x = x + upsample_like(out, x.shape[-2:], self.upsample_mode)
            factors = list(contexts[level].split(self.channels, dim=1))  # (N, D, H_l, W_l)
            a = factors.pop(0) if self.use_a else None
            b = factors.pop(0) if self.use_b else None
            out = self.dr1_convs[level](x, a, b)
        if out_size is None:
            out_size = [2 * s for s in out.shape[-2:]]
        return self.output_conv(upsample_like(out, out_size, self.upsample_mode))

