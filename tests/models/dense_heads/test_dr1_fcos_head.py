"""DR1FCOSHead: FCOS plus contexts and embeddings (Eq. 5), positives for the mask branch."""
import copy

import pytest
import torch
from mmdet.models.dense_heads import FCOSHead
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet_dr1mask.models.dense_heads import DR1FCOSHead

STRIDES = [8, 16, 32, 64, 128]
COMMON = dict(num_classes=3, in_channels=16, feat_channels=16, stacked_convs=1, strides=STRIDES,
              norm_cfg=dict(type='GN', num_groups=4), center_sampling=True,
              centerness_on_reg=True, norm_on_bbox=True, conv_bias=True,
              loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
              test_cfg=dict(nms_pre=200, score_thr=0.0, min_bbox_size=0,
                            nms=dict(type='nms', iou_threshold=0.6), max_per_img=20))


def make_head(**kwargs):
    # a copy: tests change head.test_cfg, which would otherwise be COMMON's dict
    head = DR1FCOSHead(context_channels=8, embedding_channels=5, **copy.deepcopy(COMMON),
                       **kwargs)
    head.init_weights()
    return head


def feats(size=128, batch=2):
    return [torch.randn(batch, 16, size // s, size // s) for s in STRIDES]


def samples(gts, size=128):
    out = []
    for boxes, labels in gts:
        s = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float).reshape(-1, 4),
                                      labels=torch.tensor(labels, dtype=torch.long))
        out.append(s)
    return out


TWO_GTS = ([[10, 10, 60, 70], [30, 40, 120, 100]], [0, 2])
NO_GT = ([], [])


