"""The detection score is sqrt(cls * ctr) (AdelaiDet) instead of cls * ctr (MMDetection's
FCOS): a monotone change, so COCO box and mask AP are the same on either scale; only
thresholds on the score (panoptic fusion, thing selection) change meaning."""
import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmdet.evaluation import CocoMetric


def class_names(ann_file: str) -> tuple:
    with open(ann_file) as f:
        return tuple(c['name'] for c in json.load(f)['categories'])


def predictions(ann_file: str, seed: int = 0) -> list:
    """Per image: every GT object with a jittered box and mask, plus one false positive,
    at random scores."""
    rng = np.random.default_rng(seed)
    with open(ann_file) as f:
        coco = json.load(f)
    label_of = {c['id']: i for i, c in enumerate(coco['categories'])}
    by_image = {img['id']: (img, []) for img in coco['images']}
    for ann in coco['annotations']:
        by_image[ann['image_id']][1].append(ann)
    samples = []
    for img_id, (img, anns) in sorted(by_image.items()):
        h, w = img['height'], img['width']
        boxes, masks, labels = [], [], []
        for ann in anns + anns[:1]:  # the repeated first object is a duplicate: a false positive
            x, y, bw, bh = ann['bbox']
            boxes.append([x, y, x + bw, y + bh] + rng.normal(0, 2, 4))
            seg = ann['segmentation']
            if isinstance(seg, list) or isinstance(seg['counts'], list):  # polygons, raw RLE
                seg = mask_utils.frPyObjects(seg, h, w)
            mask = mask_utils.decode(mask_utils.merge(seg) if isinstance(seg, list) else seg)
            masks.append(np.roll(mask, int(rng.integers(-2, 3)), axis=1))
            labels.append(label_of[ann['category_id']])
        samples.append(dict(img_id=img_id, ori_shape=(h, w), pred_instances=dict(
            bboxes=torch.tensor(np.array(boxes), dtype=torch.float32).reshape(-1, 4),
            scores=torch.tensor(rng.uniform(0.05, 1.0, len(boxes)), dtype=torch.float32),
            labels=torch.tensor(labels, dtype=torch.long),
            masks=torch.tensor(np.array(masks), dtype=torch.bool).reshape(-1, h, w))))
    return samples


def evaluate(ann_file: str, samples: list, square: bool) -> dict:
    metric = CocoMetric(ann_file=ann_file, metric=['bbox', 'segm'])
    metric.dataset_meta = dict(classes=class_names(ann_file))
    for sample in samples:
        pred = dict(sample['pred_instances'])
        pred['scores'] = pred['scores'] ** 2 if square else pred['scores']
        metric.process({}, [dict(sample, pred_instances=pred)])
    return metric.evaluate(len(samples))


def test_box_and_mask_ap_are_the_same_on_both_score_scales(synthetic_root):
    ann_file = osp.join(synthetic_root, 'annotations', 'instances_train.json')
    samples = predictions(ann_file)
    sqrt_scale = evaluate(ann_file, samples, square=False)  # sqrt(cls * ctr), as here
    product_scale = evaluate(ann_file, samples, square=True)  # cls * ctr, MMDetection's FCOS
    assert sqrt_scale == product_scale
    assert 0 < sqrt_scale['coco/segm_mAP'] < 1 and 0 < sqrt_scale['coco/bbox_mAP'] < 1
