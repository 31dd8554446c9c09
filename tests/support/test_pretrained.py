"""Every shipped config's ImageNet weights initialise in the project's environment.

The DR1Mask and BlendMask configs name Detectron2's MSRA weights
(``open-mmlab://detectron2/resnet{50,101}_caffe``) and K-Net the official
``torchvision://resnet50``; torchvision is not installed here. Each name is pointed at
a local file the way the README tells an offline user to (``$MMENGINE_HOME/open_mmlab.json``
for the MSRA names, ``$TORCH_HOME/hub/checkpoints`` for the torchvision one), and any
download is an error.
"""
import glob
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmdet_dr1mask  # noqa: F401  (registers the modules and the torchvision:// loader)

register_all_modules()
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
MAKE_BACKBONE_FILE = osp.join(REPO_ROOT, 'checkpoints', 'resnet50_caffe_imagenet-tfjs.pth')


def pretrained_backbones() -> dict:
    """{checkpoint name: [(config, backbone config), ...]}, one entry per distinct backbone."""
    found = {}
    for path in sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)):
        if '_base_' in path:
            continue
        backbone = Config.fromfile(path).model.backbone
        if backbone.get('init_cfg') and backbone.init_cfg.type == 'Pretrained':
            entries = found.setdefault(backbone.init_cfg.checkpoint, [])
            if all(b != backbone for _, b in entries):
                entries.append((osp.relpath(path, CONFIG_DIR), backbone))
    return found


BACKBONES = pretrained_backbones()


def test_coco_configs_name_the_papers_backbones():
    names = set(BACKBONES)
    assert {'open-mmlab://detectron2/resnet50_caffe', 'open-mmlab://detectron2/resnet101_caffe',
            'torchvision://resnet50'} <= names
    for name, entries in BACKBONES.items():
        for config, backbone in entries:
            if 'caffe' in name:  # Detectron2's MSRA ResNet: caffe blocks, frozen BN
                assert backbone.style == 'caffe', config
                assert backbone.norm_cfg.requires_grad is False and backbone.norm_eval
                preprocessor = Config.fromfile(osp.join(CONFIG_DIR, config)).model\
                    .data_preprocessor
                assert preprocessor.bgr_to_rgb is False and preprocessor.std == [1.0] * 3


def random_resnet_checkpoint(path: str, depth: int, style: str) -> dict:
    """A ResNet-``depth`` state dict written to ``path`` as MMEngine checkpoints are."""
    torch.manual_seed(depth)
    state = MODELS.build(dict(type='ResNet', depth=depth, style=style)).state_dict()
    torch.save(dict(state_dict=state), path)
    return state


@pytest.fixture
def offline_homes(tmp_path, monkeypatch):
    """MMENGINE_HOME and TORCH_HOME in tmp_path; downloading raises."""
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))

    def no_download(url, *args, **kwargs):
        raise AssertionError(f'tried to download {url}')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_download)
    return tmp_path


def local_weights(name: str, root) -> dict:
    """Put a file where the offline set-up puts it for ``name``; returns its state dict."""
    if name.startswith('open-mmlab://'):
        depth = int(name.split('resnet')[1].split('_')[0])
        path = str(root / f'r{depth}.pth')
        if depth == 50 and osp.isfile(MAKE_BACKBONE_FILE):  # the real file of `make backbone`
            path = MAKE_BACKBONE_FILE
            state = torch.load(path)['state_dict']
        else:
            state = random_resnet_checkpoint(path, depth, 'caffe')
        index = root / 'mmengine' / 'open_mmlab.json'
        index.parent.mkdir(exist_ok=True)
        mapping = json.loads(index.read_text()) if index.exists() else {}
        mapping[name[len('open-mmlab://'):]] = path
        index.write_text(json.dumps(mapping))
        return state
    if name == 'torchvision://resnet50':
        cache = root / 'torch' / 'hub' / 'checkpoints'
        cache.mkdir(parents=True, exist_ok=True)
        return random_resnet_checkpoint(str(cache / 'resnet50-0676ba61.pth'), 50, 'pytorch')
    if osp.isfile(osp.join(REPO_ROOT, name)):  # a local file a config names (coco128-seg)
        return torch.load(osp.join(REPO_ROOT, name))['state_dict']
    pytest.skip(f'{name}: the local file is made by `make backbone`')


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_every_configs_backbone_weights_initialise_offline(name, offline_homes, monkeypatch):
    state = local_weights(name, offline_homes)
    monkeypatch.chdir(REPO_ROOT)  # configs name local files relative to the repository
    for config, backbone_cfg in BACKBONES[name]:
        backbone = MODELS.build(backbone_cfg)
        backbone.init_weights()
        loaded = backbone.state_dict()
        for key in ('conv1.weight', 'layer1.0.conv1.weight', 'layer4.2.conv3.weight'):
            torch.testing.assert_close(loaded[key], state[key], msg=f'{config}: {key}')


def test_an_unknown_torchvision_name_is_a_clear_error():
    from mmdet_dr1mask.support.pretrained import torchvision_url
    assert torchvision_url('torchvision://resnet50').endswith('resnet50-0676ba61.pth')
    with pytest.raises(KeyError, match='torchvision://no_such_net'):
        torchvision_url('torchvision://no_such_net')