def test_forward_returns_fcos_outputs_contexts_and_embeddings():
    outs = make_head()(feats())
    assert len(outs) == 5 and all(len(o) == 5 for o in outs)
    for level, s in enumerate(STRIDES):
        shapes = [o[level].shape for o in outs]
        assert shapes == [(2, c, 128 // s, 128 // s) for c in (3, 4, 1, 8, 5)]


def test_no_context_gives_empty_context_maps():
    head = DR1FCOSHead(context_channels=0, embedding_channels=5, **COMMON)
    _, _, _, contexts, _ = head(feats())
    assert contexts[0].shape == (2, 0, 16, 16) and head.conv_context is None


def test_contexts_start_at_exactly_one():
    _, _, _, contexts, embeddings = make_head()(feats())
    for c in contexts:
        assert torch.equal(c, torch.ones_like(c))  # A = B = 1: the vanilla basis
    assert embeddings[0].std() > 0


@pytest.mark.parametrize('top_input', ['box_tower', 'class_tower', 'fpn'])
def test_context_input_position_switch_keeps_the_embedding_on_the_box_tower(top_input):
    head = make_head(top_input=top_input)
    _, _, _, contexts, embeddings = head(feats())
    contexts[0].sum().backward(retain_graph=True)
    tower = {'box_tower': head.reg_convs, 'class_tower': head.cls_convs, 'fpn': None}[top_input]
    for convs in (head.reg_convs, head.cls_convs):
        reached = convs[0].conv.weight.grad is not None
        assert reached == (convs is tower)
    head.zero_grad()
    embeddings[0].sum().backward()
    assert head.reg_convs[0].conv.weight.grad is not None
    assert head.cls_convs[0].conv.weight.grad is None


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match='top_input'):
        make_head(top_input='neck')
    with pytest.raises(ValueError, match='embedding_channels'):
        DR1FCOSHead(context_channels=8, embedding_channels=-1, **COMMON)


def test_without_context_and_embedding_it_is_a_box_head_with_empty_top_outputs():
    head = DR1FCOSHead(context_channels=0, embedding_channels=0, **COMMON)
    head.init_weights()
    assert head.conv_context is None and head.conv_embedding is None
    outs = head(feats())
    assert all(c.size(1) == 0 for c in outs[3]) and all(e.size(1) == 0 for e in outs[4])


def test_positives_carry_their_gt_index_box_centerness_and_embedding():
    head = make_head()
    losses, positives, contexts = head.loss_and_positives(feats(), samples([TWO_GTS, NO_GT]))
    pos = positives[0]
    gt_boxes = torch.tensor(TWO_GTS[0], dtype=torch.float)
    assert len(pos) > 0 and len(positives[1]) == 0
    assert set(pos.gt_inds.tolist()) == {0, 1}
    torch.testing.assert_close(pos.bboxes, gt_boxes[pos.gt_inds])
    assert pos.labels.tolist() == [TWO_GTS[1][i] for i in pos.gt_inds.tolist()]
    assert pos.embeddings.shape == (len(pos), 5)
    assert ((pos.centerness_targets > 0) & (pos.centerness_targets <= 1)).all()
    assert len(contexts) == 5


def test_assignment_matches_mmdetection_fcos():
    head = make_head()
    fcos = FCOSHead(**COMMON)
    points = head.prior_generator.grid_priors([(128 // s, 128 // s) for s in STRIDES],
                                              device='cpu')
    gts = [s.gt_instances for s in samples([TWO_GTS, TWO_GTS])]
    ours = torch.cat(head.get_targets_per_image(points, gts)[0])
    theirs = torch.cat(fcos.get_targets(points, gts)[0])  # level-major
    assert torch.equal(ours.sort().values, theirs.sort().values)


def test_losses_positive_with_gt_and_box_losses_zero_without():
    head = make_head()
    losses, _, _ = head.loss_and_positives(feats(), samples([TWO_GTS, TWO_GTS]))
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    losses, positives, _ = head.loss_and_positives(feats(), samples([NO_GT, NO_GT]))
    assert losses['loss_cls'] > 0
    assert losses['loss_bbox'] == 0 and losses['loss_centerness'] == 0
    assert all(len(p) == 0 for p in positives)
    sum(losses.values()).backward()  # still differentiable


def test_predict_keeps_each_detection_embedding_through_nms():
    head = make_head().eval()
    sizes = [(128 // s, 128 // s) for s in STRIDES]
    cls = [torch.randn(1, 3, h, w) for h, w in sizes]
    bbox = [torch.rand(1, 4, h, w) * 40 + 1 for h, w in sizes]
    ctr = [torch.randn(1, 1, h, w) for h, w in sizes]
    # the embedding of a location records (level, y, x), to check where each detection came from
    emb = []
    for level, (h, w) in enumerate(sizes):
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        emb.append(torch.stack([torch.full_like(ys, level), ys, xs, ys, xs])[None].float())
    metas = [dict(img_shape=(128, 128), scale_factor=(1.0, 1.0))]
    result = head.predict_by_feat(cls, bbox, ctr, emb, batch_img_metas=metas)[0]
    assert 0 < len(result) <= 20
    for box, e in zip(result.bboxes, result.embeddings):
        level, y, x = e[:3].long().tolist()
        stride = STRIDES[level]
        point = torch.tensor([x * stride + stride // 2, y * stride + stride // 2]).float()
        distances = bbox[level][0, :, y, x]
        expected = torch.cat([point - distances[:2], point + distances[2:]]).clamp(0, 128)
        torch.testing.assert_close(box, expected)


def test_predict_returns_detections_with_embeddings_and_contexts():
    head = make_head().eval()
    head.test_cfg = ConfigDict(head.test_cfg)
    results, contexts = head.predict_with_embeddings(feats(batch=1), samples([NO_GT]))
    assert {'bboxes', 'scores', 'labels', 'embeddings'} <= set(results[0].keys())
    assert results[0].embeddings.shape[1] == 5 and len(contexts) == 5


def test_loss_and_predict_keep_fcos_heads_contract():
    """As MMDetection's FCOSHead: a dict of losses, and per image detections only."""
    head = make_head()
    losses = head.loss(feats(), samples([TWO_GTS, NO_GT]))
    assert isinstance(losses, dict) and set(losses) == {'loss_cls', 'loss_bbox',
                                                         'loss_centerness'}
    head.eval()
    head.test_cfg = ConfigDict(head.test_cfg)
    results = head.predict(feats(batch=1), samples([NO_GT]), rescale=False)
    assert isinstance(results, list) and len(results) == 1
    assert set(results[0].keys()) == {'bboxes', 'scores', 'labels'}


def dense_outputs(cls_prob: float, ctr_prob: float, size: int = 128):
    """Per-level maps with one class at probability ``cls_prob`` and centerness ``ctr_prob``
    at every location (the other classes near 0)."""
    sizes = [(size // s, size // s) for s in STRIDES]
    logit = torch.logit(torch.tensor(cls_prob))
    cls = [torch.full((1, 3, h, w), -20.0) for h, w in sizes]
    for c in cls:
        c[:, 1] = logit
    bbox = [torch.full((1, 4, h, w), 4.0) for h, w in sizes]
    ctr = [torch.full((1, 1, h, w), float(torch.logit(torch.tensor(ctr_prob))))
           for h, w in sizes]
    emb = [torch.zeros(1, 5, h, w) for h, w in sizes]
    return cls, bbox, ctr, emb


METAS = [dict(img_shape=(128, 128), scale_factor=(1.0, 1.0))]


def test_score_is_the_square_root_of_cls_times_centerness_as_in_adelaidet():
    head = make_head().eval()
    result = head.predict_by_feat(*dense_outputs(0.5, 0.5), batch_img_metas=METAS)[0]
    assert len(result) > 0
    # AdelaiDet reports sqrt(0.5 * 0.5) = 0.5; MMDetection's FCOSHead 0.25
    torch.testing.assert_close(result.scores, torch.full_like(result.scores, 0.5))
    assert (result.labels == 1).all()


@pytest.mark.parametrize('thresh_with_ctr, kept', [(True, False), (False, True)])
def test_score_threshold_is_taken_on_cls_times_centerness(thresh_with_ctr, kept):
    """THRESH_WITH_CTR: cls 0.5 with centerness 0.08 (0.04 < 0.05) is dropped."""
    head = make_head(thresh_with_ctr=thresh_with_ctr).eval()
    head.test_cfg['score_thr'] = 0.05
    result = head.predict_by_feat(*dense_outputs(0.5, 0.08), batch_img_metas=METAS)[0]
    assert (len(result) > 0) == kept
    if kept:
        torch.testing.assert_close(result.scores, torch.full_like(result.scores, 0.2))


@pytest.mark.parametrize('nms_pre, kept', [(-1, 3 * 341), (0, 3 * 341), (7, 7 * 4 + 3)])
def test_nms_pre_cuts_each_level_and_none_or_zero_keeps_every_score(nms_pre, kept):
    """128x128 input: 256 + 64 + 16 + 4 + 1 = 341 locations of 3 classes, all above 0
    (the last level has 3 scores, fewer than nms_pre 7)."""
    head = make_head().eval()
    head.test_cfg['nms_pre'] = nms_pre
    result = head.predict_by_feat(*dense_outputs(0.5, 0.5), batch_img_metas=METAS,
                                  with_nms=False)[0]
    assert len(result) == kept


def test_no_learnable_scale_per_level_unless_asked():
    """AdelaiDet's BlendMask: USE_SCALE False (MMDetection's FCOS: a Scale per level)."""
    assert not any('scales' in name for name, _ in make_head().named_parameters())
    scaled = [name for name, _ in make_head(use_scale=True).named_parameters()
              if 'scales' in name]
    assert len(scaled) == len(STRIDES)
