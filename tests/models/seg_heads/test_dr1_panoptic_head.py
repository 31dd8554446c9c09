"""DR1PanopticHead: Eq. 9 weights, target maps, aligned arg-max, panoptic encoding,
the optional box confinement and position prior of thing channels."""
import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from mmdet_dr1mask.models.seg_heads import DR1PanopticHead, dr1_panoptic_head
from mmdet_dr1mask.models.seg_heads.aligned_argmax import AlignedArgmax
from mmdet_dr1mask.models.seg_heads.dr1_panoptic_head import (
    boxes_on_basis,
    centre_distances,
    channel_counts,
    confine_to_boxes,
    covered_channels,
    covered_things,
    duplicate_things,
    encode_panoptic,
    kept_things,
    mask_areas,
    mean_embeddings,
    panoptic_values,
    subtract_position_prior,
)
from mmdet_dr1mask.models.seg_heads.panoptic_kernels import cpu_kernels

T, S = 2, 3  # thing classes 0, 1; stuff classes 2, 3, 4; void 255


def test_thing_weights_are_the_mean_embedding_of_each_instance_positives():
    gt_inds = torch.tensor([2, 0, 2, 2])
    emb = torch.tensor([[1., 0], [4, 4], [3, 0], [2, 3]])
    weights, kept = mean_embeddings(gt_inds, emb, num_gts=3)
    assert kept.tolist() == [0, 2]  # instance 1 has no positive
    torch.testing.assert_close(weights, torch.tensor([[4., 4], [2, 1]]))


def panoptic_sample():
    """8x8 input: stuff 2 on top, stuff 3 below, two touching things, a crowd, void."""
    sem = torch.full((8, 8), 2)
    sem[4:] = 3
    sem[0:2, 6:8] = 255          # void
    masks = np.zeros((3, 8, 8), np.uint8)
    masks[0, 4:8, 0:4] = 1       # thing class 0
    masks[1, 4:8, 4:6] = 1       # thing class 1, touching the first
    masks[2, 0:2, 0:2] = 1       # thing class 1 without any positive
    for mask, label in zip(masks, (0, 1, 1)):
        sem[torch.from_numpy(mask).bool()] = label
    sem[2:4, 0:2] = 0            # crowd region: thing label, no instance mask
    sample = DetDataSample(metainfo=dict(img_shape=(8, 8), ori_shape=(8, 8)))
    sample.gt_sem_seg = PixelData(sem_seg=sem[None])
    sample.gt_instances = InstanceData(labels=torch.tensor([0, 1, 1]),
                                       masks=BitmapMasks(masks, 8, 8))
    return sample


def test_target_map_stuff_things_and_ignored_regions():
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                           basis_stride=2)
    target = head.get_targets(panoptic_sample(), torch.tensor([0, 1]), (4, 4))
    # stride 2 samples input pixels (2i, 2j); stuff s -> s - T, instance k -> S + k
    assert target.tolist() == [
        [255, 0, 0, 255],   # instance without positives (ignored), stuff 2, void
        [255, 0, 0, 0],     # crowd ignored
        [3, 3, 4, 1],       # instance 0 (channel 3), instance 1 (channel 4), stuff 3
        [3, 3, 4, 1]]


def test_loss_is_finite_positive_and_reaches_basis_stuff_weights_and_embeddings():
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                           basis_stride=2)
    bases = torch.randn(1, 4, 4, 4, requires_grad=True)
    emb = torch.randn(3, 4, requires_grad=True)
    positives = [InstanceData(gt_inds=torch.tensor([0, 1, 1]), embeddings=emb)]
    loss = head.loss(bases, positives, [panoptic_sample()])['loss_panoptic']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    for grad in (bases.grad, emb.grad, head.conv_stuff.weight.grad):
        assert grad.abs().sum() > 0


@pytest.mark.parametrize('num_things', [0, 3])
def test_logits_are_the_stuff_then_thing_columns_applied_to_the_basis(num_things):
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S)
    bases, weights = torch.randn(4, 5, 6), torch.randn(num_things, 4)
    logits = head(bases, weights)
    assert logits.shape == (S + num_things, 5, 6)
    torch.testing.assert_close(logits[:S], head.conv_stuff(bases[None])[0])
    torch.testing.assert_close(logits[S:], torch.einsum('kd,dhw->khw', weights, bases))


