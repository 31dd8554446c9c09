"""mmdet_dr1mask/deploy/ort_backend.py: the execution providers a session is given."""
import pytest

from mmdet_dr1mask.deploy.ort_backend import default_providers

ort = pytest.importorskip('onnxruntime')


@pytest.mark.parametrize('available, expected', [
    (['CPUExecutionProvider'], ['CPUExecutionProvider']),
    (['AzureExecutionProvider', 'CPUExecutionProvider'], ['CPUExecutionProvider']),
    (['CPUExecutionProvider', 'CUDAExecutionProvider'],
     ['CUDAExecutionProvider', 'CPUExecutionProvider']),
])
def test_default_providers_put_cuda_first_when_the_build_has_it(monkeypatch, available,
                                                                expected):
    monkeypatch.setattr(ort, 'get_available_providers', lambda: available)
    assert default_providers() == expected
