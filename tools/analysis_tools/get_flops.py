"""FLOPs and parameters of a detector's network (``mode='tensor'``, no post-processing).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W] [--images DIR]

Counted with MMEngine's ``get_model_complexity_info`` on an input of the given
size (padded as the config's data preprocessor pads), or on the first image of
``--images`` passed through the config's test pipeline. Configs may be
MMDetection's own (``mmdet::...``).
"""
import argparse
import os
import os.path as osp
from functools import partial
from typing import Dict, List, Optional

import torch
from mmdet.utils import register_all_modules
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import MODELS
from mmengine.structures import InstanceData

import mmdet_dr1mask  # noqa: F401


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', nargs=2, type=int, default=[800, 1216], metavar=('H', 'W'),
                        help='input size (ignored with --images)')
    parser.add_argument('--images', help='use the first image of this folder instead')
    return parser.parse_args(argv)


def load_benchmark_tool():
    """The config resolution and test pipeline helpers of benchmark.py beside this file."""
    import importlib.util
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'benchmark.py')
    spec = importlib.util.spec_from_file_location('dr1mask_benchmark', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def complexity(config: str, shape: List[int], images: Optional[str] = None) -> Dict:
    """FLOPs, parameters and the padded input shape of ``config``'s network."""
    register_all_modules()
    bench = load_benchmark_tool()
    cfg = Config.fromfile(bench.resolve_config(config))
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    if images:
        files = sorted(f for f in os.listdir(images) if f.lower().endswith(bench.IMAGE_EXTS))
        if not files:
            raise FileNotFoundError(f'--images: no image files in {images}')
        batch = pseudo_collate([bench.test_pipeline(cfg, None)(
            dict(img_path=osp.join(images, files[0]), img_id=0))])
    else:
        from mmdet.structures import DetDataSample
        h, w = shape
        sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData()
        batch = dict(inputs=[torch.zeros(3, h, w, dtype=torch.uint8)], data_samples=[sample])
    data = model.data_preprocessor(batch, False)
    model.forward = partial(model.forward, data_samples=data['data_samples'], mode='tensor')
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=data['inputs'], show_table=False,
                                         show_arch=False)
    return dict(flops=info['flops'], params=info['params'],
                input_shape=tuple(data['inputs'].shape[-2:]))


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    result = complexity(args.config, args.shape, args.images)
    print(f"input {result['input_shape'][0]}x{result['input_shape'][1]} (padded): "
          f"{result['flops'] / 1e9:.3f} GFLOPs, {result['params'] / 1e6:.2f} M parameters "
          '(network only; post-processing not counted)')
    return result


if __name__ == '__main__':
    main()