def test_resampling_is_aligned_with_the_basis_grid():
    # channel 0 holds the basis x index, channel 1 the constant 2.6: with basis pixel j on
    # input pixel 4j, channel 0 wins from input pixel x > 4 * 2.6 = 10.4 on.
    logits = torch.stack([torch.arange(8.).expand(3, 8), torch.full((3, 8), 2.6)])
    full = AlignedArgmax((3, 8), img_shape=(12, 32), out_shape=(12, 32), stride=4,
                         device=logits.device)(logits)
    assert full.shape == (12, 32)
    assert (full[:, :11] == 1).all() and (full[:, 11:] == 0).all()
    # the original image at half the input size: pixel x_o is input pixel 2 x_o + 0.5
    full = AlignedArgmax((3, 8), (12, 32), (6, 16), 4, logits.device)(logits)
    assert (full[:, :5] == 1).all() and (full[:, 5:] == 0).all()


def test_covered_things_give_way_and_encoding_voids_small_stuff_and_numbers_instances():
    full = torch.tensor([[0, 0, 3, 3],
                         [0, 1, 3, 4],
                         [2, 2, 5, 5]])   # channels: stuff 0..2, things 3..5
    areas = torch.tensor([3, 4, 2])  # thing 1 shows 1 of its 4 pixels: dropped
    dropped = covered_things(full, areas, num_stuff=S, overlap_thr=0.5)
    assert dropped.nonzero().tolist() == [[1, 3]]
    full[dropped] = 2  # its best stuff class there
    pan = encode_panoptic(full, torch.tensor([1, 0, 1]), num_things=T, num_stuff=S,
                          stuff_area_limit=2)
    void = T + S
    assert pan.tolist() == [
        [T + 0, T + 0, 1 + INSTANCE_OFFSET, 1 + INSTANCE_OFFSET],
        [T + 0, void, 1 + INSTANCE_OFFSET, T + 2],     # stuff 1 has 1 pixel (< 2): void;
        [T + 2, T + 2, 1 + 2 * INSTANCE_OFFSET, 1 + 2 * INSTANCE_OFFSET]]  # thing 1 -> stuff 2


def test_no_detection_gives_a_stuff_only_map():
    full = torch.tensor([[0, 1], [1, 1]])
    assert not covered_things(full, torch.zeros(0), S, 0.5).any()
    pan = encode_panoptic(full, torch.zeros(0, dtype=torch.long), T, S, 0)
    assert pan.tolist() == [[T, T + 1], [T + 1, T + 1]]


@pytest.mark.parametrize('shape', [(0, 5, 7), (3, 1, 1), (4, 8, 8), (5, 33, 517), (2, 0, 4)])
def test_mask_areas_count_the_pixels_of_any_mask_size(shape):
    masks = torch.rand(shape, generator=torch.Generator().manual_seed(0)) > 0.3
    assert mask_areas(masks).tolist() == masks.flatten(1).sum(1).tolist()
    # 64 rows of bytes are summed in uint8: a full column (64) must not wrap
    assert mask_areas(torch.ones(2, 16, 16, dtype=torch.bool)).tolist() == [256, 256]
    assert mask_areas(torch.ones(1, 480, 641, dtype=torch.bool)).tolist() == [480 * 641]


