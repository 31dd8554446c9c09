"""KNetSemanticFPN: the official layout (P2 down, P4/P5 up to stride 8) and outputs."""
import pytest
import torch
from torch import nn

from mmdet_dr1mask.knet import KNetSemanticFPN

GN = dict(type='GN', num_groups=4, requires_grad=True)


def fpn_levels(b=2, c=8, h=64, w=96):
    return [torch.randn(b, c, h // 2 ** (i + 2), w // 2 ** (i + 2)) for i in range(4)]


def test_two_maps_at_stride_8():
    neck = KNetSemanticFPN(in_channels=8, feat_channels=8, out_channels=12, norm_cfg=GN)
    loc, sem = neck(fpn_levels())
    assert loc.shape == sem.shape == (2, 12, 8, 12)
    assert not torch.equal(loc, sem)


def test_level_layout_matches_the_official_upsample_times_2():
    neck = KNetSemanticFPN(in_channels=8, feat_channels=8, out_channels=8, norm_cfg=GN)
    layout = [[type(m).__name__ for m in level] for level in neck.levels]
    assert layout == [['ConvModule'], ['ConvModule'],
                      ['ConvModule', 'Upsample', 'ConvModule'],
                      ['ConvModule', 'Upsample', 'ConvModule', 'Upsample', 'ConvModule']]
    assert neck.levels[0][0].conv.stride == (2, 2)
    convs = [m for m in neck.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is None or c.bias.abs().sum() == 0 for c in convs)  # GN convs


def test_positional_encoding_on_p5_changes_the_output():
    torch.manual_seed(0)
    with_pos = KNetSemanticFPN(in_channels=8, feat_channels=8, out_channels=8, norm_cfg=GN)
    without = KNetSemanticFPN(in_channels=8, feat_channels=8, out_channels=8, norm_cfg=GN,
                              pos_level=None)
    without.load_state_dict(with_pos.state_dict())
    feats = fpn_levels()
    assert not torch.allclose(with_pos(feats)[0], without(feats)[0])


def test_levels_out_of_order_are_a_config_error_naming_the_keys():
    with pytest.raises(ValueError, match='start_level=2, out_level=1'):
        KNetSemanticFPN(in_channels=8, feat_channels=8, out_channels=8, start_level=2,
                        out_level=1, end_level=3)
