"""BlendMask's bottom-up basis module (ProtoNet-style), the baseline of Tables 8–9.

P3, P4, P5 are each refined by a 3×3 conv to ``channels`` (128), P4 and P5 are
up-sampled to P3 and summed, then a tower of 3×3 convs, a ×2 up-sampling, one
more 3×3 conv and a 1×1 conv give K = 4 bases at stride 4 (BlendMask,
Chen et al. CVPR 2020). It takes no context; the signature matches DR1Basis so
the detector can swap them.
"""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import UPSAMPLE_MODES, upsample_like


@MODELS.register_module()
class BlendMaskBasis(BaseModule):
    """ProtoNet-style basis: P3–P5 → K bases at stride 4.

    Args:
        in_channels: channels of the FPN levels (256).
        channels: width of the refine and tower convs (128).
        num_bases: K, output bases (4).
        num_levels: FPN levels merged, finest first (3: P3–P5).
        num_tower_convs: 3×3 convs at the P3 resolution (3).
        upsample_mode: ``'aligned'`` or ``'bilinear'``, as in DR1Basis.
        conv_cfg, norm_cfg, act_cfg: for every 3×3 conv.
        init_cfg: MMEngine init config; None keeps ConvModule's Kaiming init
            (for the ReLU that follows each conv).
    """

    def __init__(self,
                 in_channels: int = 256,
                 channels: int = 128,
                 num_bases: int = 4,
                 num_levels: int = 3,
                 num_tower_convs: int = 3,
                 upsample_mode: str = 'aligned',
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(
                f'upsample_mode must be one of {UPSAMPLE_MODES}, got {upsample_mode!r}')
        self.num_bases = num_bases
        self.num_levels = num_levels
        self.upsample_mode = upsample_mode
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.refine = nn.ModuleList(
            ConvModule(in_channels, channels, 3, padding=1, **common) for _ in range(num_levels))
        self.tower = nn.Sequential(*(ConvModule(channels, channels, 3, padding=1, **common)
                                     for _ in range(num_tower_convs)))
        self.output_conv = ConvModule(channels, channels, 3, padding=1, **common)
        self.conv_bases = nn.Conv2d(channels, num_bases, 1)

    @property
    def out_channels(self) -> int:
        """K, the width of the bases the blender reads."""
        return self.num_bases

    @property
    def context_channels(self) -> int:
        """BlendMask's basis takes no context."""
        return 0

    def forward(self, feats: Sequence[Tensor], contexts: Optional[Sequence[Tensor]] = None,
                out_size: Optional[Sequence[int]] = None) -> Tensor:
        """Compute the bases.

        Args:
            feats: P3, P4, ... each (N, in_channels, H_l, W_l), finest first.
            contexts: ignored (BlendMask has none).
            out_size: (H, W) of the output (padded input / 4); 2× P3 when None.

        Returns:
            (N, num_bases, H, W) bases at stride 4.
        """
        x = self.refine[0](feats[0])
        for level in range(1, self.num_levels):
            y = self.refine[level](feats[level])
            x = x + _upsample_to(y, feats, level, self.upsample_mode)
        x = self.tower(x)
        if out_size is None:
            out_size = [2 * s for s in x.shape[-2:]]
        x = self.output_conv(upsample_like(x, out_size, self.upsample_mode))
        return self.conv_bases(x)


def _upsample_to(y: Tensor, feats: Sequence[Tensor], level: int, mode: str) -> Tensor:
    """Bring level ``level`` to the P3 size by successive ×2 steps through the FPN sizes."""
    for finer in range(level - 1, -1, -1):
        y = upsample_like(y, feats[finer].shape[-2:], mode)
    return y