@pytest.mark.parametrize('num_dets', [0, 3])
@pytest.mark.parametrize('rescale', [True, False])
def test_predict_outputs_mmdetection_panoptic_maps(num_dets, rescale):
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                           score_thr=0.3, stuff_area_limit=0)
    h, w = (20, 28) if rescale else (40, 56)
    dets = InstanceData(labels=torch.tensor([0, 1, 1])[:num_dets],
                        scores=torch.tensor([0.9, 0.5, 0.1])[:num_dets],
                        masks=torch.ones(num_dets, h, w, dtype=torch.bool),
                        embeddings=torch.randn(num_dets, 4) * 10)
    meta = dict(img_shape=(40, 56), ori_shape=(20, 28))
    pan = head.predict(torch.randn(1, 4, 10, 14), [dets], [meta], rescale=rescale)[0].sem_seg
    assert pan.shape == (1, h, w) and pan.dtype == torch.int32
    labels = pan % INSTANCE_OFFSET
    assert ((labels >= 0) & (labels <= T + S)).all()
    ids = (pan // INSTANCE_OFFSET).unique().tolist()
    assert max(ids) <= min(num_dets, 2)  # the 0.1-score detection never becomes a thing
    if num_dets == 0:
        assert (pan < INSTANCE_OFFSET).all() and (pan >= T).all()


@pytest.mark.parametrize('kernels', ['1', '0'])
@pytest.mark.parametrize('scores', [
    [0.9, 0.8, 0.7, 0.6, 0.2],   # sorted: the candidates are the first four
    [0.9, 0.2, 0.8, 0.7, 0.6],   # not sorted: a non-candidate among them
])
def test_predict_equals_its_definition_on_every_pixel(scores, kernels, monkeypatch):
    """Every output pixel resampled, the things that show less than overlap_thr of their
    mask replaced by the best stuff class, then encoded: what predict's shortcuts (border
    pixels only, shared counts, a slice of the masks) must give, with the CPU kernels (one
    C++ call from the arg-max map on) and with the tensor operations."""
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', kernels)
    if kernels == '1' and cpu_kernels() is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    g = torch.Generator().manual_seed(4)
    head = DR1PanopticHead(in_channels=6, num_things_classes=T, num_stuff_classes=S,
                           score_thr=0.3, overlap_thr=0.5, stuff_area_limit=20)
    torch.nn.init.normal_(head.conv_stuff.weight, std=1.0, generator=g)
    bases = torch.nn.functional.interpolate(torch.randn(1, 6, 4, 5, generator=g) * 3,
                                            size=(13, 17), mode='bilinear')
    embeddings = torch.randn(5, 6, generator=g) * 2
    embeddings[3] *= 0.01  # a thing whose channel loses nearly everywhere: dropped
    masks = torch.zeros(5, 37, 49, dtype=torch.bool)
    masks[0, :20, :25] = masks[1, 10:, 20:] = masks[2, 5:30, 30:] = True
    masks[3, 20:, :30] = masks[4, :, :] = True
    dets = InstanceData(labels=torch.tensor([0, 1, 1, 0, 1]), scores=torch.tensor(scores),
                        masks=masks, embeddings=embeddings)
    meta = dict(img_shape=(52, 68), ori_shape=(37, 49))
    got = head.predict(bases, [dets], [meta])[0].sem_seg[0]

    cand = (dets.scores >= 0.3).nonzero()[:, 0]
    cand = cand[~duplicate_things(masks[cand], mask_areas(masks[cand]),
                                  torch.ones(len(cand), dtype=torch.bool), 0.5)]
    logits = head(bases[0], embeddings[cand])
    everywhere = torch.ones(37, 49, dtype=torch.bool)
    resample = AlignedArgmax((13, 17), (52, 68), (37, 49), 4, 'cpu', native=False)
    channels = resample.argmax_at(logits, everywhere).view(37, 49)
    dropped = covered_things(channels, mask_areas(masks[cand]), S, 0.5)
    assert dropped.any() and not dropped.all()  # both paths of predict are taken
    channels[dropped] = resample.argmax_at(logits[:S], everywhere).view(37, 49)[dropped]
    expected = encode_panoptic(channels, dets.labels[cand], T, S, stuff_area_limit=20)
    assert torch.equal(got, expected.int())
    assert (got >= INSTANCE_OFFSET).any()


def test_covered_channels_and_panoptic_values_from_the_counts():
    full = torch.tensor([[0, 0, 3, 3],
                         [0, 1, 3, 4],
                         [2, 2, 5, 5]])
    counts = channel_counts(full, S + 3)
    assert counts.tolist() == [3, 1, 2, 3, 1, 2]
    table = covered_channels(counts, torch.tensor([3, 4, 2]), S, 0.5)
    assert table.tolist() == [False] * S + [False, True, False]
    labels = torch.tensor([1, 0, 1])
    values = panoptic_values(counts, labels, T, S, 2)
    assert values.tolist() == [T, T + S, T + 2, 1 + INSTANCE_OFFSET, 2 * INSTANCE_OFFSET,
                               1 + 3 * INSTANCE_OFFSET]  # stuff 1 (1 pixel < 2): void
    assert torch.equal(encode_panoptic(full, labels, T, S, 2), values[full])


def test_the_cpu_panoptic_map_kernel_equals_the_tensor_steps_it_replaces():
    """``panoptic_map`` (C++) does covered_channels, replace, panoptic_values and paint in
    one call; on random maps (some things covered, some stuff under the area limit, things
    that show no pixel, no things at all) it gives what the tensor steps give."""
    kernels = cpu_kernels()
    if kernels is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    g = torch.Generator().manual_seed(7)
    resample = AlignedArgmax((9, 11), (36, 44), (29, 41), 4, 'cpu')
    tensor_form = AlignedArgmax((9, 11), (36, 44), (29, 41), 4, 'cpu', native=False)
    checked = set()
    for trial in range(40):
        num_things = trial % 6  # 0: stuff only
        logits = torch.randn(S + num_things, 9, 11, generator=g) * 3
        logits[S:] += torch.rand(num_things, 1, 1, generator=g) * 4 - 3  # weak and strong
        areas = torch.randint(0, 400, (num_things, ), generator=g, dtype=torch.int32)
        labels = torch.randint(0, T, (num_things, ), generator=g)
        limit = int(torch.randint(0, 300, (1, ), generator=g))
        parts = resample.parts(logits)
        got = kernels.panoptic_map(parts.channels, parts.counts, areas, labels,
                                   logits[:S].contiguous(), *resample.tables, T, 0.5, limit,
                                   INSTANCE_OFFSET)
        ref = tensor_form.parts(logits)
        counts = tensor_form.counts(ref, S + num_things)
        dropped = covered_channels(counts, areas, S, 0.5)
        if dropped.any():
            ref = tensor_form.replace(ref, dropped, logits[:S])
            counts = tensor_form.counts(ref, S + num_things)
        values = panoptic_values(counts, labels, T, S, limit)
        assert got.dtype == torch.int32 and got.shape == (29, 41)
        assert torch.equal(got, tensor_form.paint(ref, values.int())), trial
        checked |= {('covered', bool(dropped.any())),
                    ('void stuff', bool((values[:S] == T + S).any())), ('things', num_things > 0)}
    assert len(checked) == 6  # every case above was met, with and without


def test_aligned_argmax_of_one_geometry_is_built_once():
    first = AlignedArgmax.of_geometry((10, 14), (40, 56), (20, 28), 4, 'cpu')
    assert AlignedArgmax.of_geometry(torch.Size([10, 14]), (40, 56, 3), (20, 28), 4,
                                     torch.device('cpu')) is first
    assert AlignedArgmax.of_geometry((10, 14), (40, 56), (21, 28), 4, 'cpu') is not first
    # two geometries are kept, no more: each holds a per-pixel cell index
    AlignedArgmax.of_geometry((10, 14), (40, 56), (22, 28), 4, 'cpu')
    assert AlignedArgmax.of_geometry((10, 14), (40, 56), (20, 28), 4, 'cpu') is not first


def test_duplicate_things_lie_on_the_masks_of_higher_scored_kept_things():
    masks = torch.zeros(5, 6, 6, dtype=torch.bool)
    masks[0, :3, :3] = True                      # kept
    masks[1, :3, :4] = True                      # 9 of 12 pixels on thing 0: duplicate
    masks[2, :3, 3:5] = True                     # on thing 1 only, which is dropped: kept
    masks[3, 3:, 3:] = True                      # alone: kept
    masks[4, 2:4, 1:3] = True                    # 2 of 4 on kept things: not more than half
    candidates = torch.tensor([True, True, True, True, True])
    areas = mask_areas(masks)
    assert duplicate_things(masks, areas, candidates, 0.5).tolist() == [
        False, True, False, False, False]
    # a detection that is no candidate (below the score threshold) claims nothing
    candidates[0] = False
    assert duplicate_things(masks, areas, candidates, 0.5).tolist() == [False] * 5
    # the scripted loop (the one the ONNX graph runs) gives the same
    assert torch.jit.script(duplicate_things)(masks, areas, candidates, 0.5).tolist() == [
        False] * 5
    # empty masks and no detections at all
    assert not duplicate_things(torch.zeros(2, 4, 4, dtype=torch.bool), torch.zeros(2),
                                torch.tensor([True, True]), 0.5).any()
    assert duplicate_things(torch.zeros(0, 4, 4, dtype=torch.bool), torch.zeros(0),
                            torch.zeros(0, dtype=torch.bool), 0.5).shape == (0, )


@pytest.mark.parametrize('overlap, area', [(2**24 + 1, 2**25 + 2), (2**24 + 3, 2**25 + 4)])
def test_graph_counts_are_exact_past_float32_integers(overlap, area):
    """The scripted filter (the ONNX graph's Loop) and the graph's areas count past 2**24
    pixels exactly: a plain float32 sum made the first case's duplicate a kept thing."""
    h, w = 4096, 8193
    masks = torch.zeros(2, h * w, dtype=torch.bool)
    masks[0, :overlap] = True  # the higher-scored mask, under `overlap` pixels of the other
    masks[1, :area] = True
    masks = masks.view(2, h, w)
    areas = mask_areas(masks)
    assert torch.equal(dr1_panoptic_head.exact_count(masks).float(), areas.float())
    assert int(dr1_panoptic_head.exact_count(masks[0])) == overlap
    candidates = torch.ones(2, dtype=torch.bool)
    expected = dr1_panoptic_head._duplicates_eager(masks, areas, candidates, 0.5)
    assert expected.tolist() == [False, True]
    scripted = torch.jit.script(duplicate_things)(masks, areas, candidates, 0.5)
    assert torch.equal(scripted, expected)


@pytest.mark.parametrize('count', [0, 1, 12, 40, 300])  # 300: indices past a byte
def test_gpu_form_of_the_duplicate_filter_gives_the_greedy_loops_result(count):
    """GPU tensors take whole-map rounds instead of the loop; run here on CPU tensors
    against the loop, on overlapping rectangles with holes, at several thresholds."""
    gen = torch.Generator().manual_seed(count)
    masks = torch.zeros(count, 24, 30, dtype=torch.bool)
    for mask in masks:
        y, x = torch.randint(0, 24, (1, ), generator=gen), torch.randint(0, 30, (1, ),
                                                                          generator=gen)
        hh, ww = torch.randint(1, 24, (1, ), generator=gen), torch.randint(1, 30, (1, ),
                                                                            generator=gen)
        mask[y:y + hh, x:x + ww] = torch.rand(24, 30, generator=gen)[y:y + hh, x:x + ww] < 0.9
    areas = mask_areas(masks)
    some = torch.rand(count, generator=gen) < 0.8
    for candidates in (some, torch.ones(count, dtype=torch.bool)):  # all: kept_things
        for thr in (0.0, 0.3, 0.5, 1.0):
            expected = dr1_panoptic_head._duplicates_eager(masks, areas, candidates, thr)
            got = dr1_panoptic_head._duplicates_by_rounds(masks, areas, candidates, thr)
            assert torch.equal(got, expected)


def test_eager_and_scripted_duplicate_filters_agree_on_random_masks():
    """Eager mode runs the loop with Python scalars; the exported graph runs the scripted
    one."""
    scripted = torch.jit.script(duplicate_things)
    for masks in random_box_masks():
        k = masks.size(0)
        candidates = torch.rand(k, generator=torch.Generator().manual_seed(k)) > 0.2
        areas = mask_areas(masks)
        for thr in (0.3, 0.5, 0.8):
            eager = duplicate_things(masks, areas, candidates, thr)
            assert eager.dtype == torch.bool and eager.shape == (k, )
            assert torch.equal(eager, scripted(masks, areas, candidates, thr)), (k, thr)


@pytest.mark.parametrize('kernels', ['1', '0'])
def test_kept_things_are_the_non_duplicates_with_their_areas(kernels, monkeypatch):
    """predict's form of the filter: one C++ call on CPU (areas and overlaps counted in one
    pass), else mask_areas and the eager loop; both as the scripted loop and mask_areas."""
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', kernels)
    if kernels == '1' and cpu_kernels() is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    scripted = torch.jit.script(duplicate_things)
    for masks in random_box_masks():
        areas = mask_areas(masks)
        everyone = torch.ones(masks.size(0), dtype=torch.bool)
        for thr in (0.3, 0.5, 0.8):
            kept, kept_areas = kept_things(masks, thr)
            assert kept.dtype == torch.long and kept_areas.dtype == torch.int32
            assert torch.equal(kept, (~scripted(masks, areas, everyone, thr)).nonzero()[:, 0])
            assert torch.equal(kept_areas, areas[kept])
    # empty masks lie on nothing: all kept, with area 0
    kept, kept_areas = kept_things(torch.zeros(3, 4, 4, dtype=torch.bool), 0.5)
    assert kept.tolist() == [0, 1, 2] and kept_areas.tolist() == [0, 0, 0]


def random_box_masks():
    """Masks of random boxes, many overlapping by more than half, many not; (13, 17) and
    (60, 91) are sizes that are no multiple of the 8 or 16 bytes the C++ loop counts at
    once, (0, 5, 5) no masks."""
    g = torch.Generator().manual_seed(0)
    for k, h, w in [(0, 5, 5), (1, 3, 4), (9, 9, 13), (30, 16, 16), (12, 13, 17), (6, 60, 91)]:
        masks = torch.zeros(k, h, w, dtype=torch.bool)
        for i in range(k):
            y, x = torch.randint(0, h, (2, ), generator=g).tolist()
            dy, dx = torch.randint(1, max(h, w), (2, ), generator=g).tolist()
            masks[i, y:y + dy, x:x + dx] = True
        yield masks


@pytest.mark.parametrize('drop_duplicates', [False, True])
def test_a_duplicate_detection_does_not_split_its_object(drop_duplicates):
    # two detections of one object (the same mask); their channels differ a little, so
    # without the duplicate filter the arg-max splits the object into two segments (each
    # shows about half of its mask, above overlap_thr)
    head = DR1PanopticHead(in_channels=2, num_things_classes=T, num_stuff_classes=S,
                           score_thr=0.3, overlap_thr=0.3, stuff_area_limit=0,
                           drop_duplicates=drop_duplicates)
    torch.nn.init.zeros_(head.conv_stuff.weight)
    bases = torch.zeros(1, 2, 10, 14)
    bases[0, 0] = 1.0          # the object everywhere
    bases[0, 1, :, 7:] = 1.0   # its right half looks a little different
    masks = torch.ones(2, 20, 28, dtype=torch.bool)
    dets = InstanceData(labels=torch.tensor([0, 0]), scores=torch.tensor([0.9, 0.8]),
                        masks=masks, embeddings=torch.tensor([[5., 0.], [4., 2.]]))
    meta = dict(img_shape=(40, 56), ori_shape=(20, 28))
    pan = head.predict(bases, [dets], [meta])[0].sem_seg[0]
    segments = set(pan.unique().tolist())
    if drop_duplicates:
        assert segments == {0 + 1 * INSTANCE_OFFSET}
    else:
        assert segments == {0 + 1 * INSTANCE_OFFSET, 0 + 2 * INSTANCE_OFFSET}


@pytest.mark.parametrize('things_in_boxes', [False, True])
def test_things_in_boxes_separates_look_alike_instances(things_in_boxes):
    # two detections with the same embedding score the same at every basis pixel:
    # the global thing channels tie and the first takes both objects, unless each
    # channel is confined to its own box
    head = DR1PanopticHead(in_channels=1, num_things_classes=T, num_stuff_classes=S,
                           score_thr=0.3, stuff_area_limit=0, things_in_boxes=things_in_boxes)
    torch.nn.init.zeros_(head.conv_stuff.weight)
    h, w = 20, 28  # original size; the network input is twice as large
    boxes = torch.tensor([[0., 0., 10., 20.], [18., 0., 28., 20.]])
    masks = torch.zeros(2, h, w, dtype=torch.bool)
    masks[0, :, :10] = masks[1, :, 18:] = True
    dets = InstanceData(labels=torch.tensor([0, 1]), scores=torch.tensor([0.9, 0.8]),
                        masks=masks, bboxes=boxes, embeddings=torch.full((2, 1), 5.))
    meta = dict(img_shape=(40, 56), ori_shape=(h, w), scale_factor=(2.0, 2.0))
    pan = head.predict(torch.ones(1, 1, 10, 14), [dets], [meta])[0].sem_seg[0]
    if things_in_boxes:
        assert (pan[:, :8] == 0 + 1 * INSTANCE_OFFSET).all()
        assert (pan[:, 20:] == 1 + 2 * INSTANCE_OFFSET).all()
        assert (pan[:, 12:16] < INSTANCE_OFFSET).all()  # between the boxes: stuff
    else:
        assert (pan == 0 + 1 * INSTANCE_OFFSET).all()


def test_confine_to_boxes_scales_boxes_to_the_basis_grid_and_accepts_none():
    original = torch.zeros(1, 10, 14)
    # output box x 4..8, y 2..6 -> input (x2) 8..16, 4..12 -> basis (/4) 2..4, 1..3
    logits = confine_to_boxes(original, torch.tensor([[4., 2., 8., 6.]]), (2.0, 2.0), 4)
    assert (original == 0).all()  # a new tensor, the input untouched
    inside = (logits[0] == 0).nonzero()
    assert inside[:, 0].min() == 0 and inside[:, 0].max() == 4  # rows 1..3 grown by 1
    assert inside[:, 1].min() == 1 and inside[:, 1].max() == 5  # cols 2..4 grown by 1
    assert (logits[0, 6:] < -1e30).all()
    empty = confine_to_boxes(torch.zeros(0, 10, 14), torch.zeros(0, 4), (1.0, 1.0), 4)
    assert empty.shape == (0, 10, 14)


def test_things_in_boxes_confines_thing_channels_to_their_gt_box_in_the_loss():
    # one thing (GT box x, y in [0, 4)) whose channel would win everywhere: a pixel of
    # stuff outside the box costs log(1 + e^big) unconfined, log(S) once confined
    sample = panoptic_sample()
    sample.gt_instances.bboxes = torch.tensor([[0., 4, 4, 8], [4, 4, 6, 8], [0, 0, 2, 2]])
    bases = torch.zeros(1, 4, 4, 4)
    bases[:, 0] = 10.0
    positives = [InstanceData(gt_inds=torch.tensor([0]), embeddings=torch.tensor(
        [[1., 0, 0, 0]], requires_grad=True))]
    losses = {}
    for confined in (False, True):
        head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                               basis_stride=2, things_in_boxes=confined)
        torch.nn.init.zeros_(head.conv_stuff.weight)
        losses[confined] = head.loss(bases, positives, [sample])['loss_panoptic']
    # target at stride 2 (see test_target_map...): 9 stuff pixels, 2 of instance 0 (its
    # box covers basis cells x in [-1, 3], y in [1, 5]), instance 1 ignored (no positive)
    target = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                             basis_stride=2).get_targets(sample, torch.tensor([0]), (4, 4))
    valid = target != 255
    inside = torch.zeros(4, 4, dtype=torch.bool)
    inside[1:, :] = True  # rows y >= 1, every column (x <= 3)
    stuff_out = (valid & ~inside & (target < S)).sum()
    stuff_in = (valid & inside & (target < S)).sum()
    thing = (valid & (target == S)).sum()
    big = torch.tensor(10.0)
    unconfined = (stuff_out + stuff_in) * torch.log(S + torch.exp(big)) + \
        thing * torch.log(1 + S * torch.exp(-big))
    confined = stuff_out * torch.log(torch.tensor(float(S))) + \
        stuff_in * torch.log(S + torch.exp(big)) + thing * torch.log(1 + S * torch.exp(-big))
    torch.testing.assert_close(losses[False], unconfined / valid.sum())
    torch.testing.assert_close(losses[True], confined / valid.sum())
    losses[True].backward()  # the confinement keeps the graph differentiable
    assert positives[0].embeddings.grad is not None


