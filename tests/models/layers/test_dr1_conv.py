"""DR1Conv implements Eq. 4: Y = Conv(X ∘ A) ∘ B."""
import pytest
import torch
from mmcv.cnn import ConvModule

from mmdet_dr1mask.models.layers import DR1Conv


def naive_dr1conv(x, a, b, weight, bias, padding, stride=1):
    """Per-location evaluation with explicit sums over the kernel window (no conv call)."""
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    xa = x * a
    out_h = (h + 2 * padding - kh) // stride + 1
    out_w = (w + 2 * padding - kw) // stride + 1
    y = torch.zeros(n, c_out, out_h, out_w, dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            acc = bias.clone()[None].expand(n, c_out).clone()
            for di in range(kh):
                for dj in range(kw):
                    yy, xx = i * stride + di - padding, j * stride + dj - padding
                    if 0 <= yy < h and 0 <= xx < w:
                        # (n, c_in) @ (c_in, c_out)
                        acc += xa[:, :, yy, xx] @ weight[:, :, di, dj].T
            y[:, :, i, j] = acc * b[:, :, i, j]
    return y


@pytest.mark.parametrize('kernel_size,stride', [(1, 1), (3, 1), (3, 2)])
def test_equals_naive_per_location_evaluation(kernel_size, stride):
    torch.manual_seed(0)
    layer = DR1Conv(3, 4, kernel_size, stride=stride, bias=True).double()
    torch.nn.init.normal_(layer.conv.conv.bias)
    x = torch.randn(2, 3, 5, 6, dtype=torch.double)
    a = torch.randn(2, 3, 5, 6, dtype=torch.double)
    out_hw = (5 + 2 * (kernel_size // 2) - kernel_size) // stride + 1, \
        (6 + 2 * (kernel_size // 2) - kernel_size) // stride + 1
    b = torch.randn(2, 4, *out_hw, dtype=torch.double)
    expected = naive_dr1conv(x, a, b, layer.conv.conv.weight, layer.conv.conv.bias,
                             kernel_size // 2, stride)
    torch.testing.assert_close(layer(x, a, b), expected)


def test_gradients_reach_x_a_b_and_the_weights():
    layer = DR1Conv(3, 4, 3, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
    x, a, b = (torch.randn(2, c, 6, 7, requires_grad=True) for c in (3, 3, 4))
    layer(x, a, b).square().sum().backward()
    for grad in (x.grad, a.grad, b.grad, layer.conv.conv.weight.grad):
        assert grad is not None and grad.abs().sum() > 0


def test_unit_factors_reduce_to_the_plain_conv_module():
    torch.manual_seed(0)
    cfg = dict(norm_cfg=dict(type='GN', num_groups=2), act_cfg=dict(type='ReLU'))
    dr1 = DR1Conv(4, 6, 3, **cfg)
    plain = ConvModule(4, 6, 3, padding=1, **cfg)
    plain.load_state_dict(dr1.conv.state_dict())
    x = torch.randn(2, 4, 9, 8)
    torch.testing.assert_close(dr1(x, torch.ones_like(x), torch.ones(2, 6, 9, 8)), plain(x))


def test_switched_off_factors_are_ignored():
    torch.manual_seed(0)
    x, b = torch.randn(1, 2, 5, 5), torch.randn(1, 3, 5, 5)
    only_b = DR1Conv(2, 3, 3, use_a=False)
    torch.testing.assert_close(only_b(x, None, b), only_b.conv(x) * b)
    neither = DR1Conv(2, 3, 3, use_a=False, use_b=False)
    torch.testing.assert_close(neither(x), neither.conv(x))


def test_missing_or_misshaped_factor_is_a_clear_error():
    layer = DR1Conv(2, 3, 3)
    x = torch.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match='needs the dynamic factor A'):
        layer(x, None, torch.ones(1, 3, 5, 5))
    with pytest.raises(ValueError,
                       match=r'factor B has shape \(1, 2, 5, 5\), expected \(1, 3, 5, 5\)'):
        layer(x, torch.ones_like(x), torch.ones(1, 2, 5, 5))


def test_built_from_the_root_registry_by_any_openmmlab_library():
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.registry import MODELS as ROOT_MODELS
    cfg = dict(type='DR1Conv', in_channels=2, out_channels=3, use_b=False)
    assert isinstance(ROOT_MODELS.build(cfg), DR1Conv)
    assert isinstance(MMDET_MODELS.build(cfg), DR1Conv)  # child registries see the root


@pytest.mark.parametrize('norm_cfg, act_cfg, bias', [
    (dict(type='BN'), dict(type='ReLU'), 'auto'), (dict(type='SyncBN'), None, 'auto'),
    (dict(type='BN'), dict(type='ReLU'), True), (None, dict(type='ReLU'), True),
    (dict(type='GN', num_groups=2), dict(type='ReLU'), 'auto')])
def test_inference_with_folded_norm_equals_the_training_path(norm_cfg, act_cfg, bias):
    torch.manual_seed(0)
    layer = DR1Conv(4, 6, 3, stride=2, bias=bias, norm_cfg=norm_cfg, act_cfg=act_cfg)
    if norm_cfg is not None:  # non-trivial running statistics and affine parameters
        for name, value in layer.conv.norm.named_parameters():
            torch.nn.init.normal_(value, 0.5 if name == 'weight' else 0.0, 0.3)
        if hasattr(layer.conv.norm, 'running_mean'):
            layer.conv.norm.running_mean.normal_()
            layer.conv.norm.running_var.uniform_(0.5, 2.0)
    layer.eval()
    x, a, b = torch.randn(2, 4, 9, 8), torch.randn(2, 4, 9, 8), torch.randn(2, 6, 5, 4)
    expected = layer.conv(x * a) * b  # conv -> norm -> act, then B
    with torch.no_grad():
        folded = layer(x, a, b)
    torch.testing.assert_close(folded, expected.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer(x, a, b), expected)  # with autograd: the plain path


def test_folded_weights_are_kept_until_a_parameter_or_statistic_changes():
    torch.manual_seed(0)
    layer = DR1Conv(4, 6, 3, norm_cfg=dict(type='BN'), act_cfg=None).eval()
    first = layer.folded_weights()
    assert layer.folded_weights()[0] is first[0]  # no new tensor while nothing changed
    x, a, b = torch.randn(1, 4, 5, 5), torch.randn(1, 4, 5, 5), torch.randn(1, 6, 5, 5)
    with torch.no_grad():
        layer.conv.norm.running_mean.add_(1.0)  # in place, as a BN update or load does
        torch.testing.assert_close(layer(x, a, b), layer.conv(x * a) * b)
        layer.load_state_dict({k: v + 0.5 for k, v in layer.state_dict().items()
                               if v.is_floating_point()}, strict=False)
        torch.testing.assert_close(layer(x, a, b), layer.conv(x * a) * b)
    assert layer.folded_weights()[0] is not first[0]


def _random_inference_layer(c_in, c_out, **kwargs):
    layer = DR1Conv(c_in, c_out, 3, **kwargs)
    if layer.conv.with_norm:
        layer.conv.norm.running_mean.normal_()
        layer.conv.norm.running_var.uniform_(0.5, 2.0)
    return layer.eval()


class _CountingKernels:
    """dr1_conv_kernels() stand-in that counts the calls into the compiled kernels."""

    def __init__(self, kernels):
        self.kernels, self.calls = kernels, 0

    def __call__(self):
        return self

    def __getattr__(self, name):
        def call(*args):
            self.calls += 1
            return getattr(self.kernels, name)(*args)
        return call


@pytest.fixture
def counting_kernels(monkeypatch):
    from mmdet_dr1mask.models.layers import dr1_conv
    kernels = dr1_conv.dr1_conv_kernels()
    if kernels is None:
        pytest.skip('the CPU DR1Conv kernels could not be built here')
    counting = _CountingKernels(kernels)
    monkeypatch.setattr(dr1_conv, 'dr1_conv_kernels', counting)
    return counting


@pytest.mark.parametrize('use_a, use_b', [(True, True), (True, False), (False, True),
                                          (False, False)])
@pytest.mark.parametrize('act_cfg', [dict(type='ReLU'), None, dict(type='LeakyReLU')])
@pytest.mark.parametrize('stride', [1, 2])
def test_cpu_inference_takes_the_channels_last_kernels_and_equals_the_training_path(
        use_a, use_b, act_cfg, stride, counting_kernels):
    torch.manual_seed(0)
    layer = _random_inference_layer(5, 7, stride=stride, use_a=use_a, use_b=use_b,
                                    norm_cfg=dict(type='BN'), act_cfg=act_cfg)
    x, a = torch.randn(2, 5, 33, 17), torch.randn(2, 5, 33, 17)
    b = torch.randn(2, 7, *[(s - 1) // stride + 1 for s in (33, 17)])
    expected = layer.conv(x * a if use_a else x)
    expected = expected * b if use_b else expected
    with torch.no_grad():
        out = layer(x, a if use_a else None, b if use_b else None)
    assert counting_kernels.calls == 2  # X ∘ A in, act(Y) ∘ B out
    assert out.is_contiguous() and out.shape == expected.shape
    torch.testing.assert_close(out, expected.detach(), rtol=1e-5, atol=1e-5)


def test_channels_last_path_reads_non_contiguous_factors_and_leaves_its_inputs_alone(
        counting_kernels):
    """In DR1Basis A and B are channel slices of one context map (not contiguous at N > 1);
    the output is a new tensor: writing to it changes none of X, A, B."""
    torch.manual_seed(0)
    layer = _random_inference_layer(4, 4, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
    x, context = torch.randn(3, 4, 9, 11), torch.randn(3, 8, 9, 11)
    a, b = context.split(4, dim=1)
    assert not a.is_contiguous()
    before = [t.clone() for t in (x, a, b)]
    with torch.no_grad():
        out = layer(x, a, b)
    torch.testing.assert_close(out, layer.conv(x * a).detach() * b, rtol=1e-5, atol=1e-5)
    out.fill_(7.0)
    assert all(torch.equal(t, t0) for t, t0 in zip((x, a, b), before))


@pytest.mark.parametrize('case', ['training', 'autograd', 'tracing', 'double', 'wide',
                                  'switched off', 'half factors'])
def test_the_channels_last_path_is_only_for_cpu_float32_inference_of_narrow_convs(
        case, counting_kernels, monkeypatch):
    from mmdet_dr1mask.models.layers import dr1_conv
    torch.manual_seed(0)
    channels = dr1_conv.CHANNELS_LAST_MAX + 1 if case == 'wide' else 4
    layer = _random_inference_layer(channels, channels, norm_cfg=dict(type='BN'),
                                    act_cfg=dict(type='ReLU'))
    x, a, b = (torch.randn(1, channels, 6, 5) for _ in range(3))
    if case == 'training':
        layer.train()
    if case == 'double':
        layer, x, a, b = layer.double(), x.double(), a.double(), b.double()
    if case == 'half factors':  # the tensor form promotes them to float32
        a, b = a.half(), b.half()
    if case == 'switched off':
        monkeypatch.setattr(dr1_conv, 'dr1_conv_kernels', lambda: None)
    if case == 'autograd':
        out = layer(x, a, b)
    elif case == 'tracing':
        with torch.no_grad():
            traced = torch.jit.trace(layer, (x, a, b), check_trace=False)
        out = traced(x, a, b)
    else:
        with torch.no_grad():
            out = layer(x, a, b)
    assert counting_kernels.calls == 0
    assert out.shape == (1, channels, 6, 5)


def test_the_channels_last_weight_is_kept_and_renewed_with_the_folded_weights(
        counting_kernels):
    torch.manual_seed(0)
    layer = _random_inference_layer(4, 4, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
    x, a, b = (torch.randn(1, 4, 5, 6) for _ in range(3))
    with torch.no_grad():
        layer(x, a, b)
        weight = layer._folded[2]
        assert weight.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(weight, layer.folded_weights()[0])
        layer(x, a, b)
        assert layer._folded[2] is weight
        layer.conv.conv.weight.mul_(2.0)  # in place, as load_state_dict does
        torch.testing.assert_close(layer(x, a, b), layer.conv(x * a) * b)
    assert layer._folded[2] is not weight
