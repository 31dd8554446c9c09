"""CheckedCocoMetric and CheckedCocoPanopticMetric on the edge cases: each gives the right
numbers or an error naming the image, id or classes, never a failure inside pycocotools or
panopticapi.

The predictions are the ground truth itself, changed where a case needs it, so that the
right numbers follow from counting segments and objects.
"""
import os.path as osp
from collections import Counter

import pytest
import torch
from conftest import synthetic_panoptic_val
from mmdet.datasets import CocoDataset
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.utils import register_all_modules
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData, PixelData

from mmdet_dr1mask.support import SYNTHETIC_INSTANCE_METAINFO, SYNTHETIC_PANOPTIC_METAINFO

register_all_modules()
NUM_THINGS = 3
NUM_CLASSES = len(SYNTHETIC_PANOPTIC_METAINFO['classes'])  # VOID is this label
META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')


# ------------------------------------------------------------------ panoptic
@pytest.fixture(scope='module')
def panoptic_samples(synthetic_root):
    dataset = synthetic_panoptic_val(synthetic_root, ('seg_map_path', ))
    return [dataset[i]['data_samples'] for i in range(len(dataset))]


def ground_truth_map(sample) -> torch.Tensor:
    """The ground truth as a panoptic prediction: stuff labels, things label + k * OFFSET."""
    sem = sample.gt_sem_seg.sem_seg[0].long()
    pan = sem.clone()
    masks = sample.gt_instances.masks.to_tensor(torch.bool, 'cpu')
    for k, (mask, label) in enumerate(zip(masks, sample.gt_instances.labels), 1):
        pan[mask] = label + k * INSTANCE_OFFSET
    pan[sem == 255] = NUM_CLASSES
    return pan


def panoptic_evaluator(root: str, metric: str = 'CheckedCocoPanopticMetric') -> Evaluator:
    evaluator = Evaluator(dict(
        type=metric, ann_file=osp.join(root, 'annotations', 'panoptic_val.json'),
        seg_prefix=osp.join(root, 'annotations', 'panoptic_val')))
    evaluator.dataset_meta = SYNTHETIC_PANOPTIC_METAINFO
    return evaluator


def evaluate_panoptic(root: str, samples, change=lambda i, pan: pan) -> dict:
    evaluator = panoptic_evaluator(root)
    for i, sample in enumerate(samples):
        sample = sample.clone()
        sample.pred_panoptic_seg = PixelData(sem_seg=change(i, ground_truth_map(sample))[None])
        evaluator.process([sample])
    return evaluator.evaluate(len(samples))


def segment_counts(samples) -> Counter:
    """{label: segments} of the ground truth, crowd regions left out (PQ ignores them)."""
    counts: Counter = Counter()
    for sample in samples:
        counts.update(int(label) for label in sample.gt_instances.labels)
        stuff = torch.unique(sample.gt_sem_seg.sem_seg)
        counts.update(int(s) for s in stuff if NUM_THINGS <= s < NUM_CLASSES)
    return counts


def expected_pq(found: Counter, total: Counter) -> dict:
    """PQ when every found segment matches exactly (IoU 1) and the rest are missed:
    per class SQ = 1, RQ = TP / (TP + FN / 2); classes without a segment are left out."""
    pq = {c: 100 * found[c] / (found[c] + (total[c] - found[c]) / 2) for c in total}

    def mean(classes):
        values = [pq[c] for c in classes if c in pq]
        return sum(values) / len(values)
    return {'coco_panoptic/PQ': mean(range(NUM_CLASSES)),
            'coco_panoptic/PQ_th': mean(range(NUM_THINGS)),
            'coco_panoptic/PQ_st': mean(range(NUM_THINGS, NUM_CLASSES))}


def assert_pq(metrics: dict, expected: dict) -> None:
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-3), key


def test_ground_truth_as_prediction_is_pq_100(synthetic_root, panoptic_samples):
    metrics = evaluate_panoptic(synthetic_root, panoptic_samples)
    assert_pq(metrics, expected_pq(segment_counts(panoptic_samples),
                                   segment_counts(panoptic_samples)))
    assert metrics['coco_panoptic/PQ'] == 100.0


def test_an_image_without_any_predicted_segment_counts_its_segments_as_missed(
        synthetic_root, panoptic_samples):
    metrics = evaluate_panoptic(
        synthetic_root, panoptic_samples,
        lambda i, pan: torch.full_like(pan, NUM_CLASSES) if i == 0 else pan)
    assert_pq(metrics, expected_pq(segment_counts(panoptic_samples[1:]),
                                   segment_counts(panoptic_samples)))
    assert metrics['coco_panoptic/PQ'] < 100


def test_classes_no_prediction_contains_score_zero(synthetic_root, panoptic_samples):
    def no_stuff(i, pan):
        pan = pan.clone()
        pan[(pan < INSTANCE_OFFSET) & (pan >= NUM_THINGS)] = NUM_CLASSES
        return pan
    metrics = evaluate_panoptic(synthetic_root, panoptic_samples, no_stuff)
    found = Counter({c: n for c, n in segment_counts(panoptic_samples).items()
                     if c < NUM_THINGS})
    assert_pq(metrics, expected_pq(found, segment_counts(panoptic_samples)))
    assert metrics['coco_panoptic/PQ_th'] == 100.0 and metrics['coco_panoptic/PQ_st'] == 0.0


