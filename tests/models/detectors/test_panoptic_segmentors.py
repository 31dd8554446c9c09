"""Panoptic DR1Mask (one extra layer) and two-branch BlendMask on synthetic panoptic data."""
import copy

import numpy as np
import pytest
import torch
from conftest import build_tiny_model, image_batch, run_model, set_score_thr, tiny_model_config
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.dataset import pseudo_collate

import mmdet_dr1mask  # noqa: F401

KINDS = ['DR1Mask', 'BlendMask']
NUM_THINGS, NUM_STUFF = 3, 4
register_all_modules()


def tiny_cfg(kind):
    """The tiny panoptic config of ``kind``; 'DR1Mask-boxes' with ``things_in_boxes``."""
    cfg = tiny_model_config(kind.split('-')[0] + '-panoptic')
    if kind == 'DR1Mask-boxes':
        cfg.model.panoptic_head.things_in_boxes = True
    return cfg


def build(kind):
    return build_tiny_model(tiny_cfg(kind).model)


@pytest.fixture(scope='module')
def train_batch(synthetic_root):
    cfg = tiny_cfg('DR1Mask')
    cfg.train_dataloader.dataset.data_root = synthetic_root + '/'
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    return pseudo_collate([dataset[i] for i in range(4)])



@pytest.mark.parametrize('kind', KINDS)
def test_losses_finite_and_falling_on_synthetic_panoptic_data(kind, train_batch):
    model = build(kind)
    losses = run_model(model, train_batch, 'loss')
    pan_key = 'loss_panoptic' if kind == 'DR1Mask' else 'loss_seg'
    assert pan_key in losses
    for name, value in losses.items():
        assert torch.isfinite(value) and value > 0, name
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    totals, pan = [], []
    for _ in range(20):
        losses = run_model(model, train_batch, 'loss')
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        totals.append(total.item())
        pan.append(losses[pan_key].item())
    assert sum(totals[-3:]) < 0.85 * sum(totals[:3]), totals
    assert pan[-1] < pan[0], pan


def test_dr1mask_panoptic_adds_exactly_one_layer_to_the_instance_model():
    model = build('DR1Mask')
    head_params = {n for n, _ in model.panoptic_head.named_parameters()}
    assert head_params == {'conv_stuff.weight'}  # W_stuff: D x C_stuff; W_thing is dynamic
    assert model.panoptic_head.conv_stuff.weight.shape == (NUM_STUFF, 8, 1, 1)


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('size,scale', [((64, 80), 1.0), ((97, 131), 1.0), ((32, 32), 2.0),
                                        ((64, 400), 0.5)])
@pytest.mark.parametrize('score_thr', [0.0, 1.1])  # many detections / none
def test_predict_panoptic_and_instances_at_any_size(kind, size, scale, score_thr):
    model = build(kind).eval()
    set_score_thr(model, score_thr)
    with torch.no_grad():
        sample = run_model(model, image_batch(*size, scale), 'predict')[0]
    pan = sample.pred_panoptic_seg.sem_seg
    assert pan.shape == (1, *size)
    labels = pan % INSTANCE_OFFSET
    assert ((labels >= 0) & (labels <= NUM_THINGS + NUM_STUFF)).all()
    pred = sample.pred_instances
    assert pred.masks.shape == (len(pred), *size) and pred.masks.dtype == torch.bool
    if score_thr > 1:
        assert len(pred) == 0
        assert (pan < INSTANCE_OFFSET).all()  # stuff (or void) only
    else:
        assert len(pred) > 0


