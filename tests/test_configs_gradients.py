"""No shipped config builds a parameter that training leaves without a gradient.

DDP (``find_unused_parameters=False``, MMEngine's default) stops at the second
iteration when a parameter takes no part in the loss, as the context conv did in the
ablations with both dynamic factors off. Every distinct model among the shipped configs
gets one loss and backward pass on a small image with two objects and stuff around them.
"""
import glob
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, run_model
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

import mmdet_dr1mask  # noqa: F401  (registers the modules)

register_all_modules()
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
SIZE = 64


def distinct_models() -> dict:
    """{config path: model config} with one config for each distinct model."""
    models = {}
    for path in sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)):
        if '_base_' in path:
            continue
        model = Config.fromfile(path).model
        model.backbone.init_cfg = None  # random weights: no download, same structure
        key = json.dumps(model.to_dict(), sort_keys=True, default=str)
        models.setdefault(key, (osp.relpath(path, CONFIG_DIR), model))
    return dict(models.values())


MODELS_TO_CHECK = distinct_models()


def num_classes(model: dict) -> tuple:
    """(things, stuff) of a DR1Mask, BlendMask or K-Net model config."""
    if model.type == 'KNet':
        return model.iter_head.num_thing_classes, model.iter_head.num_stuff_classes
    panoptic = model.get('panoptic_head')
    return model.bbox_head.num_classes, panoptic.num_stuff_classes if panoptic else 0


def two_object_batch(things: int, stuff: int) -> dict:
    """Two images, each with two overlapping boxes of thing classes 0 and 1 on stuff
    ``things`` (two, so that BN sees more than one value at P7)."""
    boxes = torch.tensor([[4.0, 4.0, 40.0, 44.0], [20.0, 16.0, 60.0, 60.0]])
    masks = torch.zeros(2, SIZE, SIZE, dtype=torch.uint8)
    sem_seg = torch.full((1, SIZE, SIZE), things if stuff else 255)
    for i, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
        masks[i, y1:y2, x1:x2] = 1
        sem_seg[0, y1:y2, x1:x2] = i
    sample = DetDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 1]),
                                       masks=BitmapMasks(masks.numpy(), SIZE, SIZE))
    sample.gt_sem_seg = PixelData(sem_seg=sem_seg)
    torch.manual_seed(0)
    images = [torch.randint(0, 255, (3, SIZE, SIZE), dtype=torch.uint8) for _ in range(2)]
    return dict(inputs=images, data_samples=[sample, sample.clone()])


@pytest.mark.parametrize('config', sorted(MODELS_TO_CHECK))
def test_every_trainable_parameter_gets_a_gradient(config):
    model_cfg = MODELS_TO_CHECK[config]
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    losses = run_model(model, two_object_batch(*num_classes(model_cfg)), 'loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    unused = [name for name, p in model.named_parameters()
              if p.requires_grad and p.grad is None]
    assert not unused, f'{config}: parameters without a gradient: {unused}'
