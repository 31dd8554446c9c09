"""The ONNX graph of DR1Mask and BlendMask (post-processing included) run by ONNX Runtime
gives PyTorch's results: same detections, boxes within 1e-3 relative, mask IoU >= 0.99,
>= 99.5 % of panoptic pixels equal, on odd image sizes and with zero detections."""
import copy
from typing import Optional

import numpy as np
import pytest
import torch
from conftest import build_tiny_model, image_batch, set_score_thr, tiny_model_config

from mmdet_dr1mask.deploy import ExportableSegmentor, OnnxRuntimeSegmentor, export_onnx
from mmdet_dr1mask.deploy.onnx_graph import (
    OPSET,
    bilinear_weights,
    paste_masks_separable,
    resample_aligned,
)
from mmdet_dr1mask.deploy.ort_backend import graph_inputs
from mmdet_dr1mask.deploy.parity import compare, within_limits

pytest.importorskip('onnxruntime')

# (original h, w, resize scale): the export size, odd and extreme aspect ratios, a resize
SIZES = [(96, 128, 1.0), (33, 517, 1.0), (517, 33, 1.0), (150, 102, 0.5)]


def exported(name: str, tmp_path, score_thr: float = 0.0, nms_pre: Optional[int] = None,
             **panoptic):
    """Tiny model ``name`` (seed 0), its config, and its graph in ONNX Runtime."""
    cfg = tiny_model_config(name)
    cfg.model.panoptic_head = dict(cfg.model.get('panoptic_head') or {}, **panoptic) \
        if panoptic else cfg.model.get('panoptic_head')
    model = build_tiny_model(cfg.model).eval()
    set_score_thr(model, score_thr)
    if nms_pre is not None:
        model.bbox_head.test_cfg.nms_pre = nms_pre
    path = str(tmp_path / f'{name}.onnx')
    with torch.no_grad():
        batch = model.data_preprocessor(copy.deepcopy(image_batch(96, 128)), False)
        export_onnx(model, graph_inputs(batch)[0], path)
    return model, OnnxRuntimeSegmentor(path, cfg, ['CPUExecutionProvider'])


def parity(model, runtime, h: int, w: int, scale: float) -> dict:
    torch.manual_seed(h * w)
    batch = image_batch(h, w, scale)
    with torch.no_grad():
        reference = model.test_step(copy.deepcopy(batch))[0]
    result = runtime.test_step(copy.deepcopy(batch))[0]
    stats = compare(reference, result)
    assert not within_limits(stats), (h, w, scale, stats)
    assert result.pred_instances.masks.shape[-2:] == (h, w)
    return stats


@pytest.mark.parametrize('name, panoptic', [
    ('DR1Mask', {}), ('BlendMask', {}), ('DR1Mask-panoptic', {}),
    ('DR1Mask-panoptic', dict(things_in_boxes=True)),
    ('DR1Mask-panoptic', dict(position_prior=True)),
    ('DR1Mask-panoptic', dict(drop_duplicates=False))],
    ids=['DR1Mask', 'BlendMask', 'DR1Mask-panoptic', 'things_in_boxes', 'position_prior',
         'keeping_duplicates'])
def test_onnx_runtime_gives_pytorch_results_on_images_of_any_size(name, panoptic, tmp_path):
    model, runtime = exported(name, tmp_path, **panoptic)
    for h, w, scale in SIZES:
        stats = parity(model, runtime, h, w, scale)
        assert stats['detections'] > 0  # score threshold 0: the graph keeps max_per_img
        if name.endswith('panoptic'):
            assert 'panoptic_equal' in stats


@pytest.mark.parametrize('score_thr, nms_pre', [(0.0, 5), (0.0055, 40), (0.0055, -1)])
def test_top_k_before_the_threshold_keeps_the_detections_of_threshold_then_sort(
        score_thr, nms_pre, tmp_path):
    """The graph takes the nms_pre best scores of a level and then thresholds them;
    MMDetection thresholds, sorts all and cuts. nms_pre 5 is below the number of scores of
    most levels and above it on the smallest (k = the level's size); at threshold 0.0055,
    40 is below the number passing on P3 and above it on the other levels."""
    model, runtime = exported('DR1Mask', tmp_path, score_thr=score_thr, nms_pre=nms_pre)
    for h, w, scale in SIZES:
        stats = parity(model, runtime, h, w, scale)
        assert stats['detections'] > 0


