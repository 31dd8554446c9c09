"""Edge cases of DR1Mask and BlendMask, instance and panoptic (tiny models, random weights):
tiny (32x32) and very elongated (64x2000) images in training and inference, one batch
mixing them with an image without annotations, and 0 or 1,000 detections in one image."""
import copy

import numpy as np
import pytest
import torch
from conftest import build_tiny_model, image_batch, run_model, set_score_thr, tiny_model_config
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import DATASETS
from mmengine.dataset import pseudo_collate

from mmdet_dr1mask.support import SyntheticConfig, generate_split

SIZES = [(32, 32), (64, 2000)]
# DR1Mask and BlendMask, instance and panoptic (conftest.TINY_MODEL_CONFIGS)
MODELS = ['DR1Mask', 'BlendMask', 'DR1Mask-panoptic', 'BlendMask-panoptic']
NUM_LABELS = 3 + 4  # the synthetic data's thing and stuff classes


@pytest.fixture(scope='module')
def odd_size_root(tmp_path_factory) -> str:
    """One 32x32 and one 64x2000 synthetic image (instances + panoptic)."""
    root = str(tmp_path_factory.mktemp('odd_sizes'))
    for split, size in zip(('small', 'long'), SIZES):
        generate_split(root, split, 1, seed=1, cfg=SyntheticConfig(img_size=size, min_things=1,
                                                                   max_things=3))
    return root + '/'


def odd_size_batch(name: str, root: str) -> dict:
    """The 32x32 and 64x2000 images at their own size (no Resize), plus the 32x32 one
    again without annotations, collated into one batch."""
    data_name = 'DR1Mask-panoptic' if name.endswith('panoptic') else 'DR1Mask'
    dataset_cfg = copy.deepcopy(tiny_model_config(data_name).train_dataloader.dataset)
    dataset_cfg.pipeline = [t for t in dataset_cfg.pipeline
                            if t.type not in ('Resize', 'RandomFlip')]
    panoptic_data = 'Panoptic' in dataset_cfg.type
    samples = []
    for split in ('small', 'long'):
        ann = f'annotations/{"panoptic" if panoptic_data else "instances"}_{split}.json'
        prefix = dict(img=f'{split}/', seg=f'annotations/panoptic_{split}/')
        dataset = DATASETS.build(dict(dataset_cfg, data_root=root, ann_file=ann,
                                      data_prefix=prefix if panoptic_data else dict(img=prefix[
                                          'img']), filter_cfg=None))
        samples.append(dataset[0])
    empty = copy.deepcopy(samples[0])
    empty['data_samples'].gt_instances = empty['data_samples'].gt_instances[:0]
    samples.append(empty)
    assert [tuple(s['inputs'].shape[1:]) for s in samples] == [*SIZES, SIZES[0]]
    assert all(len(s['data_samples'].gt_instances) for s in samples[:2])
    return pseudo_collate(samples)


@pytest.mark.parametrize('name', MODELS)
def test_training_step_on_tiny_elongated_and_unannotated_images(name, odd_size_root):
    model = build_tiny_model(name)
    losses = run_model(model, odd_size_batch(name, odd_size_root), 'loss')
    total = sum(losses.values())
    assert torch.isfinite(total) and total > 0, losses
    total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('size', SIZES)
def test_predict_on_tiny_and_elongated_images(name, size):
    model = build_tiny_model(name).eval()
    set_score_thr(model, 0.0)  # untrained: keep some detections
    with torch.no_grad():
        sample = run_model(model, image_batch(*size), 'predict')[0]
    pred = sample.pred_instances
    assert len(pred) > 0
    assert pred.masks.shape == (len(pred), *size) and pred.masks.dtype == torch.bool
    assert (pred.bboxes[:, 2] <= size[1] + 1e-3).all()
    assert (pred.bboxes[:, 3] <= size[0] + 1e-3).all()
    if name.endswith('panoptic'):
        pan = sample.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, *size)
        assert ((pan % INSTANCE_OFFSET) <= NUM_LABELS).all()


def keep_everything(model, n: int) -> None:
    """Score threshold 0, no suppression, at most ``n`` detections."""
    test_cfg = model.bbox_head.test_cfg
    test_cfg.update(score_thr=0.0, nms_pre=n, max_per_img=n,
                    nms=dict(type='nms', iou_threshold=1.0))


@pytest.mark.parametrize('name', ['DR1Mask', 'DR1Mask-panoptic'])
def test_one_thousand_detections_in_one_image(name):
    model = build_tiny_model(name).eval()
    set_score_thr(model, 0.0)
    keep_everything(model, 1000)
    size = (256, 320)  # 1,680 FCOS locations over the five levels
    with torch.no_grad():
        sample = run_model(model, image_batch(*size), 'predict')[0]
    pred = sample.pred_instances
    assert len(pred) == 1000
    assert pred.masks.shape == (1000, *size) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (1000, 4) and pred.labels.dtype == torch.long
    assert (pred.scores[:-1] >= pred.scores[1:]).all()  # sorted by score
    if name.endswith('panoptic'):
        pan = sample.pred_panoptic_seg.sem_seg[0]
        instance_ids = np.unique(pan[pan >= INSTANCE_OFFSET].numpy() // INSTANCE_OFFSET)
        assert 0 < len(instance_ids) <= 1000


@pytest.mark.parametrize('name', MODELS)
def test_zero_detections_give_empty_results(name):
    model = build_tiny_model(name).eval()
    set_score_thr(model, 1.1)  # above any score
    size = (48, 64)
    with torch.no_grad():
        sample = run_model(model, image_batch(*size), 'predict')[0]
    pred = sample.pred_instances
    assert len(pred) == 0
    assert pred.masks.shape == (0, *size) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (0, 4) and pred.bboxes.dtype == torch.float32
    assert pred.scores.shape == (0,) and pred.labels.dtype == torch.long
    if name.endswith('panoptic'):
        assert (sample.pred_panoptic_seg.sem_seg < INSTANCE_OFFSET).all()  # stuff/void only

