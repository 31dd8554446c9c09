"""Write the COCO instances json of Ultralytics' coco128-seg from its YOLO polygon labels.

coco128-seg (https://github.com/ultralytics/assets/releases/download/v0.0.0/coco128-seg.zip)
holds 128 COCO train2017 photos (``images/train2017/*.jpg``) and their object outlines as
YOLO text (``labels/train2017/*.txt``: a class index 0-79 and normalised x y pairs per
line). MMDetection reads COCO jsons, so this writes ``instances_coco128seg.json`` next to
them: the images with their COCO ids (the file names) and sizes, COCO's 80 categories with
their COCO ids, one polygon annotation per label line (pixel coordinates, 2 decimals; area
and box from the polygon), no crowd regions. The layout is the one
``configs/dr1mask/dr1mask_r50_fpn_coco128-seg.py`` and the learning benchmark read:

    python tools/dataset_converters/coco128_seg_to_coco.py data/coco128-seg
"""
import argparse
import json
import os
import os.path as osp
from typing import List, Optional

import numpy as np
from mmdet.datasets import CocoDataset
from PIL import Image

# COCO's category ids of its 80 classes, in YOLO's class-index order: 1-90 without the ids
# COCO left unused.
COCO_CATEGORY_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def polygon_annotation(values: List[float], width: int, height: int) -> dict:
    """Segmentation, area and box of one YOLO polygon (normalised x y pairs)."""
    xy = np.array(values, dtype=np.float64).reshape(-1, 2) * (width, height)
    x, y = xy[:, 0], xy[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))  # shoelace
    box = [x.min(), y.min(), x.max() - x.min(), y.max() - y.min()]
    return dict(segmentation=[[round(float(v), 2) for v in xy.ravel()]],
                area=round(float(area), 2), bbox=[round(float(v), 2) for v in box], iscrowd=0)


def convert(root: str, split: str = 'train2017') -> dict:
    """The COCO instances json (a dict) of ``root/images/<split>`` and ``root/labels/<split>``.

    Raises:
        FileNotFoundError: naming the images folder, when it is absent.
        ValueError: naming the label file and line, for a class index outside 0-79 or an
            odd number of coordinates.
    """
    image_dir, label_dir = osp.join(root, 'images', split), osp.join(root, 'labels', split)
    if not osp.isdir(image_dir):
        raise FileNotFoundError(f'{image_dir} is not a folder (the coco128-seg layout: '
                                'images/<split>/*.jpg, labels/<split>/*.txt)')
    images, annotations = [], []
    for name in sorted(f for f in os.listdir(image_dir) if f.endswith('.jpg')):
        with Image.open(osp.join(image_dir, name)) as image:  # reads the header only
            width, height = image.size
        image_id = int(osp.splitext(name)[0])
        images.append(dict(id=image_id, file_name=name, width=width, height=height))
        label_file = osp.join(label_dir, osp.splitext(name)[0] + '.txt')
        if not osp.isfile(label_file):  # a photo without objects
            continue
        with open(label_file) as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                cls, *values = line.split()
                if not 0 <= int(cls) < len(COCO_CATEGORY_IDS) or len(values) % 2:
                    raise ValueError(f'{label_file}:{line_no}: expected a class index 0-79 and '
                                     f'x y pairs, got class {cls} and {len(values)} values')
                annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                        category_id=COCO_CATEGORY_IDS[int(cls)],
                                        **polygon_annotation(list(map(float, values)), width,
                                                             height)))
    categories = [dict(id=i, name=name, supercategory='')
                  for i, name in zip(COCO_CATEGORY_IDS, CocoDataset.METAINFO['classes'])]
    return dict(images=images, annotations=annotations, categories=categories)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the unpacked coco128-seg folder')
    parser.add_argument('--split', default='train2017')
    parser.add_argument('--out', help='json path (default ROOT/instances_coco128seg.json)')
    args = parser.parse_args(argv)
    out = args.out or osp.join(args.root, 'instances_coco128seg.json')
    data = convert(args.root, args.split)
    with open(out, 'w') as f:
        json.dump(data, f)
    print(f'{out}: {len(data["images"])} images, {len(data["annotations"])} polygons')
    return out


if __name__ == '__main__':
    main()
