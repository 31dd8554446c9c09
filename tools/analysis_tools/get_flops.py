"""FLOPs and parameters of a detector's network (``mode='tensor'``, no post-processing).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W] [--images DIR]

Counted with MMEngine's ``get_model_complexity_info`` on an input of the given
size (padded as the config's data preprocessor pads), or on the first image of
``--images`` passed through the config's test pipeline. Configs may be
MMDetection's own (``mmdet::...``).
"""
import argparse
from functools import partial
from typing import Dict, List, Optional

import torch
from mmdet.utils import register_all_modules
from mmengine.analysis import get_model_complexity_info
from mmengine.dataset import pseudo_collate
from mmengine.registry import MODELS
from mmengine.structures import InstanceData

from mmdet_dr1mask.support import inference_pipeline, list_images, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', nargs=2, type=int, default=[800, 1216], metavar=('H', 'W'),
                        help='input size (ignored with --images)')
    parser.add_argument('--images', help='use the first image of this folder instead')
    return parser.parse_args(argv)


def complexity(config: str, shape: List[int], images: Optional[str] = None) -> Dict:
    """FLOPs, parameters and the padded input shape of ``config``'s network."""
    register_all_modules()
    cfg = load_config(config)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    if images:
        batch = pseudo_collate([inference_pipeline(cfg)(
            dict(img_path=list_images(images)[0], img_id=0))])
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
