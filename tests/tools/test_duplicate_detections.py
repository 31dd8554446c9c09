"""tools/analysis_tools/duplicate_detections.py counts the detections whose mask repeats a
higher-scored detection's (mask IoU above a threshold)."""
import copy
import os.path as osp

import torch
from conftest import REPO_ROOT, load_tool
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

from mmdet_dr1mask.support import SYNTHETIC_PANOPTIC_METAINFO

TINY_PAN = osp.join(REPO_ROOT, 'configs', 'dr1mask',
                    'dr1mask_r18_fpn_tiny_synthetic-panoptic.py')


def test_a_duplicate_is_a_mask_repeating_an_earlier_one():
    tool = load_tool('analysis_tools/duplicate_detections.py')
    masks = torch.zeros(4, 4, 4, dtype=torch.bool)
    masks[0, :2, :2] = masks[1, :2, :2] = True  # IoU 1 with mask 0
    masks[1, 2, 0] = True                       # still IoU 0.8
    masks[2, 2:, 2:] = True                     # alone
    masks[3, :2, 1:3] = True                    # IoU 1/3 with mask 0
    assert tool.count_duplicates(masks, 0.5) == 1
    assert tool.count_duplicates(masks, 0.9) == 0
    assert tool.count_duplicates(masks, 0.3) == 2
    assert tool.count_duplicates(masks[:1], 0.5) == 0


def test_counts_over_a_folder_of_images(synthetic_root, tmp_path):
    register_all_modules()
    model = MODELS.build(copy.deepcopy(Config.fromfile(TINY_PAN).model))
    model.init_weights()
    checkpoint = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=SYNTHETIC_PANOPTIC_METAINFO)), checkpoint)
    tool = load_tool('analysis_tools/duplicate_detections.py')
    result = tool.main([TINY_PAN, checkpoint, osp.join(synthetic_root, 'val'),
                        '--score-thr', '0', '--cfg-options', 'model.test_cfg.score_thr=0'])
    assert result['images'] == 3
    assert 0 <= result['duplicates'] <= result['detections']
    assert result['detections'] > 0  # score threshold 0: every kept detection counts