def test_centre_distances_are_one_at_the_box_corners_on_the_basis_grid():
    # output box x 4..12, y 0..8 at scale 2, stride 4 -> basis box 2..6, 0..4: centre (4, 2)
    d2 = centre_distances(torch.tensor([[4., 0., 12., 8.]]), (2.0, 2.0), 4, (5, 7))
    assert d2.shape == (1, 5, 7)
    assert d2[0, 2, 4] == 0
    torch.testing.assert_close(d2[0, 0, 2], torch.tensor(1.0))  # corner (2, 0)
    torch.testing.assert_close(d2[0, 2, 6], torch.tensor(0.5))  # (4 / 2)^2 / 8


def test_position_prior_splits_look_alike_things_between_their_centres():
    """Two things with the same weights score alike everywhere; the prior gives each
    the pixels nearer its own centre, and its weight learns."""
    head = DR1PanopticHead(in_channels=2, num_things_classes=T, num_stuff_classes=S,
                           basis_stride=1, position_prior=True)
    torch.nn.init.zeros_(head.conv_stuff.weight)
    bases = torch.ones(2, 6, 12)
    weights = torch.tensor([[1., 1.], [1., 1.]])
    boxes = torch.tensor([[0., 0., 4., 6.], [8., 0., 12., 6.]])
    logits = head(bases, weights, boxes)
    channels = logits.argmax(0)
    assert (channels[:, :5] == S).all() and (channels[:, 7:] == S + 1).all()
    with pytest.raises(ValueError, match='needs the boxes'):
        head(bases, weights)
    logits.sum().backward()
    assert head.position_weight.grad is not None


