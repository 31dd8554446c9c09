"""KernelIterHead: stage losses, matching by the previous stage, inference formats;
and the panoptic merge of thing and stuff kernels."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.structures import InstanceData

from mmdet_dr1mask.knet import KernelIterHead
from mmdet_dr1mask.knet.kernel_panoptic_merge import (
    kernel_scores,
    merge_stuff_thing,
)

C, N, T, S = 16, 6, 2, 3


def iter_head(num_stuff=0, **kwargs):
    torch.manual_seed(0)
    rank = dict(type='CrossEntropyLoss', loss_weight=0.1) if num_stuff else None
    h = KernelIterHead(
        num_stages=2, stage_loss_weights=(1, 0.5), num_proposals=N, num_thing_classes=T,
        num_stuff_classes=num_stuff, max_per_img=4,
        update_head=dict(type='KernelUpdateHead', num_classes=T + num_stuff, in_channels=C,
                         num_heads=4, feedforward_channels=32,
                         loss_kernel_mask=dict(type='KernelMaskLoss', loss_rank=rank),
                         kernel_updator=dict(type='KernelUpdator', in_channels=C,
                                             feat_channels=C)), **kwargs)
    h.init_weights()
    return h


def state(k=N, b=1):
    return torch.randn(b, C, 8, 12), torch.randn(b, k, C), torch.randn(b, k, 8, 12)


def gt(n):
    masks = torch.zeros(n, 16, 24)
    masks[:, 2:10, 3:12] = 1
    return InstanceData(labels=torch.zeros(n, dtype=torch.long), masks=masks)


def test_stage_losses_weighted_and_keyed():
    losses = iter_head().loss(*state(), [gt(1)], None)
    assert set(losses) == {f's{s}.loss_{k}' for s in (0, 1) for k in ('cls', 'mask', 'dice')}
    assert all(v > 0 for v in losses.values())
    empty = iter_head().loss(*state(), [gt(0)], None)
    assert all(empty[f's{s}.loss_cls'] > 0 for s in (0, 1))
    assert all(empty[f's{s}.loss_{k}'] == 0 for s in (0, 1) for k in ('mask', 'dice'))


def test_each_stage_is_matched_by_the_previous_predictions(monkeypatch):
    head, seen = iter_head(), []
    original = head.targets

    def spy(prev_masks, prev_cls, things, stuff):
        seen.append((prev_masks.clone(), prev_cls))
        return original(prev_masks, prev_cls, things, stuff)
    monkeypatch.setattr(head, 'targets', spy)
    feats, kernels, masks = state()
    head.loss(feats, kernels, masks, [gt(1)], None)
    torch.testing.assert_close(seen[0][0], head.upsample(masks))  # stage 0: initial masks
    assert seen[0][1] is None and seen[1][1].shape == (1, N, T)


def test_panoptic_targets_append_one_kernel_per_stuff_class():
    head = iter_head(num_stuff=S)
    stuff = [InstanceData(labels=torch.tensor([T + 2]), masks=torch.ones(1, 16, 24))]
    labels, weights, masks, pos = head.targets(torch.randn(1, N + S, 16, 24), None,
                                               [gt(1)], stuff)
    assert labels.shape == (1, N + S) and labels[0, N:].tolist() == [T + S, T + S, T + 2]
    assert weights[0, :N, T:].sum() == 0 and weights[0, :N, :T].min() == 1
    assert pos[0].sum() == 2 and masks.shape == (1, N + S, 16, 24)
    losses = head.loss(*state(N + S), [gt(1)], stuff)
    assert {'s0.loss_rank', 's1.loss_rank'} <= set(losses)


META = dict(batch_input_shape=(32, 48), img_shape=(30, 45), ori_shape=(60, 90))


@pytest.mark.parametrize('rescale,shape', [(True, (60, 90)), (False, (30, 45))])
def test_predict_instances_top_k_and_mask_size(rescale, shape):
    instances, panoptic = iter_head().predict(*state(), [META], rescale)
    pred = instances[0]
    assert panoptic is None and len(pred) == 4
    assert pred.masks.shape == (4, *shape) and pred.bboxes.shape == (4, 4)
    assert (pred.labels < T).all() and (pred.scores[:-1] >= pred.scores[1:]).all()


def test_predict_panoptic_and_empty_instances():
    head = iter_head(num_stuff=S, score_thr=1.0)
    instances, panoptic = head.predict(*state(N + S), [META], True)
    assert len(instances[0]) == 0 and instances[0].masks.shape == (0, 60, 90)
    assert panoptic[0].sem_seg.shape == (1, 60, 90)


def test_kernel_scores_things_best_thing_class_stuff_own_class():
    scores = torch.tensor([[0.1, 0.7, 0.9, 0.0, 0.0],    # thing kernel: stuff ignored
                           [0.2, 0.8, 0.9, 0.9, 0.3],    # stuff kernel 0 -> class 2
                           [0.2, 0.8, 0.9, 0.6, 0.3],    # stuff kernel 1 -> class 3
                           [0.2, 0.8, 0.1, 0.2, 0.4]])   # stuff kernel 2 -> class 4
    s, labels = kernel_scores(scores, num_proposals=1, num_thing_classes=T)
    torch.testing.assert_close(s, torch.tensor([0.7, 0.9, 0.6, 0.4]))
    assert labels.tolist() == [1, 2, 3, 4]


def test_merge_encoding_thresholds_overlap_and_opt_in_stuff_filters():
    probs = torch.zeros(5, 4, 8)
    probs[0, 1:, :4] = 0.9         # thing (score 0.8): rows 1-3, left half
    probs[1, 1:, 2:4] = 0.95       # thing (0.9) inside the first -> takes columns 2-3
    probs[2, 1:, 4:] = 0.9         # stuff class 3 (0.5): rows 1-3, right half
    probs[3, 0, :] = 0.99          # thing below instance_score_thr: row 0 alone
    probs[4, 3, 4:] = 0.99         # stuff class 4 (0.04): below stuff_score_thr
    labels = torch.tensor([0, 1, 3, 0, 4])
    scores = torch.tensor([0.8, 0.9, 0.5, 0.2, 0.04])
    pan = merge_stuff_thing(probs, labels, scores, T, T + S, overlap_thr=0.5,
                            instance_score_thr=0.3, stuff_score_thr=0.05, stuff_max_area=4)
    assert (pan[1:, 2:4] == 1 + INSTANCE_OFFSET).all()  # best thing gets id 1
    assert (pan[1:, :2] == 0 + 2 * INSTANCE_OFFSET).all()
    assert (pan[1:, 4:] == 3).all()  # stuff: label only
    assert (pan[0] == T + S).all()  # row 0 owned by rejected kernel 3: void
    strict = merge_stuff_thing(probs, labels, scores, T, T + S, overlap_thr=0.6,
                               instance_score_thr=0.3, stuff_score_thr=0.05,
                               stuff_max_area=100)
    assert not (strict == 0 + 2 * INSTANCE_OFFSET).any()  # kept 6/12 < 0.6 of its mask
    assert not (strict == 3).any()  # stuff region of 12 pixels < 100: void


def official_merge(probs, labels, scores, num_thing_classes, num_classes, overlap_thr,
                   instance_score_thr):
    """The rules of the official ``merge_stuff_thing`` (github.com/ZwwWayne/K-Net,
    knet/det/kernel_iter_head.py), written out pixel by pixel as an oracle: only things
    are score-filtered; any kernel keeps the pixels it wins if they are at least
    ``overlap_thr`` of its own mask (>= 0.5). Ids in MMDetection's encoding (things
    numbered from 1, stuff by label)."""
    owner = (scores[:, None, None] * probs).argmax(dim=0)
    pan = torch.full(probs.shape[-2:], num_classes, dtype=torch.long)
    next_id = 1
    for k in sorted(range(len(scores)), key=lambda i: -scores[i].item()):
        is_thing = labels[k].item() < num_thing_classes
        if is_thing and scores[k] < instance_score_thr:
            continue
        won, own = owner == k, probs[k] >= 0.5
        if won.sum() == 0 or own.sum() == 0 or won.sum() / own.sum() < overlap_thr:
            continue
        pan[won] = labels[k] + next_id * INSTANCE_OFFSET if is_thing else labels[k]
        next_id += is_thing
    return pan


def test_merge_by_default_keeps_low_scoring_small_stuff_as_the_official_merge():
    probs = torch.zeros(3, 40, 40)
    probs[0, :20] = 0.9              # thing (0.8): top half
    probs[1, 20:] = 0.9              # stuff class 3 (0.5): bottom half but the corner
    probs[1, 38:, 38:] = 0.0
    probs[2, 38:, 38:] = 0.99        # stuff class 4 at 0.01 over 4 pixels
    labels, scores = torch.tensor([0, 3, 4]), torch.tensor([0.8, 0.5, 0.01])
    pan = merge_stuff_thing(probs, labels, scores, T, T + S)
    # the official 0.05 score and 4096-pixel area in its test_cfg are never applied
    assert (pan[38:, 38:] == 4).all() and (pan == 4).sum() == 4
    assert (pan[20:38] == 3).all() and (pan[:20] == INSTANCE_OFFSET).all()
    torch.testing.assert_close(
        pan, official_merge(probs, labels, scores, T, T + S, 0.6, 0.3), rtol=0, atol=0)
    # opt-in filters drop that segment (void), the rest stays
    for option in (dict(stuff_score_thr=0.05), dict(stuff_max_area=5)):
        filtered = merge_stuff_thing(probs, labels, scores, T, T + S, **option)
        assert (filtered[38:, 38:] == T + S).all()
        assert (filtered != T + S).sum() == 40 * 40 - 4


def test_merge_defaults_equal_the_official_rules_on_random_kernels():
    low_stuff_kept = 0
    for seed in range(10):
        torch.manual_seed(seed)
        k_things = 6
        logits = torch.randn(k_things + S, 1, 4, 6) * 4  # smooth blobs
        logits[:k_things] -= 8  # things: compact
        for i in range(S):  # stuff i: mostly its own band of columns, overlapping others
            logits[k_things + i, 0, :, 2 * i:2 * i + 2] += 8
        logits[k_things:] -= 4
        probs = F.interpolate(logits, (24, 32), mode='bilinear').sigmoid()[:, 0]
        labels = torch.cat([torch.randint(0, T, (k_things,)), torch.arange(T, T + S)])
        scores = torch.cat([torch.rand(k_things) * 0.6, torch.rand(S) * 0.1])
        pan = merge_stuff_thing(probs, labels, scores, T, T + S)
        torch.testing.assert_close(
            pan, official_merge(probs, labels, scores, T, T + S, 0.6, 0.3), rtol=0, atol=0)
        low_stuff_kept += sum(int((pan == T + i).any()) for i in range(S)
                              if scores[k_things + i] < 0.05)
    assert low_stuff_kept > 0  # the seeds exercise stuff the 0.05 filter would drop


def test_iter_head_panoptic_keeps_low_scoring_stuff_by_default():
    """The head's defaults carry the official merge: a stuff kernel scoring 0.01 keeps
    its region; with ``stuff_score_thr`` set it becomes void."""
    probs = torch.zeros(N + S, 16, 16)
    probs[N + 1, :, 8:] = 0.9        # stuff kernel 1 -> class T + 1, right half
    scores = torch.zeros(N + S, T + S)
    scores[N + 1, T + 1] = 0.01
    pan = iter_head(num_stuff=S).predict_panoptic(scores, probs).sem_seg[0]
    assert (pan[:, 8:] == T + 1).all()
    off = iter_head(num_stuff=S, stuff_score_thr=0.05).predict_panoptic(scores, probs)
    assert (off.sem_seg[0] == T + S).all()


@pytest.mark.parametrize('kwargs,message', [
    (dict(stage_loss_weights=(1, 1, 1)), r'stage_loss_weights has 3 weights for num_stages=2'),
    (dict(num_stuff_classes=1), r'num_classes=2 must be num_thing_classes \+ num_stuff'),
])
def test_inconsistent_settings_are_config_errors_naming_the_keys(kwargs, message):
    cfg = dict(num_stages=2, stage_loss_weights=(1, 0.5), num_proposals=N, num_thing_classes=T,
               update_head=dict(type='KernelUpdateHead', num_classes=T, in_channels=C,
                                num_heads=4, feedforward_channels=32,
                                kernel_updator=dict(type='KernelUpdator', in_channels=C,
                                                    feat_channels=C)))
    with pytest.raises(ValueError, match=message):
        KernelIterHead(**{**cfg, **kwargs})
