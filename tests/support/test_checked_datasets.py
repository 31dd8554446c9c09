"""Bad data is named (file, field, id); legal oddities give correct, empty results.

Each test corrupts a copy of the synthetic dataset and builds the dataset of our base
configs (CheckedCocoDataset / CheckedCocoPanopticDataset and their train pipelines).
"""
import argparse
import copy
import json
import os.path as osp
import shutil

import pytest
from conftest import REPO_ROOT
from mmcv.transforms import LoadImageFromFile
from mmdet.datasets import get_loading_pipeline
from mmdet.datasets.transforms import LoadAnnotations
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmdet_dr1mask.support import (
    CheckedLoadAnnotations,
    CheckedLoadImageFromFile,
    CheckedLoadPanopticAnnotations,
    jpeg_is_truncated,
)

BASE = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')


@pytest.fixture
def root(synthetic_root, tmp_path) -> str:
    """A private copy of the synthetic dataset, free to corrupt."""
    return shutil.copytree(synthetic_root, str(tmp_path / 'data')) + '/'


def build(root: str, panoptic: bool = False, split: str = 'train', **overrides):
    from mmdet.registry import DATASETS
    init_default_scope('mmdet')  # as the runner does: the pipelines name mmdet transforms
    cfg = Config.fromfile(osp.join(BASE, f'synthetic_{"panoptic" if panoptic else "instance"}.py'))
    dataset = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    dataset.update(data_root=root, **overrides)
    return DATASETS.build(dataset)


def edit_json(path: str, edit) -> None:
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, 'w') as f:
        json.dump(data, f)


def instances_json(root: str) -> str:
    return osp.join(root, 'annotations', 'instances_train.json')


# --------------------------------------------------------------------- loaders
@pytest.mark.parametrize('config', ['synthetic_instance.py', 'synthetic_panoptic.py',
                                    'coco_instance_ms.py', 'coco_panoptic_ms.py'])
