"""The CPU DR1Conv kernels: X ∘ A written channels-last, act(Y) ∘ B written back to NCHW,
each equal to its tensor form (DR1Conv's use of them: test_dr1_conv.py)."""
import pytest
import torch

from mmdet_dr1mask.models.layers import dr1_conv_kernels as module


@pytest.fixture
def kernels():
    built = module.dr1_conv_kernels()
    if built is None:
        pytest.skip('the CPU DR1Conv kernels could not be built here')
    return built


def test_the_source_ships_beside_the_loader():
    text = module.SOURCE.read_text()
    for name in module.FUNCTIONS:
        assert f' {name}(' in text


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', '0')
    assert module.dr1_conv_kernels() is None


@pytest.mark.parametrize('shape', [(1, 32, 100, 152), (2, 5, 33, 17), (1, 1, 1, 1),
                                   (3, 16, 1, 7)])
def test_mul_to_channels_last_equals_the_product_in_channels_last_memory(kernels, shape):
    torch.manual_seed(0)
    x, a = torch.randn(shape), torch.randn(shape)
    out = kernels.mul_to_channels_last(x, a)
    assert out.shape == x.shape and out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, x * a)
    assert torch.equal(kernels.mul_to_channels_last(x, None), x)


@pytest.mark.parametrize('shape', [(1, 32, 100, 152), (2, 5, 33, 17), (1, 1, 1, 1)])
@pytest.mark.parametrize('relu', [True, False])
def test_act_mul_from_channels_last_equals_the_product_in_nchw_memory(kernels, shape, relu):
    torch.manual_seed(0)
    y = torch.randn(shape).contiguous(memory_format=torch.channels_last)
    b = torch.randn(shape)
    act = y.relu() if relu else y
    out = kernels.act_mul_from_channels_last(y, b, relu, None)
    assert out.is_contiguous() and torch.equal(out, act * b)
    assert torch.equal(kernels.act_mul_from_channels_last(y, None, relu, None), act)


def test_the_output_reuses_a_given_buffer_only_of_exactly_its_size(kernels):
    torch.manual_seed(0)
    y = torch.randn(2, 6, 5, 4).contiguous(memory_format=torch.channels_last)
    b = torch.randn(2, 6, 5, 4)
    spare = torch.empty(2, 6, 5, 4).contiguous(memory_format=torch.channels_last)
    out = kernels.act_mul_from_channels_last(y, b, True, spare)
    assert out.data_ptr() == spare.data_ptr() and torch.equal(out, y.relu() * b)
    for other in (torch.empty(10), torch.empty(2 * y.numel())):  # too small, too large
        out = kernels.act_mul_from_channels_last(y, b, True, other)
        assert out.data_ptr() != other.data_ptr() and torch.equal(out, y.relu() * b)
    out = kernels.act_mul_from_channels_last(y, b, True, y)  # never Y itself
    assert out.data_ptr() != y.data_ptr() and torch.equal(out, y.relu() * b)


def test_wrong_inputs_are_clear_errors(kernels):
    x = torch.randn(1, 3, 4, 5)
    with pytest.raises(RuntimeError, match='A must be contiguous and shaped like X'):
        kernels.mul_to_channels_last(x, torch.randn(1, 3, 4, 6))
    with pytest.raises(RuntimeError, match='X must be a 4-d float32 CPU tensor'):
        kernels.mul_to_channels_last(x.double(), None)
    with pytest.raises(RuntimeError, match='Y must be channels-last'):
        kernels.act_mul_from_channels_last(torch.randn(1, 3, 4, 5), None, True, None)
