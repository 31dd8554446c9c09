"""K-Net's feature map: a Semantic-FPN fusion of the FPN levels (K-Net Sec. 4, "Implementation
details"; ``SemanticFPNWrapper`` of github.com/ZwwWayne/K-Net, knet/det/semantic_fpn_wrapper.py).

Every FPN level is brought to the resolution of ``out_level`` (stride 8 in the
official configs: P2 by a stride-2 conv, P4 and P5 by convs and 2× bilinear
up-sampling), the levels are summed, and two 1×1 conv-GN-ReLU layers give the
two maps the kernel heads use: the *localization* map, where the instance
kernels act, and the *semantic* map, where the stuff/semantic kernels act.
A sine positional encoding is added to ``pos_level`` (P5) before its convs, so
that kernels can tell positions apart.

Deviations from the official implementation:

* only the options the official detection configs use are kept (no coordinate
  concatenation, no concatenation fusion, always one auxiliary output);
* levels below ``out_level`` get one stride-2 conv per halving; the official
  code supports only P2 and builds all its stride-2 convs with the input width.
"""
from typing import Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmdet.models.layers import SinePositionalEncoding
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class KNetSemanticFPN(BaseModule):
    """Fuse FPN levels at one stride into a localization and a semantic map.

    Args:
        in_channels (int): Channels of each FPN level. Defaults to 256.
        feat_channels (int): Channels of the per-level convs. Defaults to 256.
        out_channels (int): Channels of both output maps. Defaults to 256.
        start_level (int): First FPN level used. Defaults to 0.
        end_level (int): Last FPN level used (inclusive). Defaults to 3.
        out_level (int): Level whose resolution the outputs have. Defaults to 1
            (stride 8, ``upsample_times=2`` in the official configs).
        pos_level (int | None): Level that gets the sine positional encoding;
            None for none. Defaults to 3.
        norm_cfg (dict): Normalisation of every conv. Defaults to GN(32).
        init_cfg (dict): Defaults to normal(0.01) convs, as the official code.
    """

    def __init__(self,
                 in_channels: int = 256,
                 feat_channels: int = 256,
                 out_channels: int = 256,
                 start_level: int = 0,
                 end_level: int = 3,
                 out_level: int = 1,
                 pos_level: int = 3,
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 init_cfg: OptMultiConfig = dict(type='Normal', layer='Conv2d', std=0.01)
                 ) -> None:
        super().__init__(init_cfg)
        if not 0 <= start_level <= out_level <= end_level:
            raise ValueError('semantic_fpn needs 0 <= start_level <= out_level <= end_level, got '
                             f'start_level={start_level}, out_level={out_level}, '
                             f'end_level={end_level}')
        self.start_level, self.end_level, self.pos_level = start_level, end_level, pos_level
        self.positional_encoding = SinePositionalEncoding(
            num_feats=in_channels // 2, normalize=True) if pos_level is not None else None
        self.levels = nn.ModuleList(
            self._level_convs(level, out_level, in_channels, feat_channels, norm_cfg)
            for level in range(start_level, end_level + 1))

        def out_conv() -> ConvModule:
            return ConvModule(feat_channels, out_channels, 1, norm_cfg=norm_cfg)
        self.loc_conv, self.sem_conv = out_conv(), out_conv()

    @staticmethod
    def _level_convs(level: int, out_level: int, in_channels: int, feat_channels: int,
                     norm_cfg: ConfigType) -> nn.Sequential:
        """3×3 convs taking one level to ``out_level``: stride-2 convs for finer levels;
        for coarser ones ``max(1, level)`` convs, the first ``level - out_level`` of them
        followed by 2× up-sampling (the layout of Panoptic FPN's semantic branch)."""
        convs = nn.Sequential()
        if level < out_level:
            for i in range(out_level - level):
                convs.append(ConvModule(in_channels if i == 0 else feat_channels,
                                        feat_channels, 3, stride=2, padding=1,
                                        norm_cfg=norm_cfg, inplace=False))
            return convs
        for i in range(max(1, level)):
            convs.append(ConvModule(in_channels if i == 0 else feat_channels, feat_channels,
                                    3, padding=1, norm_cfg=norm_cfg, inplace=False))
            if i < level - out_level:
                convs.append(nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False))
        return convs

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Fuse ``inputs`` (FPN levels, level l of shape (B, C, H/2^(l+2), W/2^(l+2))).

        Returns:
            tuple[Tensor, Tensor]: the localization and the semantic maps, each
            (B, out_channels, H_o, W_o) at the resolution of ``out_level``.
        """
        fused = 0
        for convs, level in zip(self.levels, range(self.start_level, self.end_level + 1)):
            x = inputs[level]
            if level == self.pos_level and self.positional_encoding is not None:
                no_padding = x.new_zeros((x.shape[0], *x.shape[-2:]), dtype=torch.bool)
                x = x + self.positional_encoding(no_padding)  # (B, C, h, w)
            fused = fused + convs(x)
        return self.loc_conv(fused), self.sem_conv(fused)