def test_train_pipelines_name_the_loaders_mmdetection_tools_find(config):
    """MMDetection's analyze_results.py keeps the train pipeline's loaders, found by exact
    class, and asserts that there are two (image and annotations)."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(BASE, config))
    loaders = get_loading_pipeline(cfg.train_dataloader.dataset.pipeline)
    assert loaders[0]['type'] == 'LoadImageFromFile'


@pytest.mark.parametrize('panoptic', [False, True], ids=['instance', 'panoptic'])
@pytest.mark.parametrize('split', ['train', 'val'])
def test_checked_datasets_load_with_the_checked_loaders(root, panoptic, split):
    dataset = build(root, panoptic=panoptic, split=split)
    cfg = Config.fromfile(osp.join(BASE, f'synthetic_{"panoptic" if panoptic else "instance"}.py'))
    step = next(s for s in cfg[f'{split}_dataloader'].dataset.pipeline
                if s['type'].endswith('Annotations'))
    image = dataset.pipeline.transforms[0]
    annotations = next(t for t in dataset.pipeline.transforms if isinstance(t, LoadAnnotations))
    assert type(image) is CheckedLoadImageFromFile
    assert type(annotations) is (
        CheckedLoadPanopticAnnotations if panoptic else CheckedLoadAnnotations)
    for arg in ('with_bbox', 'with_mask', 'with_seg'):  # the config's arguments are kept
        if arg in step:
            assert getattr(annotations, arg) == step[arg]


# ------------------------------------------------------------------ image files
def test_missing_image_file_is_named(root):
    dataset = build(root)
    path = dataset.get_data_info(0)['img_path']
    shutil.move(path, path + '.gone')
    with pytest.raises(FileNotFoundError, match=osp.basename(path)):
        dataset[0]


def test_corrupt_image_is_named(root):
    dataset = build(root)
    path = dataset.get_data_info(0)['img_path']
    with open(path, 'wb') as f:
        f.write(b'this is not a JPEG' * 10)
    with pytest.raises(ValueError, match=f'{osp.basename(path)}: not a readable image'):
        dataset[0]
    with pytest.raises(ValueError, match=f'{osp.basename(path)}: not a readable image'):
        CheckedLoadImageFromFile(imdecode_backend='pillow')(dict(img_path=path))


def test_empty_image_file_is_named_as_empty(tmp_path):
    path = str(tmp_path / 'empty.jpg')
    open(path, 'wb').close()
    with pytest.raises(ValueError, match=f'{path}: not a readable image \\(empty file\\)'):
        CheckedLoadImageFromFile()(dict(img_path=path))


def test_truncated_jpeg_is_named_not_decoded_grey(root):
    dataset = build(root)
    path = dataset.get_data_info(0)['img_path']
    with open(path, 'rb') as f:
        data = f.read()
    assert not jpeg_is_truncated(data)
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    # mmcv's loader decodes it without an error, its lower half grey
    assert LoadImageFromFile()(dict(img_path=path))['img'].shape[:2] == (96, 128)
    with pytest.raises(ValueError, match=f'{osp.basename(path)}: truncated JPEG'):
        CheckedLoadImageFromFile()(dict(img_path=path))
    with pytest.raises(ValueError, match='truncated JPEG'):
        dataset[0]


# ------------------------------------------------------------------ instances json
@pytest.mark.parametrize('section,field', [('images', 'file_name'), ('images', 'height'),
                                           ('annotations', 'bbox'),
                                           ('annotations', 'category_id'),
                                           ('annotations', 'segmentation'),
                                           ('categories', 'name')])
def test_missing_json_field_is_named(root, section, field):
    edit_json(instances_json(root), lambda d: d[section][0].pop(field))
    with pytest.raises(ValueError, match=rf'instances_train.json: .*\[\'{field}\'\]'):
        build(root)


def test_segmentation_is_required_only_when_the_pipeline_loads_masks(root):
    edit_json(instances_json(root), lambda d: d['annotations'][0].pop('segmentation'))
    boxes_only = build(root, pipeline=[dict(type='LoadAnnotations', with_bbox=True)])
    assert len(boxes_only) == 8


def test_category_id_outside_the_categories_is_named(root):
    def edit(data):
        data['annotations'][1]['category_id'] = 99
    edit_json(instances_json(root), edit)
    with open(instances_json(root)) as f:
        ann_id = json.load(f)['annotations'][1]['id']
    with pytest.raises(ValueError, match=rf'annotation {ann_id} .* category_id 99'):
        build(root)


def test_class_missing_from_the_categories_is_named(root):
    # MMDetection would number the two remaining classes 0, 1: every label would shift
    with pytest.raises(ValueError, match=r"classes \['circle'\] are not among"):
        build(root, metainfo=dict(classes=('circle', 'box', 'triangle')))


def test_class_name_that_lost_its_spaces_on_the_command_line_is_explained(root):
    def edit(data):
        data['categories'][1]['name'] = 'potted plant'  # the synthetic 'box'
    edit_json(instances_json(root), edit)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    option = parser.parse_args(['--cfg-options', "classes=('disk','potted plant','triangle')"])
    classes = option.cfg_options['classes']
    assert classes == ('disk', 'pottedplant', 'triangle')  # MMEngine removes the space
    with pytest.raises(ValueError, match=r"classes \['pottedplant'\] are not among .* "
                       r"'pottedplant' is 'potted plant' without its spaces: --cfg-options"):
        build(root, metainfo=dict(classes=classes))
    assert len(build(root, metainfo=dict(classes=('disk', 'potted plant', 'triangle')))) == 8


def test_polygon_with_odd_coordinates_is_named(root):
    def edit(data):
        ann = next(a for a in data['annotations'] if isinstance(a['segmentation'], list))
        ann['segmentation'][0] = ann['segmentation'][0][:-1]
    edit_json(instances_json(root), edit)
    with pytest.raises(ValueError, match='has a polygon of .* coordinates'):
        build(root)


def test_polygon_with_fewer_than_3_points_ignores_its_instance(root):
    # Legal but degenerate: MMDetection's LoadAnnotations drops such polygons and, with
    # none left, moves the instance to the ignored ones (not to a wrong box-shaped mask).
    def edit(data):
        ann = next(a for a in data['annotations']
                   if isinstance(a['segmentation'], list) and not a['iscrowd'])
        ann['segmentation'] = [[10, 10, 20, 20]]
        data['degenerate'] = [ann['image_id'], ann['bbox']]
    edit_json(instances_json(root), edit)
    with open(instances_json(root)) as f:
        img_id, bbox = json.load(f)['degenerate']
    dataset = build(root, filter_cfg=None)
    idx = next(i for i in range(len(dataset)) if dataset.get_data_info(i)['img_id'] == img_id)
    n = len([i for i in dataset.get_data_info(idx)['instances'] if not i['ignore_flag']])
    sample = dataset[idx]['data_samples']
    assert len(sample.gt_instances) == n - 1
    assert len(sample.ignored_instances) >= 1


def test_zero_area_and_out_of_image_boxes_are_dropped(root):
    def edit(data):
        anns = [a for a in data['annotations'] if a['image_id'] == data['images'][0]['id']]
        anns[0]['area'] = 0
        anns[1]['bbox'] = [500, 500, 10, 10]  # the images are 128 x 96
    before = len(build(root).get_data_info(0)['instances'])
    edit_json(instances_json(root), edit)
    assert len(build(root).get_data_info(0)['instances']) == before - 2


def test_images_without_annotations(root):
    def edit(data):
        first = data['images'][0]['id']
        data['annotations'] = [a for a in data['annotations'] if a['image_id'] != first]
    edit_json(instances_json(root), edit)
    edit_json(osp.join(root, 'annotations', 'instances_val.json'), edit)
    # training drops them by default (filter_empty_gt), keeps them when told to
    assert len(build(root)) == 7
    kept = build(root, filter_cfg=dict(filter_empty_gt=False))
    assert len(kept) == 8 and len(kept[0]['data_samples'].gt_instances) == 0
    # testing keeps every image; the sample has empty ground truth
    val = build(root, split='val')
    assert len(val) == 3 and len(val[0]['data_samples'].gt_instances) == 0


# ------------------------------------------------------------------ panoptic
def panoptic_json(root: str) -> str:
    return osp.join(root, 'annotations', 'panoptic_train.json')


def test_panoptic_png_segment_ids_not_in_the_json_are_named(root):
    def edit(data):
        data['annotations'][0]['segments_info'][0]['id'] = 123456
        data['first'] = data['annotations'][0]['file_name']
    edit_json(panoptic_json(root), edit)
    dataset = build(root, panoptic=True, filter_cfg=None)
    with pytest.raises(ValueError, match=r'\.png: segment ids do not match .* only in the '
                       r'json \[123456\]'):
        dataset[0]


@pytest.mark.parametrize('edit,match', [
    (lambda d: d['annotations'][0]['segments_info'][0].pop('category_id'),
     r"segment \d+ of image \d+ lacks the required field\(s\) \['category_id'\]"),
    (lambda d: d['annotations'][0]['segments_info'][0].update(category_id=77),
     r'segment \d+ of image \d+ has category_id 77'),
    (lambda d: d['annotations'][0].pop('segments_info'), r"\['segments_info'\]"),
    (lambda d: d['categories'][0].pop('isthing'), r"category 1 lacks .*\['isthing'\]"),
])
def test_bad_panoptic_json_is_named(root, edit, match):
    edit_json(panoptic_json(root), edit)
    with pytest.raises(ValueError, match='panoptic_train.json: .*' + match):
        build(root, panoptic=True)
