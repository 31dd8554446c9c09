"""DR1Mask and BlendMask detectors end to end on the synthetic dataset (tiny models, CPU)."""
import copy

import numpy as np
import pytest
import torch
from conftest import build_tiny_model, image_batch, run_model, tiny_model_config
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.dataset import pseudo_collate

import mmdet_dr1mask  # noqa: F401
from mmdet_dr1mask.support import retarget_data_root

register_all_modules()


@pytest.fixture(scope='module')
def train_batch(synthetic_root):
    cfg = retarget_data_root(tiny_model_config('DR1Mask'), synthetic_root)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)  # the pipeline's random flips
    return pseudo_collate([dataset[i] for i in range(4)])



KINDS = ['DR1Mask', 'BlendMask']


@pytest.mark.parametrize('kind', KINDS)
def test_all_losses_finite_and_positive_with_gt(kind, train_batch):
    losses = run_model(build_tiny_model(kind), train_batch, 'loss')
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_centerness', 'loss_mask',
                           'loss_semantic'}
    for name, value in losses.items():
        assert torch.isfinite(value) and value > 0, name


@pytest.mark.parametrize('kind', KINDS)
def test_box_and_mask_losses_are_zero_without_gt(kind, train_batch):
    batch = copy.deepcopy(train_batch)
    for sample in batch['data_samples']:
        sample.gt_instances = sample.gt_instances[:0]
    losses = run_model(build_tiny_model(kind), batch, 'loss')
    assert losses['loss_cls'] > 0 and losses['loss_semantic'] > 0
    for name in ('loss_bbox', 'loss_centerness', 'loss_mask'):
        assert losses[name] == 0, name
    sum(losses.values()).backward()


@pytest.mark.parametrize('kind', KINDS)
def test_a_few_sgd_steps_lower_the_loss(kind, train_batch):
    model = build_tiny_model(kind)
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    totals = []
    for _ in range(15):
        losses = run_model(model, train_batch, 'loss')
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        totals.append(total.item())
    assert sum(totals[-3:]) < 0.85 * sum(totals[:3]), totals


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('size,scale', [((64, 80), 1.0), ((97, 131), 1.0), ((32, 32), 2.0),
                                        ((64, 400), 0.5)])
def test_predict_gives_full_size_boolean_masks_at_any_size(kind, size, scale):
    model = build_tiny_model(kind).eval()
    model.bbox_head.test_cfg.score_thr = 0.0  # untrained: keep some detections
    with torch.no_grad():
        pred = run_model(model, image_batch(*size, scale), 'predict')[0].pred_instances
    assert len(pred) > 0
    assert pred.masks.shape == (len(pred), *size) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (len(pred), 4) and 'embeddings' not in pred
    assert (pred.bboxes[:, 2] <= size[1] + 1e-3).all()
    assert (pred.bboxes[:, 3] <= size[0] + 1e-3).all()


@pytest.mark.parametrize('kind', KINDS)
def test_zero_detections_give_empty_results_of_the_right_types(kind):
    model = build_tiny_model(kind).eval()
    model.bbox_head.test_cfg.score_thr = 1.1
    with torch.no_grad():
        pred = run_model(model, image_batch(48, 64), 'predict')[0].pred_instances
    assert len(pred) == 0
    assert pred.masks.shape == (0, 48, 64) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (0, 4) and pred.scores.shape == (0,)
    assert pred.labels.dtype == torch.long


@pytest.mark.parametrize('kind', KINDS)
def test_tensor_mode_needs_no_ground_truth(kind):
    model = build_tiny_model(kind).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96), mode='tensor')
    cls_scores, bbox_preds, centernesses, contexts, embeddings, bases = outs
    assert len(cls_scores) == 5 and bases.shape[-2:] == (16, 24)


def test_head_channels_are_filled_in_and_checked():
    model = build_tiny_model('DR1Mask')
    assert model.bbox_head.context_channels == 2 * model.basis_head.channels
    assert model.bbox_head.embedding_channels == model.mask_head.embedding_channels
    cfg = tiny_model_config('DR1Mask').model
    cfg.bbox_head.embedding_channels = 7
    with pytest.raises(ValueError, match=r'bbox_head\.embedding_channels=7'):
        MODELS.build(cfg)


@pytest.mark.parametrize('kind', KINDS)
def test_basis_width_is_stated_once_and_reaches_every_reader(kind):
    """D is ``basis_head``'s; changing it there changes the blender and the semantic head."""
    cfg = tiny_model_config(kind).model
    if kind == 'DR1Mask':
        cfg.basis_head.channels = 12
    else:
        cfg.basis_head.num_bases = 3
        cfg.mask_head.attention.num_bases = 3
    model = MODELS.build(cfg)
    d = 12 if kind == 'DR1Mask' else 3
    assert model.basis_head.out_channels == model.mask_head.basis_channels == d
    if kind == 'DR1Mask':
        assert model.semantic_head.conv_seg.in_channels == d
        assert model.bbox_head.context_channels == 2 * d


@pytest.mark.parametrize('key,field', [
    ('mask_head', 'basis_channels'),
    ('semantic_head', 'in_channels'),
])
def test_a_copy_of_the_basis_width_that_disagrees_is_named(key, field):
    cfg = tiny_model_config('DR1Mask').model
    cfg[key][field] = 5
    with pytest.raises(ValueError, match=fr'{key}\.{field}=5 does not match'):
        MODELS.build(cfg)
