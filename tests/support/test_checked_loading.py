"""RLE objects are trained on, not ignored, by the pipelines that keep polygons.

A tiny COCO json: image 1 holds a polygon object, a compressed-RLE object and an
uncompressed-RLE object; image 2 a polygon object and an RLE crowd region. MMDetection's
``LoadAnnotations(poly2mask=False)`` would ignore both RLE objects of image 1.
"""
import copy
import json
import os.path as osp
from typing import Optional

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from conftest import REPO_ROOT
from mmdet.registry import DATASETS, MODELS
from mmdet.structures.mask import BitmapMasks, PolygonMasks
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

COCO_CONFIG = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r50_fpn_1x_coco.py')
TINY_CONFIG = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')
TINY_KNET_CONFIG = osp.join(REPO_ROOT, 'configs', 'knet', 'knet-s3_r18_fpn_tiny_synthetic.py')
CLASSES = ('thing', 'other')
H, W = 48, 64


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE: run lengths of the column-major pixels, zeros first."""
    counts, value, run = [], 0, 0
    for pixel in mask.flatten(order='F').tolist():
        if pixel != value:
            counts.append(run)
            value, run = pixel, 0
        run += 1
    counts.append(run)
    return dict(counts=counts, size=[H, W])


def compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    return dict(counts=rle['counts'].decode('ascii'), size=rle['size'])


def polygon_mask(polygon: list) -> np.ndarray:
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([polygon], H, W)))


def annotation(ann_id: int, image_id: int, category_id: int, segmentation, mask: np.ndarray,
               iscrowd: int = 0) -> dict:
    ys, xs = np.nonzero(mask)
    bbox = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1)]
    return dict(id=ann_id, image_id=image_id, category_id=category_id, bbox=bbox,
                area=float(mask.sum()), segmentation=segmentation, iscrowd=iscrowd)


@pytest.fixture
def rle_coco(tmp_path):
    """(data_root, {image id: expected (H, W) masks of its non-crowd objects in order})."""
    rng = np.random.default_rng(0)
    (tmp_path / 'img').mkdir()
    for name in ('1.jpg', '2.jpg'):
        cv2.imwrite(str(tmp_path / 'img' / name), rng.integers(0, 255, (H, W, 3), np.uint8))
    square = [4.0, 4.0, 20.0, 4.0, 20.0, 20.0, 4.0, 20.0]
    triangle = [30.0, 40.0, 60.0, 40.0, 45.0, 10.0]
    disk = cv2.circle(np.zeros((H, W), np.uint8), (44, 16), 9, 1, -1)
    ring = cv2.circle(np.zeros((H, W), np.uint8), (14, 34), 10, 1, 3)  # a hole: not a polygon
    crowd = np.zeros((H, W), np.uint8)
    crowd[2:12, 40:60] = 1
    annotations = [
        annotation(1, 1, 1, [square], polygon_mask(square)),
        annotation(2, 1, 3, compressed_rle(disk), disk),
        annotation(3, 1, 1, uncompressed_rle(ring), ring),
        annotation(4, 2, 3, [triangle], polygon_mask(triangle)),
        annotation(5, 2, 1, uncompressed_rle(crowd), crowd, iscrowd=1),
    ]
    data = dict(images=[dict(id=i, file_name=f'{i}.jpg', height=H, width=W) for i in (1, 2)],
                annotations=annotations,
                categories=[dict(id=1, name='thing'), dict(id=3, name='other')])
    with open(tmp_path / 'instances.json', 'w') as f:
        json.dump(data, f)
    expected = {1: [polygon_mask(square), disk, ring], 2: [polygon_mask(triangle)]}
    return str(tmp_path) + '/', expected


def coco_train_dataset(data_root: str, pipeline: Optional[list] = None):
    """The COCO config's training dataset and pipeline (or ``pipeline``), on the tiny json."""
    init_default_scope('mmdet')
    dataset = copy.deepcopy(Config.fromfile(COCO_CONFIG).train_dataloader.dataset)
    dataset.update(data_root=data_root, ann_file='instances.json', data_prefix=dict(img='img/'),
                   metainfo=dict(classes=CLASSES))
    if pipeline is not None:
        dataset.pipeline = pipeline
    return DATASETS.build(dataset)


