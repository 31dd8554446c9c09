"""The synthetic dataset: deterministic, consistent, and readable by every loader."""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import load_tool
from panopticapi.utils import rgb2id
from pycocotools.coco import COCO

from mmdet_dr1mask.support import (
    STUFF_CLASSES,
    SYNTHETIC_INSTANCE_METAINFO,
    SYNTHETIC_PANOPTIC_METAINFO,
    THING_CLASSES,
    SyntheticConfig,
    generate_split,
)
from mmdet_dr1mask.support.synthetic import POLYGON_MIN_IOU

CFG = SyntheticConfig(img_size=(96, 128), max_things=6, crowd_prob=0.5, void_prob=0.5)


def _tree_digest(root):
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(folder, name)
            digest.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    return root, generate_split(root, 'train', 6, seed=3, cfg=CFG)


def _read_panoptic(paths, file_name):
    png = cv2.imread(osp.join(paths['panoptic_dir'], file_name), cv2.IMREAD_COLOR)
    return rgb2id(png[..., ::-1])


def test_same_seed_writes_identical_files(tmp_path):
    generate_split(str(tmp_path / 'a'), 'train', 3, seed=7, cfg=CFG)
    generate_split(str(tmp_path / 'b'), 'train', 3, seed=7, cfg=CFG)
    generate_split(str(tmp_path / 'c'), 'train', 3, seed=8, cfg=CFG)
    assert _tree_digest(tmp_path / 'a') == _tree_digest(tmp_path / 'b')
    assert _tree_digest(tmp_path / 'a') != _tree_digest(tmp_path / 'c')


def test_image_k_does_not_depend_on_the_image_count(tmp_path):
    small = generate_split(str(tmp_path / 'small'), 'val', 2, seed=1, cfg=CFG)
    large = generate_split(str(tmp_path / 'large'), 'val', 5, seed=1, cfg=CFG)
    for name in ('000000000001.jpg', '000000000002.jpg'):
        with open(osp.join(small['img_dir'], name), 'rb') as a, \
                open(osp.join(large['img_dir'], name), 'rb') as b:
            assert a.read() == b.read()


def test_panoptic_png_decodes_with_rgb2id_to_the_json_segments(dataset):
    _, paths = dataset
    with open(paths['panoptic_json']) as f:
        pan = json.load(f)
    categories = {c['id']: c for c in pan['categories']}
    assert [c['name'] for c in pan['categories']] == list(THING_CLASSES + STUFF_CLASSES)
    for ann in pan['annotations']:
        ids = _read_panoptic(paths, ann['file_name'])
        present = set(np.unique(ids).tolist()) - {0}
        assert present == {s['id'] for s in ann['segments_info']}
        for seg in ann['segments_info']:
            assert seg['category_id'] in categories
            assert seg['area'] == int((ids == seg['id']).sum())
            ys, xs = np.nonzero(ids == seg['id'])
            assert seg['bbox'] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                   ys.max() - ys.min() + 1]


def test_instances_load_with_pycocotools_and_match_the_panoptic_segments(dataset):
    _, paths = dataset
    coco = COCO(paths['instances_json'])
    with open(paths['panoptic_json']) as f:
        pan_json = json.load(f)
    pan = {a['image_id']: a for a in pan_json['annotations']}
    thing_ids = {c['id'] for c in pan_json['categories'] if c['isthing']}
    assert sorted(c['name'] for c in coco.loadCats(coco.getCatIds())) == sorted(THING_CLASSES)
    n_things = 0
    for img_id in coco.getImgIds():
        img = coco.loadImgs(img_id)[0]
        ids = _read_panoptic(paths, pan[img_id]['file_name'])
        assert ids.shape == (img['height'], img['width'])
        things = [s for s in pan[img_id]['segments_info'] if s['category_id'] in thing_ids]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=None))
        assert len(anns) == len(things)
        for ann, seg in zip(anns, things):
            assert (ann['category_id'], ann['iscrowd']) == (seg['category_id'], seg['iscrowd'])
            truth = ids == seg['id']
            mask = coco.annToMask(ann) > 0
            iou = (mask & truth).sum() / (mask | truth).sum()
            if isinstance(ann['segmentation'], dict):  # RLE: exact
                assert iou == 1.0
            else:
                assert iou >= POLYGON_MIN_IOU
        n_things += len(anns)
    assert n_things > 0


def test_crowd_regions_are_rle_and_void_is_zero(tmp_path):
    cfg = SyntheticConfig(img_size=(80, 80), crowd_prob=1.0, void_prob=1.0)
    paths = generate_split(str(tmp_path), 'train', 3, seed=0, cfg=cfg)
    coco = COCO(paths['instances_json'])
    crowds = coco.loadAnns(coco.getAnnIds(iscrowd=True))
    assert len(crowds) >= 1
    assert all(isinstance(a['segmentation'], dict) for a in crowds)
    with open(paths['panoptic_json']) as f:
        pan = json.load(f)['annotations']
    assert all((_read_panoptic(paths, a['file_name']) == 0).any() for a in pan)


@pytest.mark.parametrize('size', [(8, 8), (33, 517), (100, 132), (2000, 64)])
def test_any_image_size(tmp_path, size):
    cfg = SyntheticConfig(img_size=size, max_things=3)
    paths = generate_split(str(tmp_path), 'train', 2, seed=0, cfg=cfg)
    img = cv2.imread(osp.join(paths['img_dir'], '000000000001.jpg'))
    assert img.shape == (*size, 3)