def test_a_prediction_for_an_image_id_the_ground_truth_lacks_is_named(synthetic_root,
                                                                      panoptic_samples):
    """MMDetection's metric counts its segments as false positives, silently."""
    sample = panoptic_samples[0].clone()
    sample.set_metainfo(dict(img_id=999))
    sample.pred_panoptic_seg = PixelData(sem_seg=ground_truth_map(sample)[None])
    with pytest.raises(ValueError, match=r'000000000001.jpg: a prediction for image id 999, '
                       r'which .*panoptic_val.json does not have'):
        panoptic_evaluator(synthetic_root).process([sample])


def test_a_label_outside_the_classes_is_named(synthetic_root, panoptic_samples):
    """MMDetection's metric fails with a KeyError inside its label-to-category map."""
    sample = panoptic_samples[0].clone()
    pan = ground_truth_map(sample)
    pan[:4, :4] = NUM_CLASSES + 1
    sample.pred_panoptic_seg = PixelData(sem_seg=pan[None])
    with pytest.raises(KeyError):
        panoptic_evaluator(synthetic_root, 'CocoPanopticMetric').process([sample])
    with pytest.raises(ValueError, match=rf'000000000001.jpg: the panoptic prediction has '
                       rf'labels \[{NUM_CLASSES + 1}\], neither one of the {NUM_CLASSES}'):
        panoptic_evaluator(synthetic_root).process([sample])


def test_classes_that_are_not_categories_of_the_annotation_file_are_named(
        synthetic_root, panoptic_samples):
    evaluator = panoptic_evaluator(synthetic_root)
    evaluator.dataset_meta = dict(SYNTHETIC_PANOPTIC_METAINFO, classes=(
        *SYNTHETIC_PANOPTIC_METAINFO['classes'][:-1], 'lava'))
    sample = panoptic_samples[0].clone()
    sample.pred_panoptic_seg = PixelData(sem_seg=ground_truth_map(sample)[None])
    with pytest.raises(ValueError, match=r"classes \['lava'\] are not categories of "):
        evaluator.process([sample])


# ------------------------------------------------------------------ instances
@pytest.fixture(scope='module')
def instance_samples(synthetic_root):
    dataset = CocoDataset(
        data_root=synthetic_root, ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'), metainfo=SYNTHETIC_INSTANCE_METAINFO, test_mode=True,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                  # the raw annotations too: a metric without ann_file evaluates on them
                  dict(type='PackDetInputs', meta_keys=META_KEYS + ('instances', ))])
    return [dataset[i]['data_samples'] for i in range(len(dataset))]


def instance_evaluator(root: str, ann_file: bool = True) -> Evaluator:
    evaluator = Evaluator(dict(
        type='CheckedCocoMetric', metric=['bbox', 'segm'],
        ann_file=osp.join(root, 'annotations', 'instances_val.json') if ann_file else None))
    evaluator.dataset_meta = SYNTHETIC_INSTANCE_METAINFO
    return evaluator


def with_predictions(sample, keep: slice):
    sample = sample.clone()
    gt = sample.gt_instances
    sample.pred_instances = InstanceData(
        bboxes=gt.bboxes.tensor.clone(), labels=gt.labels.clone(), scores=torch.ones(len(gt)),
        masks=gt.masks.to_tensor(torch.bool, 'cpu'))[keep]
    return sample


@pytest.mark.parametrize('ann_file', [True, False], ids=['ann_file', 'gt_from_dataset'])
def test_no_detection_on_any_image_is_ap_0(synthetic_root, instance_samples, ann_file):
    """MMDetection's metric logs an error and returns no metric (pycocotools' loadRes
    fails on an empty list)."""
    evaluator = instance_evaluator(synthetic_root, ann_file)
    for sample in instance_samples:
        evaluator.process([with_predictions(sample, slice(0, 0))])
    metrics = evaluator.evaluate(len(instance_samples))
    for task in ('bbox', 'segm'):
        assert metrics[f'coco/{task}_mAP'] == 0.0
        assert metrics[f'coco/{task}_mAP_50'] == 0.0


def test_ground_truth_as_detections_is_ap_1(synthetic_root, instance_samples):
    evaluator = instance_evaluator(synthetic_root)
    for sample in instance_samples:
        evaluator.process([with_predictions(sample, slice(None))])
    metrics = evaluator.evaluate(len(instance_samples))
    assert metrics['coco/bbox_mAP'] == 1.0 and metrics['coco/segm_mAP'] == 1.0


def test_detections_for_an_image_id_the_ground_truth_lacks_are_named(synthetic_root,
                                                                     instance_samples):
    """pycocotools fails with 'AssertionError: Results do not correspond to current coco
    set'."""
    evaluator = instance_evaluator(synthetic_root)
    for i, sample in enumerate(instance_samples):
        sample = with_predictions(sample, slice(None))
        if i == 0:
            sample.set_metainfo(dict(img_id=999))
        evaluator.process([sample])
    with pytest.raises(ValueError, match=r'1 image id\(s\) of the predictions are not in '
                       r'.*instances_val.json: \[999\]'):
        evaluator.evaluate(len(instance_samples))
