"""tools/demo.py draws instance and panoptic predictions of a checkpoint into PNGs; a file
that is not a readable image is skipped, named, and reported at the end."""
import copy
import os.path as osp
import shutil

import cv2
import numpy as np
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
def test_grayscale_rgba_16_bit_and_1x1_images_are_drawn(panoptic_checkpoint, tmp_path):
    demo = load_tool('demo.py')
    folder = tmp_path / 'images'
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = {
        'gray.png': rng.integers(0, 256, (40, 56), dtype=np.uint8),
        'rgba.png': rng.integers(0, 256, (40, 56, 4), dtype=np.uint8),
        'sixteen_bit.png': rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16),
        'one_pixel.png': np.full((1, 1, 3), 200, dtype=np.uint8),
    }
    for name, image in images.items():
        assert cv2.imwrite(str(folder / name), image)
    files = demo.main([str(folder), TINY_PAN, '--weights', panoptic_checkpoint, '--out-dir',
                       str(tmp_path / 'out')])
    assert sorted(osp.basename(f) for f in files) == sorted(images)
    for f in files:
        h, w = images[osp.basename(f)].shape[:2]
        assert cv2.imread(f).shape == (h, 2 * w, 3)  # image | prediction, 8-bit colour


def test_unreadable_files_are_skipped_named_and_reported(panoptic_checkpoint, synthetic_root,
                                                         tmp_path):
    demo = load_tool('demo.py')
    folder = tmp_path / 'images'
    folder.mkdir()
    shutil.copy(osp.join(synthetic_root, 'val', '000000000001.jpg'), folder / 'a_good.jpg')
    (folder / 'b_empty.jpg').write_bytes(b'')
    (folder / 'c_text.png').write_text('not an image')
    shutil.copy(osp.join(synthetic_root, 'val', '000000000002.jpg'), folder / 'd_good.jpg')
    out_dir = tmp_path / 'out'
    with pytest.warns(UserWarning, match='b_empty.jpg: not a readable image') as warned, \
            pytest.raises(SystemExit) as stopped:
        demo.main([str(folder), TINY_PAN, '--weights', panoptic_checkpoint, '--out-dir',
                   str(out_dir)])
    assert any('c_text.png: not a readable image' in str(w.message) for w in warned)
    # the run went on past the bad files, then stopped with status 1 listing them
    assert sorted(p.name for p in out_dir.iterdir()) == ['a_good.png', 'd_good.png']
    message = stopped.value.code
    assert isinstance(message, str)  # SystemExit(str): exit status 1
    assert message.startswith('2 file(s) skipped')
    assert 'b_empty.jpg: not a readable image (empty file)' in message
    assert 'c_text.png: not a readable image' in message