@pytest.mark.parametrize('num_stuff,num_things,size', [
    (3, 0, (5, 7)), (2, 5, (48, 64)), (1, 4, (1, 1)), (4, 3, (33, 517))])
def test_the_cpu_position_prior_kernel_equals_the_tensor_form(num_stuff, num_things, size):
    """Same float32 operations in the same order: equal logits, also for boxes of no size
    (half diagonal clamped to 1) and boxes outside the basis."""
    kernels = cpu_kernels()
    if kernels is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    g = torch.Generator().manual_seed(num_things)
    logits = torch.randn(num_stuff + num_things, *size, generator=g)
    corner = torch.rand(num_things, 2, generator=g) * torch.tensor([size[1], size[0]]) * 6 - 8
    boxes = torch.cat([corner, corner + torch.rand(num_things, 2, generator=g) * 40], 1)
    if num_things > 1:
        boxes[1, 2:] = boxes[1, :2]  # no size
    weight, scale = torch.tensor(0.7), (1.25, 0.8)
    expected = torch.cat([logits[:num_stuff], logits[num_stuff:] - weight * centre_distances(
        boxes, scale, 4, size)])
    got = kernels.subtract_position_prior(logits.clone(), boxes_on_basis(boxes, scale, 4),
                                          float(weight), num_stuff)
    assert torch.equal(got, expected)
    with torch.no_grad():  # the head's function, which takes the kernel here
        assert torch.equal(subtract_position_prior(logits.clone(), num_stuff, boxes, scale, 4,
                                                   weight), expected)