def test_rle_objects_load_as_exact_bitmaps_polygon_images_keep_polygons(rle_coco):
    data_root, expected = rle_coco
    dataset = coco_train_dataset(data_root)
    load_image, load_annotations = dataset.pipeline.transforms[:2]
    assert type(load_annotations).__name__ == 'CheckedLoadAnnotations'
    assert not load_annotations.poly2mask
    loaded = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        loaded[info['img_id']] = load_annotations(load_image(info))
    with_rle, polygons_only = loaded[1], loaded[2]
    assert isinstance(with_rle['gt_masks'], BitmapMasks)
    assert not with_rle['gt_ignore_flags'].any()
    np.testing.assert_array_equal(with_rle['gt_masks'].masks, np.stack(expected[1]))
    np.testing.assert_array_equal(with_rle['gt_bboxes_labels'], [0, 1, 0])
    # COCO's case: polygons and an RLE crowd region stay polygons, the crowd ignored
    assert isinstance(polygons_only['gt_masks'], PolygonMasks)
    np.testing.assert_array_equal(polygons_only['gt_ignore_flags'], [False, True])


def test_training_pipeline_keeps_every_rle_object(rle_coco):
    data_root, expected = rle_coco
    dataset = coco_train_dataset(data_root)
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        gt, ignored = sample.gt_instances, sample.ignored_instances
        wanted = expected[sample.img_id]
        assert len(gt) == len(wanted)
        assert len(ignored) == (1 if sample.img_id == 2 else 0)  # the crowd region only
        sx, sy = sample.scale_factor
        areas = gt.masks.to_ndarray().sum((1, 2))
        np.testing.assert_allclose(areas, [m.sum() * sx * sy for m in wanted], rtol=0.1)
        assert (gt.masks.height, gt.masks.width) == sample.img_shape


@pytest.mark.parametrize('config', [TINY_CONFIG, TINY_KNET_CONFIG],
                         ids=lambda path: osp.basename(path)[:-3])
def test_one_training_step_on_a_batch_mixing_bitmap_and_polygon_masks(rle_coco, config):
    """Each image's masks are read on their own (padding, crops of the blender, the thing
    semantic targets, K-Net's mask targets), so BitmapMasks and PolygonMasks mix."""
    data_root, _ = rle_coco
    torch.manual_seed(0)
    cfg = Config.fromfile(config)  # 3 classes; the json's labels are 0 and 1
    # the tiny config's pipeline (images at 192x256, a fast step) with the COCO loader
    coco_loader = Config.fromfile(COCO_CONFIG).train_pipeline[1]
    pipeline = [coco_loader if step.type == 'LoadAnnotations' else step
                for step in cfg.train_dataloader.dataset.pipeline]
    dataset = coco_train_dataset(data_root, pipeline)
    batch = pseudo_collate([dataset[0], dataset[1]])
    assert [type(s.gt_instances.masks) for s in batch['data_samples']] == [
        BitmapMasks, PolygonMasks]
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = [p.detach().clone() for p in model.parameters()]
    log_vars = model.train_step(batch, optim_wrapper)
    assert all(torch.isfinite(v) for v in log_vars.values())
    mask_losses = [v for k, v in log_vars.items() if 'mask' in k]
    assert mask_losses and all(v > 0 for v in mask_losses)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


@pytest.mark.parametrize('bad_rle, message', [
    (dict(size=[H, W]), 'RLE segmentation without "counts"'),
    (dict(counts='PZ0', size=[W, H]), rf'size \[{W}, {H}\], not its image'),
])
def test_malformed_rle_is_named(rle_coco, bad_rle, message):
    data_root, _ = rle_coco
    path = osp.join(data_root, 'instances.json')
    with open(path) as f:
        data = json.load(f)
    data['annotations'][1]['segmentation'] = bad_rle
    with open(path, 'w') as f:
        json.dump(data, f)
    with pytest.raises(ValueError, match=rf'instances\.json: annotation 2 \(image 1\).*{message}'):
        coco_train_dataset(data_root)
