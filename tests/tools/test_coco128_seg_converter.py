"""tools/dataset_converters/coco128_seg_to_coco.py: coco128-seg's YOLO polygons become the
COCO instances json that the coco128-seg config and the learning benchmark read."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from conftest import COCO128_SEG, load_tool
from PIL import Image

tool = load_tool('dataset_converters/coco128_seg_to_coco.py')
SHARED_JSON = osp.join(COCO128_SEG, 'instances_coco128seg.json')


def yolo_folder(root, labels: dict) -> str:
    """images/train2017/<id>.jpg (40x20) and labels/train2017/<id>.txt for ``labels``
    ({image id: label text or None for no file})."""
    for sub in ('images', 'labels'):
        os.makedirs(root / sub / 'train2017')
    for image_id, text in labels.items():
        Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(
            root / 'images' / 'train2017' / f'{image_id:012d}.jpg')
        if text is not None:
            (root / 'labels' / 'train2017' / f'{image_id:012d}.txt').write_text(text)
    return str(root)


def test_polygons_get_pixel_coordinates_coco_ids_area_and_box(tmp_path):
    square = '0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75'
    root = yolo_folder(tmp_path, {7: f'0 {square}\n79 {square}\n11 {square}\n', 3: None})
    out = tool.main([root])
    with open(out) as f:
        data = json.load(f)
    assert out == osp.join(root, 'instances_coco128seg.json')
    assert data['images'] == [dict(id=3, file_name='000000000003.jpg', width=40, height=20),
                              dict(id=7, file_name='000000000007.jpg', width=40, height=20)]
    first = data['annotations'][0]
    assert first == dict(id=1, image_id=7, category_id=1, iscrowd=0, area=200.0,
                         bbox=[10.0, 5.0, 20.0, 10.0],
                         segmentation=[[10.0, 5.0, 30.0, 5.0, 30.0, 15.0, 10.0, 15.0]])
    # YOLO's class index -> COCO's category id (COCO skips some ids)
    assert [a['category_id'] for a in data['annotations']] == [1, 90, 13]
    names = {c['id']: c['name'] for c in data['categories']}
    assert len(names) == 80 and (names[1], names[13], names[90]) == (
        'person', 'stop sign', 'toothbrush')


def test_bad_label_line_is_named(tmp_path):
    root = yolo_folder(tmp_path, {1: '0 0.1 0.1 0.2 0.2 0.3\n'})
    with pytest.raises(ValueError, match=r'000000000001\.txt:1: .*5 values'):
        tool.convert(root)


@pytest.mark.skipif(not osp.isfile(SHARED_JSON), reason=f'coco128-seg absent ({SHARED_JSON})')
def test_converting_coco128_seg_gives_the_json_the_benchmarks_used(tmp_path):
    out = tool.main([COCO128_SEG, '--out', str(tmp_path / 'instances.json')])
    with open(out) as f, open(SHARED_JSON) as g:
        assert json.load(f) == json.load(g)