@pytest.mark.parametrize('name', ['DR1Mask', 'DR1Mask-panoptic'])
def test_onnx_runtime_returns_empty_results_when_nothing_is_detected(name, tmp_path):
    model, runtime = exported(name, tmp_path, score_thr=1.01)
    result = runtime.test_step(image_batch(33, 517))[0]
    assert len(result.pred_instances) == 0
    assert result.pred_instances.masks.shape == (0, 33, 517)
    assert result.pred_instances.bboxes.shape == (0, 4)
    parity(model, runtime, 33, 517, 1.0)
    if name.endswith('panoptic'):  # stuff or void only
        assert (result.pred_panoptic_seg.sem_seg < 1000).all()


@pytest.mark.parametrize('name', ['BlendMask-panoptic', 'KNet'])
def test_export_refuses_models_it_does_not_cover(name):
    model = build_tiny_model(name).eval()
    with pytest.raises(TypeError, match='ONNX export'):
        ExportableSegmentor(model)


def test_duplicate_filter_is_an_onnx_loop_with_pytorch_results(tmp_path):
    import onnx
    import onnxruntime as ort

    from mmdet_dr1mask.models.seg_heads.dr1_panoptic_head import duplicate_things

    class Filter(torch.nn.Module):
        def forward(self, masks, candidates):
            return torch.jit.script(duplicate_things)(masks, masks.flatten(1).sum(1),
                                                      candidates, 0.5)

    path = str(tmp_path / 'filter.onnx')
    masks = torch.zeros(3, 6, 6, dtype=torch.bool)
    masks[:, :3, :3] = True
    torch.onnx.export(Filter(), (masks, torch.ones(3, dtype=torch.bool)), path, dynamo=False,
                      opset_version=17, input_names=['masks', 'candidates'],
                      dynamic_axes=dict(masks=[0, 1, 2], candidates=[0]))
    def op_types(graph):  # with those of subgraphs (the branches of an If)
        for node in graph.node:
            yield node.op_type
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    yield from op_types(attr.g)

    assert 'Loop' in set(op_types(onnx.load(path).graph))
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    generator = torch.Generator().manual_seed(0)
    for k, h, w in [(0, 5, 5), (1, 3, 4), (7, 9, 13), (30, 16, 16)]:
        # random boxes: many overlap by more than half, many do not
        masks = torch.zeros(k, h, w, dtype=torch.bool)
        for i in range(k):
            y, x = torch.randint(0, h, (2, ), generator=generator).tolist()
            dy, dx = torch.randint(1, max(h, w), (2, ), generator=generator).tolist()
            masks[i, y:y + dy, x:x + dx] = True
        candidates = torch.rand(k, generator=generator) > 0.2
        (got, ) = session.run(None, dict(masks=masks.numpy(), candidates=candidates.numpy()))
        expected = duplicate_things(masks, masks.flatten(1).sum(1), candidates, 0.5)
        assert got.tolist() == expected.tolist(), (k, h, w)
    # past 2**24 pixels float32 counts are inexact: 2**24 + 1 pixels of the second mask
    # (area 2**25 + 2, limit 2**24) lie on the first, a duplicate by one pixel
    h, w = 4096, 8193
    masks = torch.zeros(2, h * w, dtype=torch.bool)
    masks[0, :2**24 + 1] = True
    masks[1, :2**25 + 2] = True
    masks = masks.view(2, h, w)
    (got, ) = session.run(None, dict(masks=masks.numpy(), candidates=np.ones(2, dtype=bool)))
    assert got.tolist() == [False, True]


