"""The CPU panoptic kernels' loader: switched off by the environment, and a build that
fails leaves the tensor forms with one warning. (The build flags: test_cpu_extension.py;
what the kernels compute is checked against the tensor forms in test_aligned_argmax.py and
test_dr1_panoptic_head.py.)"""
import warnings

import pytest
import torch

from mmdet_dr1mask.models import cpu_extension
from mmdet_dr1mask.models.seg_heads import panoptic_kernels
from mmdet_dr1mask.models.seg_heads.aligned_argmax import AlignedArgmax, ArgmaxParts
from mmdet_dr1mask.models.seg_heads.dr1_panoptic_head import duplicate_things


def test_the_source_ships_beside_the_loader():
    assert panoptic_kernels.SOURCE.is_file()
    text = panoptic_kernels.SOURCE.read_text()
    for name in panoptic_kernels.FUNCTIONS:
        assert f' {name}(' in text


def test_a_failed_build_warns_once_and_the_tensor_forms_run(monkeypatch):
    def no_compiler(*args, **kwargs):
        raise RuntimeError('no C++ compiler')
    monkeypatch.setattr('torch.utils.cpp_extension.load_inline', no_compiler)
    monkeypatch.setattr(cpu_extension, '_BUILT', {})
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', '1')
    with pytest.warns(UserWarning, match='no C\\+\\+ compiler'):
        assert panoptic_kernels.cpu_kernels() is None
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # not tried again in this process
        resample = AlignedArgmax((4, 5), (16, 20), (16, 20), 4, 'cpu')
        assert isinstance(resample.parts(torch.randn(3, 4, 5)), ArgmaxParts)
        masks = torch.zeros(2, 4, 4, dtype=torch.bool)
        masks[:, :2] = True
        assert duplicate_things(masks, masks.flatten(1).sum(1), torch.ones(2, dtype=torch.bool),
                                0.5).tolist() == [False, True]
