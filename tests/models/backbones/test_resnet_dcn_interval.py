"""ResNetDCNInterval: DCNv2 only in blocks 0, k, 2k, ... of the DCN stages (AdelaiDet
resnet_interval.py, DEFORM_INTERVAL), the rest of MMDetection's ResNet unchanged."""
import copy
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmcv.ops import ModulatedDeformConv2d
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS
from mmengine.config import Config
from torch import nn

from mmdet_dr1mask.models.backbones import ResNetDCNInterval

DCN = dict(type='DCNv2', deform_groups=1, fallback_on_stride=False)
TINY = dict(depth=50, base_channels=4, stem_channels=8, norm_cfg=dict(type='BN'),
            dcn=DCN, stage_with_dcn=(False, True, True, True))


def deformable_blocks(backbone: ResNet) -> dict:
    """{layer name: indices of the blocks whose 3x3 conv is deformable}; checks that every
    other block's conv2 is a plain Conv2d."""
    found = {}
    for name in backbone.res_layers:
        found[name] = []
        for i, block in enumerate(getattr(backbone, name)):
            if isinstance(block.conv2, ModulatedDeformConv2d):
                found[name].append(i)
            else:
                assert type(block.conv2) is nn.Conv2d, (name, i, type(block.conv2))
    return found


def test_interval_3_puts_dcn_in_blocks_0_and_3_only():
    backbone = ResNetDCNInterval(dcn_interval=3, **copy.deepcopy(TINY))
    # R-50 stages have 3, 4, 6, 3 blocks
    assert deformable_blocks(backbone) == {
        'layer1': [], 'layer2': [0, 3], 'layer3': [0, 3], 'layer4': [0]}
    dcn_convs = [m for m in backbone.modules() if isinstance(m, ModulatedDeformConv2d)]
    assert len(dcn_convs) == 5 and all(m.deform_groups == 1 for m in dcn_convs)


def test_interval_1_is_mmdetection_resnet_with_dcn_in_every_block():
    assert deformable_blocks(ResNetDCNInterval(dcn_interval=1, **copy.deepcopy(TINY))) == \
        deformable_blocks(ResNet(**copy.deepcopy(TINY))) == {
            'layer1': [], 'layer2': [0, 1, 2, 3], 'layer3': list(range(6)),
            'layer4': [0, 1, 2]}


def test_rejects_an_interval_below_1():
    with pytest.raises(ValueError, match='dcn_interval'):
        ResNetDCNInterval(dcn_interval=0, **copy.deepcopy(TINY))


@pytest.mark.parametrize('style', ['pytorch', 'caffe'])
def test_forward_shapes_equal_plain_resnet(style):
    torch.manual_seed(0)
    plain_cfg = {k: v for k, v in TINY.items() if k not in ('dcn', 'stage_with_dcn')}
    backbone = ResNetDCNInterval(dcn_interval=3, style=style, **copy.deepcopy(TINY))
    plain = ResNet(style=style, **plain_cfg)
    backbone.eval()  # ResNet.train() returns None, so no chaining
    plain.eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():  # DCNv2 runs on CPU with mmcv's compiled ops
        outs, plain_outs = backbone(x), plain(x)
    assert [o.shape for o in outs] == [o.shape for o in plain_outs] == [
        (2, 16 * 2 ** i, 64 // 2 ** (i + 2), 96 // 2 ** (i + 2)) for i in range(4)]


def test_plain_resnet_weights_load_leaving_only_the_offset_convs_missing():
    plain_cfg = {k: v for k, v in TINY.items() if k not in ('dcn', 'stage_with_dcn')}
    state = ResNet(**plain_cfg).state_dict()
    backbone = ResNetDCNInterval(dcn_interval=3, **copy.deepcopy(TINY))
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    assert not unexpected
    dcn_blocks = {f'{name}.{i}' for name, idx in deformable_blocks(backbone).items()
                  for i in idx}
    assert {k.rsplit('.conv2.conv_offset.', 1)[0] for k in missing} == dcn_blocks
    assert all('.conv2.conv_offset.' in k for k in missing)


def test_frozen_stages_and_norm_eval_are_the_parents():
    backbone = ResNetDCNInterval(dcn_interval=3, frozen_stages=2, norm_eval=True,
                                 **copy.deepcopy(TINY))
    backbone.train()
    assert not any(p.requires_grad for p in backbone.layer2.parameters())
    assert backbone.layer3[0].conv2.weight.requires_grad
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize('rel_path', ['dr1mask/dr1mask_r101-dcn_fpn_ms-3x_coco.py',
                                      'dr1mask/dr1mask_r101-dcn_fpn_ms-3x_coco-panoptic.py'])
def test_shipped_r101_dcn_configs_put_dcn_in_every_third_block(rel_path):
    """AdelaiDet R_101_dcni3_5x: DEFORM_INTERVAL 3 over res3-res5 (4, 23, 3 blocks)."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', rel_path)).model.backbone
    cfg.init_cfg = None  # no weight download
    backbone = MODELS.build(cfg)
    assert type(backbone) is ResNetDCNInterval and backbone.dcn_interval == 3
    assert deformable_blocks(backbone) == {
        'layer1': [], 'layer2': [0, 3], 'layer3': list(range(0, 23, 3)), 'layer4': [0]}