def test_separable_mask_pasting_equals_grid_sample_pasting():
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    torch.manual_seed(0)
    probs = torch.rand(5, 14, 14)
    boxes = torch.tensor([[3., 4., 40., 30.], [0., 0., 64., 48.], [10.5, 2.2, 11.5, 9.],
                          [-5., -3., 20., 70.], [50., 40., 63., 47.]])
    expected = _do_paste_mask(probs[:, None], boxes, 48, 64, skip_empty=False)[0]
    got = paste_masks_separable(probs, boxes, torch.tensor(48), torch.tensor(64))
    assert torch.allclose(got, expected, atol=1e-5)


def test_bilinear_weights_are_the_hat_function_with_zero_padding():
    weights = bilinear_weights(torch.tensor([0., 0.25, 2.0, -0.5, 3.5]), 3)
    assert torch.allclose(weights, torch.tensor([
        [1., 0., 0.], [0.75, 0.25, 0.], [0., 0., 1.], [0.5, 0., 0.], [0., 0., 0.]]))


GEOMETRIES = [  # (h, w) basis, (H_i, W_i) input image, (H_o, W_o) output, stride
    ((8, 12), (30, 45), (61, 90), 4), ((16, 20), (62, 80), (20, 33), 4),
    ((5, 6), (20, 24), (1, 1), 4), ((9, 130), (33, 517), (33, 517), 4),
    ((1, 7), (4, 28), (3, 50), 4)]


def _clamped_resampling(logits, img_shape, out_shape, stride):
    """The aligned resampling with clamped coordinates (AlignedArgmax's definition)."""
    def axis(size_out, size_in, size_basis):
        coord = ((torch.arange(size_out) + 0.5) * size_in / size_out - 0.5) / stride
        return bilinear_weights(coord.clamp(0, size_basis - 1), size_basis)
    return axis(out_shape[0], img_shape[0], logits.size(1)) @ logits @ \
        axis(out_shape[1], img_shape[1], logits.size(2)).t()


@pytest.mark.parametrize('basis, img_shape, out_shape, stride', GEOMETRIES)
def test_panoptic_resampling_by_crop_and_resize_equals_the_clamped_definition(
        basis, img_shape, out_shape, stride):
    torch.manual_seed(0)
    logits = torch.randn(6, *basis)
    resampled = resample_aligned(logits, torch.tensor(img_shape), torch.tensor(out_shape[0]),
                                 torch.tensor(out_shape[1]), stride)
    expected = _clamped_resampling(logits, img_shape, out_shape, stride)
    assert resampled.shape == (1, *expected.shape)
    # float32 coordinates from the region's ends: off by up to ~1e-5 of a basis pixel
    assert torch.allclose(resampled[0], expected, atol=1e-4)


def test_panoptic_resampling_is_one_resize_in_onnx_runtime_at_any_size(tmp_path):
    """Exported once, at one geometry; ONNX Runtime's Resize gives the definition's values at
    every geometry (sizes stay dynamic)."""
    import onnx
    import onnxruntime as ort

    class Resample(torch.nn.Module):
        def forward(self, logits, img_shape, out_h, out_w):
            resampled = resample_aligned(logits, img_shape, out_h, out_w, 4)
            return resampled.argmax(1)[0], resampled

    def inputs(basis, img_shape, out_shape):
        return (torch.randn(6, *basis), torch.tensor(img_shape), torch.tensor(out_shape[0]),
                torch.tensor(out_shape[1]))

    path = str(tmp_path / 'resample.onnx')
    torch.onnx.export(Resample(), inputs(*GEOMETRIES[0][:3]), path, dynamo=False,
                      opset_version=OPSET, input_names=['logits', 'img_shape', 'h', 'w'],
                      dynamic_axes={'logits': {0: 'c', 1: 'bh', 2: 'bw'}})
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops.count('Resize') == 1 and 'MatMul' not in ops
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    torch.manual_seed(0)
    for basis, img_shape, out_shape, stride in GEOMETRIES:
        feeds = inputs(basis, img_shape, out_shape)
        channels, resampled = session.run(None, dict(zip(
            ['logits', 'img_shape', 'h', 'w'], (t.numpy() for t in feeds))))
        expected = _clamped_resampling(feeds[0], img_shape, out_shape, stride)
        assert np.allclose(resampled[0], expected.numpy(), atol=1e-3), basis
        assert (channels == expected.argmax(0).numpy()).mean() > 0.99, basis
