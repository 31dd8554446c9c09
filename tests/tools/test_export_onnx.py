"""tools/deployment/export_onnx.py writes a graph that ONNX Runtime runs with PyTorch's
results, and benchmark.py times it beside PyTorch (--backends)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, build_tiny_model, load_tool

pytest.importorskip('onnxruntime')
CONFIG = osp.join(REPO_ROOT, 'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py')


@pytest.fixture
def tiny_checkpoint(tmp_path) -> str:
    path = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=build_tiny_model('DR1Mask-panoptic').state_dict()), path)
    return path


def write_images(folder, sizes):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i, (h, w) in enumerate(sizes):
        cv2.imwrite(str(folder / f'{i}.png'), rng.integers(0, 256, (h, w, 3), np.uint8))
    return str(folder)


def test_export_tool_writes_a_graph_that_passes_its_own_verification(tiny_checkpoint, tmp_path):
    images = write_images(tmp_path / 'images', [(96, 128), (33, 517), (200, 90)])
    out = str(tmp_path / 'tiny.onnx')
    status = load_tool('deployment/export_onnx.py').main([
        CONFIG, tiny_checkpoint, '--out', out, '--verify', images,
        '--cfg-options', 'model.test_cfg.score_thr=0.0', 'model.panoptic_head.score_thr=0.0'])
    assert status == 0 and osp.isfile(out)


def test_export_tool_names_a_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_tool('deployment/export_onnx.py').main([CONFIG, str(tmp_path / 'nope.pth')])


def test_benchmark_times_pytorch_and_onnx_runtime_side_by_side(tiny_checkpoint, tmp_path):
    images = write_images(tmp_path / 'images', [(96, 128), (64, 64)])
    rows = load_tool('analysis_tools/benchmark.py').main([
        CONFIG, '--checkpoint', tiny_checkpoint, '--images', images, '--num-images', '2',
        '--warmup', '1', '--same-detections', '--backends', 'pytorch', 'onnxruntime',
        '--onnx-dir', str(tmp_path / 'onnx')])
    assert [r['model'] for r in rows] == [
        'dr1mask_r18_fpn_tiny_synthetic-panoptic',
        'dr1mask_r18_fpn_tiny_synthetic-panoptic [onnxruntime]']
    assert rows[0]['mean_detections'] == rows[1]['mean_detections'] == 100  # forced
    assert osp.isfile(tmp_path / 'onnx' / 'dr1mask_r18_fpn_tiny_synthetic-panoptic.onnx')


def test_benchmark_lets_onnx_runtime_spin_only_when_the_graph_runs_alone(
        tiny_checkpoint, tmp_path, monkeypatch):
    """Interleaved with PyTorch, spinning ONNX Runtime threads would take the cores from
    PyTorch's turn; a graph alone in its process runs as deployed (ONNX Runtime's default)."""
    import mmdet_dr1mask.deploy as deploy
    seen = []

    class Recording(deploy.OnnxRuntimeSegmentor):
        def __init__(self, *args, allow_spinning=True, **kwargs):
            seen.append(allow_spinning)
            super().__init__(*args, allow_spinning=allow_spinning, **kwargs)

    monkeypatch.setattr(deploy, 'OnnxRuntimeSegmentor', Recording)
    images = write_images(tmp_path / 'images', [(64, 64)])
    tool = load_tool('analysis_tools/benchmark.py')
    for backends in (['pytorch', 'onnxruntime'], ['onnxruntime']):
        out = tmp_path / 'report.json'
        tool.main([CONFIG, '--checkpoint', tiny_checkpoint, '--images', images,
                   '--num-images', '1', '--warmup', '0', '--backends', *backends,
                   '--onnx-dir', str(tmp_path / 'onnx'), '--out', str(out)])
        assert json.loads(out.read_text())['onnxruntime_spinning'] is seen[-1]
    assert seen == [False, True]


def test_benchmark_names_the_configs_when_no_graph_can_be_timed(tmp_path):
    """K-Net has no ONNX export: with ONNX Runtime as the only backend nothing is left to
    time, which is named (it was a ZeroDivisionError in the order of the runs)."""
    images = write_images(tmp_path / 'images', [(64, 64)])
    knet = osp.join(REPO_ROOT, 'configs/knet/knet-s3_r18_fpn_tiny_synthetic.py')
    with pytest.raises(ValueError, match=r'knet-s3_r18_fpn_tiny_synthetic\.py.*add pytorch'):
        load_tool('analysis_tools/benchmark.py').main([
            knet, '--images', images, '--num-images', '1', '--warmup', '0',
            '--backends', 'onnxruntime', '--onnx-dir', str(tmp_path / 'onnx')])