def test_the_position_prior_kernel_runs_only_in_cpu_inference_and_gives_the_same_logits(
        monkeypatch):
    """Training (autograd) and export tracing take the tensor form; inference the kernel,
    with the same logits."""
    kernels = cpu_kernels()
    if kernels is None:
        pytest.skip('the CPU panoptic kernels cannot be built here (no C++ compiler?)')
    calls = []

    class Counting:
        def subtract_position_prior(self, *args):
            calls.append(1)
            return kernels.subtract_position_prior(*args)
    monkeypatch.setattr(dr1_panoptic_head, 'cpu_kernels', Counting)
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                           basis_stride=4, position_prior=True).eval()
    torch.nn.init.constant_(head.position_weight, 0.3)
    bases, weights = torch.randn(4, 6, 9), torch.randn(2, 4)
    boxes = torch.tensor([[0., 0., 12., 20.], [10., 4., 30., 22.]])
    trained = head(bases, weights, boxes, (1.0, 1.0))
    trained.sum().backward()
    assert head.position_weight.grad != 0 and calls == []
    with torch.no_grad():
        traced = torch.jit.trace(Traced(head, weights, boxes), bases, check_trace=False)
        assert calls == []
        inferred = head(bases, weights, boxes, (1.0, 1.0))
    assert calls == [1]
    torch.testing.assert_close(inferred, trained.detach(), rtol=0, atol=0)
    torch.testing.assert_close(traced(bases), inferred, rtol=0, atol=0)


class Traced(torch.nn.Module):
    def __init__(self, head: DR1PanopticHead, weights: torch.Tensor, boxes: torch.Tensor):
        super().__init__()
        self.head, self.weights, self.boxes = head, weights, boxes

    def forward(self, bases: torch.Tensor) -> torch.Tensor:
        return self.head(bases, self.weights, self.boxes, (1.0, 1.0))


def test_position_prior_is_used_in_the_loss_with_the_gt_boxes():
    sample = panoptic_sample()
    sample.gt_instances.bboxes = torch.tensor([[0., 4, 4, 8], [4, 4, 6, 8], [0, 0, 2, 2]])
    bases = torch.randn(1, 4, 4, 4)
    positives = [InstanceData(gt_inds=torch.tensor([0]), embeddings=torch.randn(1, 4))]
    head = DR1PanopticHead(in_channels=4, num_things_classes=T, num_stuff_classes=S,
                           basis_stride=2, position_prior=True)
    loss = head.loss(bases, positives, [sample])['loss_panoptic']
    loss.backward()
    assert head.position_weight.grad is not None and head.position_weight.grad != 0
