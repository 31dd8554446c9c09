"""tools/analysis_tools/get_flops.py counts our models' networks at any (padded) size."""
import os.path as osp

from conftest import REPO_ROOT, load_tool

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


def test_flops_grow_with_the_input_and_the_input_is_padded_to_four():
    tool = load_tool('analysis_tools/get_flops.py')
    small = tool.main([TINY, '--shape', '97', '131'])
    large = tool.main([TINY, '--shape', '194', '262'])
    assert small['input_shape'] == (100, 132)  # pad_size_divisor=4
    assert small['params'] == large['params'] > 0
    assert 3 < large['flops'] / small['flops'] < 5


def test_flops_from_a_real_image_of_a_folder(synthetic_root):
    tool = load_tool('analysis_tools/get_flops.py')
    result = tool.main([TINY, '--images', osp.join(synthetic_root, 'val')])
    assert result['flops'] > 0 and result['input_shape'][0] % 4 == 0
