"""K-Net (tiny configs) on the synthetic data: losses, a few steps of training, prediction
at several sizes, instance and panoptic outputs in MMDetection's formats."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, build_tiny_model, image_batch, run_model, tiny_model_config
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmdet_dr1mask  # noqa: F401
from mmdet_dr1mask.support import SyntheticConfig, generate_split

NAMES = {'instance': 'KNet', 'panoptic': 'KNet-panoptic'}  # conftest.TINY_MODEL_CONFIGS
NUM_THINGS, NUM_STUFF = 3, 4
register_all_modules()


def build(task):
    return build_tiny_model(NAMES[task])


@pytest.fixture(scope='module', params=['instance', 'panoptic'])
def task_batch(request, synthetic_root):
    cfg = tiny_model_config(NAMES[request.param])
    cfg.train_dataloader.dataset.data_root = synthetic_root + '/'
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    return request.param, pseudo_collate([dataset[i] for i in range(2)])


def test_losses_positive_and_falling_on_synthetic_data(task_batch):
    task, batch = task_batch
    model = build(task)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    totals = []
    for step in range(8):
        losses = run_model(model, batch, 'loss')
        if step == 0:
            expected = {'init.loss_mask', 'init.loss_dice', 'init.loss_seg'} | {
                f's{s}.loss_{k}' for s in range(3) for k in ('cls', 'mask', 'dice')}
            if task == 'panoptic':
                expected |= {'init.loss_rank'} | {f's{s}.loss_rank' for s in range(3)}
            assert set(losses) == expected
            for name, value in losses.items():
                assert torch.isfinite(value) and value > 0, name
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        totals.append(total.item())
    assert sum(totals[-2:]) < 0.9 * sum(totals[:2]), totals


@pytest.mark.parametrize('task', ['instance', 'panoptic'])
@pytest.mark.parametrize('size,scale', [((64, 96), 1.0), ((97, 131), 1.0), ((32, 48), 2.0)])
def test_predict_at_any_size(task, size, scale):
    model = build(task).eval()
    with torch.no_grad():
        sample = run_model(model, image_batch(*size, scale), 'predict')[0]
    pred = sample.pred_instances
    assert len(pred) == 20  # max_per_img, no score threshold (official)
    assert pred.masks.shape == (20, *size) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (20, 4) and (pred.labels < NUM_THINGS).all()
    assert (pred.scores[:-1] >= pred.scores[1:]).all()
    if task == 'panoptic':
        pan = sample.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, *size)
        labels = pan % INSTANCE_OFFSET
        assert ((labels >= 0) & (labels <= NUM_THINGS + NUM_STUFF)).all()
        assert ((pan >= INSTANCE_OFFSET) == (labels < NUM_THINGS)).all()  # things carry ids
    else:
        assert 'pred_panoptic_seg' not in sample


@pytest.mark.parametrize('task', ['instance', 'panoptic'])
def test_no_detections_give_empty_results(task):
    model = build(task).eval()
    model.iter_head.score_thr = model.iter_head.instance_score_thr = 1.1
    with torch.no_grad():
        sample = run_model(model, image_batch(64, 96), 'predict')[0]
    pred = sample.pred_instances
    assert len(pred) == 0 and pred.masks.shape == (0, 64, 96) and pred.bboxes.shape == (0, 4)
    assert pred.masks.dtype == torch.bool and pred.bboxes.dtype == torch.float32
    assert pred.scores.shape == (0,) and pred.labels.dtype == torch.long
    if task == 'panoptic':
        assert (sample.pred_panoptic_seg.sem_seg < INSTANCE_OFFSET).all()  # stuff or void


ODD_SIZES = [(32, 32), (64, 2000)]


@pytest.mark.parametrize('task', ['instance', 'panoptic'])
def test_train_step_on_tiny_elongated_and_unannotated_images(task, tmp_path):
    """One batch: a 32x32 and a 64x2000 image at their own size, and the 32x32 one
    without annotations; all losses finite, gradients finite."""
    root = str(tmp_path) + '/'
    for split, size in zip(('small', 'long'), ODD_SIZES):
        generate_split(root, split, 1, seed=1,
                       cfg=SyntheticConfig(img_size=size, min_things=1, max_things=3))
    dataset_cfg = tiny_model_config(NAMES[task]).train_dataloader.dataset
    dataset_cfg.pipeline = [t for t in dataset_cfg.pipeline
                            if t.type not in ('Resize', 'RandomFlip')]
    samples = []
    for split in ('small', 'long'):
        kind = 'panoptic' if task == 'panoptic' else 'instances'
        prefix = dict(img=f'{split}/', seg=f'annotations/panoptic_{split}/')
        if task == 'instance':
            prefix.pop('seg')
        samples.append(DATASETS.build(dict(
            dataset_cfg, data_root=root, ann_file=f'annotations/{kind}_{split}.json',
            data_prefix=prefix, filter_cfg=None))[0])
    empty = copy.deepcopy(samples[0])
    empty['data_samples'].gt_instances = empty['data_samples'].gt_instances[:0]
    model = build(task)
    losses = run_model(model, pseudo_collate(samples + [empty]), 'loss')
    assert all(torch.isfinite(v) for v in losses.values()), losses
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize('task', ['instance', 'panoptic'])
@pytest.mark.parametrize('size', ODD_SIZES)
def test_predict_on_tiny_and_elongated_images(task, size):
    model = build(task).eval()
    with torch.no_grad():
        sample = run_model(model, image_batch(*size), 'predict')[0]
    pred = sample.pred_instances
    assert pred.masks.shape == (20, *size)
    assert (pred.bboxes[:, 2] <= size[1]).all() and (pred.bboxes[:, 3] <= size[0]).all()
    if task == 'panoptic':
        assert sample.pred_panoptic_seg.sem_seg.shape == (1, *size)


def test_predict_without_rescale_is_at_img_shape():
    model = build('instance').eval()
    data = model.data_preprocessor(image_batch(40, 60, 1.5), False)
    with torch.no_grad():
        sample = model.predict(data['inputs'], data['data_samples'], rescale=False)[0]
    assert sample.pred_instances.masks.shape[-2:] == (60, 90)


def test_benchmark_same_detections_reaches_the_knet_thresholds():
    """``benchmark.py --same-detections``: no score threshold, 100 instances, panoptic
    things at any score (stuff stays unfiltered, as in the official merge)."""
    from conftest import load_tool
    bench = load_tool('analysis_tools/benchmark.py')
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'knet',
                                   'knet-s3_r50_fpn_1x_coco-panoptic.py'))
    bench.force_detections(cfg.model)
    head = cfg.model.iter_head
    assert (head.score_thr, head.instance_score_thr, head.max_per_img) == (0, 0, 100)
    assert (head.stuff_score_thr, head.stuff_max_area) == (None, None)
