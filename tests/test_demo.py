"""The main job (tools/run_demo.py): dataset, tiny DR1Mask training, AP, pictures."""
import json
import os

import cv2
import pytest
from conftest import load_tool


@pytest.mark.slow
def test_demo_trains_evaluates_and_draws(tmp_path):
    demo = load_tool('run_demo.py')
    metrics = demo.main(['--work-dir', str(tmp_path), '--iters', '30', '--num-train', '8',
                         '--num-val', '2', '--img-size', '96', '128', '--num-pictures', '2'])
    assert sorted(os.listdir(tmp_path / 'data' / 'annotations')) == [
        'instances_train.json', 'instances_val.json', 'panoptic_train', 'panoptic_train.json',
        'panoptic_val', 'panoptic_val.json']
    assert (tmp_path / 'train' / 'iter_30.pth').is_file()
    with open(tmp_path / 'metrics.json') as f:
        assert json.load(f) == metrics
    assert 0 <= metrics['coco/segm_mAP'] <= 1 and 0 <= metrics['coco/bbox_mAP'] <= 1
    pictures = sorted(os.listdir(tmp_path / 'pictures'))
    assert len(pictures) == 2
    picture = cv2.imread(str(tmp_path / 'pictures' / pictures[0]))
    assert picture.shape == (96, 2 * 128, 3)  # ground truth | prediction