def test_size_jitter_varies_sizes(tmp_path):
    cfg = SyntheticConfig(img_size=(64, 64), size_jitter=0.4)
    paths = generate_split(str(tmp_path), 'train', 6, seed=0, cfg=cfg)
    with open(paths['instances_json']) as f:
        sizes = {(i['height'], i['width']) for i in json.load(f)['images']}
    assert len(sizes) > 1


def test_zero_images_writes_valid_empty_files(tmp_path):
    paths = generate_split(str(tmp_path), 'val', 0, seed=0)
    assert COCO(paths['instances_json']).getImgIds() == []


@pytest.mark.parametrize('kwargs', [dict(img_size=(4, 64)), dict(size_jitter=1.0),
                                    dict(min_things=3, max_things=2), dict(crowd_prob=2.0)])
def test_bad_settings_are_rejected_with_their_name(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs)).split('_')[0]):
        SyntheticConfig(**kwargs)


def test_mmdet_coco_dataset_pipeline_reads_the_instances(dataset):
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules
    register_all_modules()
    root, _ = dataset
    ds = CocoDataset(
        data_root=root, ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'), metainfo=SYNTHETIC_INSTANCE_METAINFO,
        filter_cfg=None, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs')])
    coco = COCO(osp.join(root, 'annotations/instances_train.json'))
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        anns = coco.loadAnns(coco.getAnnIds(imgIds=sample.img_id, iscrowd=False))
        gt = sample.gt_instances
        assert len(gt) == len(anns)
        assert gt.masks.to_ndarray().shape[1:] == tuple(ds[i]['inputs'].shape[1:])
        assert set(gt.labels.tolist()) <= {0, 1, 2}


def test_mmdet_coco_panoptic_dataset_pipeline_reads_things_and_stuff(dataset):
    from mmdet.datasets import CocoPanopticDataset
    from mmdet.utils import register_all_modules
    register_all_modules()
    root, _ = dataset
    ds = CocoPanopticDataset(
        data_root=root, ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='train/', seg='annotations/panoptic_train/'),
        metainfo=SYNTHETIC_PANOPTIC_METAINFO, filter_cfg=None, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPanopticAnnotations', with_bbox=True, with_mask=True, with_seg=True),
            dict(type='PackDetInputs')])
    n_things, n_stuff = len(THING_CLASSES), len(STUFF_CLASSES)
    seen = set()
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        sem = sample.gt_sem_seg.sem_seg.numpy()
        labels = set(np.unique(sem).tolist())
        assert labels <= set(range(n_things + n_stuff)) | {255}
        seen |= labels
        assert set(sample.gt_instances.labels.tolist()) <= set(range(n_things))
    assert seen & set(range(n_things)) and seen & set(range(n_things, n_things + n_stuff))


def test_cli_writes_the_requested_splits(tmp_path):
    cli = load_tool('misc/generate_synthetic_dataset.py')
    cli.main([str(tmp_path), '--splits', 'train:2', 'val:1', '--img-size', '40', '50'])
    assert len(os.listdir(tmp_path / 'train')) == 2
    assert len(os.listdir(tmp_path / 'annotations' / 'panoptic_val')) == 1
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path), '--splits', 'train'])


def _instance_colours(root, split='train'):
    """Mean BGR colour of every non-crowd instance, grouped by category."""
    coco = COCO(osp.join(root, 'annotations', f'instances_{split}.json'))
    colours = {}
    for ann in coco.loadAnns(coco.getAnnIds(iscrowd=False)):
        img = coco.loadImgs(ann['image_id'])[0]
        pixels = cv2.imread(osp.join(root, split, img['file_name']))[coco.annToMask(ann) > 0]
        if len(pixels) >= 50:
            colours.setdefault(ann['category_id'], []).append(pixels.mean(0))
    return colours


def test_varied_instances_change_only_the_pictures_not_the_annotations(tmp_path):
    alike, varied = str(tmp_path / 'alike'), str(tmp_path / 'varied')
    generate_split(alike, 'train', 12, seed=0, cfg=CFG)
    generate_split(varied, 'train', 12, seed=0,
                   cfg=SyntheticConfig(**{**vars(CFG), 'varied_instances': True}))
    for ann in ('instances_train.json', 'panoptic_train.json'):
        with open(osp.join(alike, 'annotations', ann)) as a, \
                open(osp.join(varied, 'annotations', ann)) as b:
            assert json.load(a) == json.load(b), ann
    # same-class instances: the colour spread is far wider when every instance is varied
    spread = {name: np.mean([np.std(c, 0).mean() for c in _instance_colours(root).values()
                             if len(c) > 1]) for name, root in (('alike', alike),
                                                                ('varied', varied))}
    assert spread['varied'] > 2 * spread['alike'], spread


def test_cli_writes_varied_instances(tmp_path):
    cli = load_tool('misc/generate_synthetic_dataset.py')
    for name, extra in (('alike', []), ('varied', ['--varied-instances'])):
        cli.main([str(tmp_path / name), '--splits', 'train:2', '--img-size', '64', '64',
                  *extra])
    assert _tree_digest(tmp_path / 'alike' / 'train') != \
        _tree_digest(tmp_path / 'varied' / 'train')
