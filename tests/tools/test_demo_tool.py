"""tools/demo.py draws instance and panoptic predictions of a checkpoint into PNGs."""
import copy
import os.path as osp

import cv2
import pytest
import torch
from conftest import REPO_ROOT, load_tool
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

from mmdet_dr1mask.support import SYNTHETIC_PANOPTIC_METAINFO

TINY_PAN = osp.join(REPO_ROOT, 'configs', 'dr1mask',
                    'dr1mask_r18_fpn_tiny_synthetic-panoptic.py')


@pytest.fixture
def panoptic_checkpoint(tmp_path):
    register_all_modules()
    cfg = Config.fromfile(TINY_PAN)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    path = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=SYNTHETIC_PANOPTIC_METAINFO)), path)
    return path


def test_demo_writes_one_png_per_image(panoptic_checkpoint, synthetic_root, tmp_path):
    demo = load_tool('demo.py')
    out_dir = tmp_path / 'pictures'
    files = demo.main([osp.join(synthetic_root, 'val'), TINY_PAN, '--weights',
                       panoptic_checkpoint, '--out-dir', str(out_dir), '--score-thr', '0'])
    assert [osp.basename(f) for f in files] == [
        '000000000001.png', '000000000002.png', '000000000003.png']
    picture = cv2.imread(files[0])
    assert picture.shape == (96, 2 * 128, 3)  # image | prediction


def test_missing_input_or_weights_are_clear_errors(tmp_path, panoptic_checkpoint):
    demo = load_tool('demo.py')
    with pytest.raises(FileNotFoundError, match='no such image or folder'):
        demo.main([str(tmp_path / 'x.jpg'), TINY_PAN, '--weights', panoptic_checkpoint])
    image = tmp_path / 'a.jpg'
    cv2.imwrite(str(image), 128 * torch.ones(8, 8, 3).numpy())
    with pytest.raises(FileNotFoundError, match='no such checkpoint'):
        demo.main([str(image), TINY_PAN, '--weights', str(tmp_path / 'none.pth')])


def test_show_gt_draws_ground_truth_beside_the_panoptic_prediction(panoptic_checkpoint,
                                                                  synthetic_root, tmp_path):
    demo = load_tool('demo.py')
    val = osp.join(synthetic_root, 'val')
    files = demo.main([val, TINY_PAN, '--weights', panoptic_checkpoint, '--out-dir',
                       str(tmp_path), '--score-thr', '0', '--show-gt', '--data-root',
                       synthetic_root])
    assert len(files) == 3
    picture = cv2.imread(files[0])
    assert picture.shape == (96, 2 * 128, 3)  # ground truth | prediction
    gt = demo.GroundTruth(TINY_PAN, synthetic_root)(osp.join(val, '000000000001.jpg'))
    assert gt.gt_panoptic_seg.sem_seg.shape[-2:] == (96, 128)  # original size
    assert len(gt.gt_instances) > 0
    # the left half shows the ground truth: it differs from the photo itself
    photo = cv2.imread(osp.join(val, '000000000001.jpg'))
    assert (abs(picture[:, :128].astype(int) - photo.astype(int)).mean()) > 5


def test_show_gt_names_an_image_outside_the_test_dataset(panoptic_checkpoint, synthetic_root,
                                                         tmp_path):
    demo = load_tool('demo.py')
    stranger = tmp_path / 'stranger.jpg'
    cv2.imwrite(str(stranger), 128 * torch.ones(8, 8, 3).numpy())
    with pytest.raises(KeyError, match='stranger.jpg is not an image of'):
        demo.main([str(stranger), TINY_PAN, '--weights', panoptic_checkpoint, '--out-dir',
                   str(tmp_path / 'o'), '--show-gt', '--data-root', synthetic_root])


def test_onnx_graph_draws_the_pictures_the_checkpoint_draws(panoptic_checkpoint, synthetic_root,
                                                             tmp_path):
    pytest.importorskip('onnxruntime')
    graph = str(tmp_path / 'tiny.onnx')
    assert load_tool('deployment/export_onnx.py').main([TINY_PAN, panoptic_checkpoint,
                                                        '--out', graph]) == 0
    demo = load_tool('demo.py')
    val = osp.join(synthetic_root, 'val')
    pictures = {}
    sources = {'torch': ['--weights', panoptic_checkpoint], 'onnx': ['--onnx', graph]}
    for name, source in sources.items():
        pictures[name] = demo.main([val, TINY_PAN, *source, '--out-dir', str(tmp_path / name),
                                    '--score-thr', '0'])
        gt = demo.main([val, TINY_PAN, *source, '--out-dir', str(tmp_path / f'{name}_gt'),
                        '--show-gt', '--data-root', synthetic_root])
        assert len(gt) == 3
    for torch_png, onnx_png in zip(pictures['torch'], pictures['onnx']):
        a, b = cv2.imread(torch_png).astype(float), cv2.imread(onnx_png).astype(float)
        assert a.shape == b.shape and abs(a - b).mean() < 1.0  # the same drawing


def test_onnx_option_names_a_missing_graph(tmp_path, synthetic_root):
    with pytest.raises(FileNotFoundError, match='nope.onnx'):
        load_tool('demo.py').main([osp.join(synthetic_root, 'val'), TINY_PAN, '--onnx',
                                   str(tmp_path / 'nope.onnx')])