@pytest.mark.parametrize('size,scale', [((97, 131), 1.0), ((64, 400), 0.5)])
def test_things_confined_to_boxes_stay_inside_their_detected_boxes(size, scale):
    model = build('DR1Mask-boxes').eval()
    set_score_thr(model, 0.0)
    batch = image_batch(*size, scale)
    with torch.no_grad():
        top = run_model(model, batch, 'predict')[0].pred_instances
        # only the best detection becomes a thing: its pixels must lie in its box,
        # up to the one basis cell (4 input pixels) by which the box is grown
        model.panoptic_head.score_thr = float(top.scores.max())
        # and its logits beat the stuff logits at every basis pixel of its box (the
        # head's output is already confined: keep the large negative values outside)
        head = model.panoptic_head
        head.register_forward_hook(lambda mod, args, out: torch.cat([
            out[:NUM_STUFF] - 1,
            torch.where(out[NUM_STUFF:] < -1e30, out[NUM_STUFF:], out[NUM_STUFF:].abs())]))
        head.overlap_thr = 0.0
        sample = run_model(model, batch, 'predict')[0]
    pan = sample.pred_panoptic_seg.sem_seg[0]
    assert pan.shape == size
    x1, y1, x2, y2 = sample.pred_instances.bboxes[0].tolist()
    margin = 4 / scale + 1
    ys, xs = (pan // INSTANCE_OFFSET > 0).nonzero(as_tuple=True)
    assert len(ys) > 0
    assert xs.min() >= x1 - margin and xs.max() <= x2 + margin
    assert ys.min() >= y1 - margin and ys.max() <= y2 + margin


def test_blendmask_panoptic_needs_both_heads():
    cfg = tiny_cfg('BlendMask').model
    cfg.panoptic_fusion_head = None
    with pytest.raises(ValueError, match='both panoptic_head and panoptic_fusion_head'):
        MODELS.build(cfg)


def test_blendmask_semantic_logits_are_at_stride_four_over_p2_to_p5():
    """AdelaiDet's panoptic BlendMask: Detectron2's semantic FPN head over P2-P5, stride 4,
    while the FCOS head keeps P3-P7."""
    model = build('BlendMask').eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 128, 256))
        assert [f.shape[-2:] for f in feats] == [(128 // s, 256 // s)
                                                  for s in (4, 8, 16, 32, 64, 128)]
        assert model.panoptic_head(feats)['seg_preds'].shape == (1, NUM_STUFF + 1, 32, 64)
        # the instance branch sees P3-P7, as without the panoptic branch
        cls_scores = model.bbox_head(feats[model.instance_start_level:])[0]
    assert [c.shape[-2:] for c in cls_scores] == [(128 // s, 256 // s)
                                                  for s in (8, 16, 32, 64, 128)]


def test_blendmask_semantic_loss_averages_over_labelled_pixels_only():
    """Void and padding (255) pixels neither add to the loss nor dilute it (Detectron2:
    cross-entropy with ignore_index=255 and reduction='mean')."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import PixelData
    model = build('BlendMask')
    head = model.panoptic_head
    torch.manual_seed(0)
    feats = model.extract_feat(torch.randn(2, 3, 64, 64))
    seg = torch.randint(NUM_THINGS, NUM_THINGS + NUM_STUFF, (2, 1, 64, 64))

    def loss(gt_seg):
        samples = [DetDataSample(gt_sem_seg=PixelData(sem_seg=g)) for g in gt_seg]
        return head.loss(feats, samples)['loss_seg']

    voided = seg.clone()
    voided[:, :, :, 32:] = 255  # half of every image is void or padding
    logits = head(feats)['seg_preds']  # stride 4: the labels are sampled at stride 4
    target = voided[:, 0, ::4, ::4] - NUM_THINGS
    target[target == 255 - NUM_THINGS] = 255
    expected = 0.5 * torch.nn.functional.cross_entropy(logits, target, ignore_index=255)
    torch.testing.assert_close(loss(voided), expected)


def test_panoptic_layer_takes_its_width_from_the_basis():
    cfg = tiny_cfg('DR1Mask').model
    cfg.basis_head.channels = 12
    assert MODELS.build(copy.deepcopy(cfg)).panoptic_head.in_channels == 12
    cfg.panoptic_head.in_channels = 8
    with pytest.raises(ValueError, match=r'panoptic_head\.in_channels=8 does not match'):
        MODELS.build(cfg)
