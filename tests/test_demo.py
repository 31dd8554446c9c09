"""The main job (tools/run_demo.py) writes the dataset and pictures of it."""
import os

import cv2
from conftest import load_tool


def test_demo_writes_dataset_and_pictures(tmp_path):
    demo = load_tool('run_demo.py')
    demo.main(['--work-dir', str(tmp_path), '--num-train', '2', '--num-val', '3',
               '--img-size', '64', '96', '--num-pictures', '2'])
    assert sorted(os.listdir(tmp_path / 'data' / 'annotations')) == [
        'instances_train.json', 'instances_val.json', 'panoptic_train', 'panoptic_train.json',
        'panoptic_val', 'panoptic_val.json']
    pictures = sorted(os.listdir(tmp_path / 'pictures'))
    assert len(pictures) == 2
    picture = cv2.imread(str(tmp_path / 'pictures' / pictures[0]))
    assert picture.shape == (64, 3 * 96, 3)  # image | instances | panoptic
