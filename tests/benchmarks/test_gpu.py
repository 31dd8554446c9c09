"""benchmarks/gpu/: the float64 references of check_ops.py, and part_times.py (on CPU)."""
import importlib.util
import json
import os.path as osp
import sys
from types import ModuleType

import torch
from conftest import REPO_ROOT
from mmcv.ops import RoIAlign, nms

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic-panoptic.py')


def load(name: str) -> ModuleType:
    """Import a script under ``benchmarks/gpu/`` by its name."""
    path = osp.join(REPO_ROOT, 'benchmarks', 'gpu', name)
    spec = importlib.util.spec_from_file_location(osp.splitext(name)[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_references_agree_with_mmcvs_compiled_roi_align_and_nms():
    """The references the GPU stand-in is checked against give what mmcv's kernels give."""
    check = load('check_ops.py')
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 3, 25, 38, generator=gen)
    boxes = check.random_boxes(12, 152, 100, gen) / 4  # partly outside the image too
    rois = torch.cat([torch.randint(0, 2, (12, 1), generator=gen).float(), boxes], 1)
    for size, sampling in [(7, 1), (5, 0), (4, 2)]:
        ref = check.reference_roi_align(feats, rois, size, 0.25, sampling)
        out = RoIAlign(size, spatial_scale=0.25, sampling_ratio=sampling, aligned=True)(
            feats, rois)
        assert (out.double() - ref).abs().max() <= 1e-5 * ref.abs().max()
    boxes = check.random_boxes(300, 300, 200, gen)
    scores = torch.rand(300, generator=gen)
    _, keep = nms(boxes, scores, 0.5)
    assert keep.tolist() == check.reference_nms(boxes, scores, 0.5)


def test_part_times_times_every_part_of_each_model(synthetic_root, tmp_path, monkeypatch):
    parts = load('part_times.py')
    out = tmp_path / 'parts.json'
    monkeypatch.setattr(sys, 'argv', [
        'part_times.py', TINY, '--images', osp.join(synthetic_root, 'val'), '--num-images', '2',
        '--warmup', '1', '--device', 'cpu', '--out', str(out)])
    parts.main()
    report = json.loads(out.read_text())
    (row, ) = report['models']
    assert row['median_ms'] > 0
    assert {'backbone.forward', 'bbox_head.predict_with_embeddings', 'basis_head.forward',
            'mask_head.predict', 'panoptic_head.predict'} <= set(row['parts'])
    # a part includes the parts it calls
    assert row['parts']['bbox_head.predict_with_embeddings'] >= row['parts']['bbox_head.forward']
