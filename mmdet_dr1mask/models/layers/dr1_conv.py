"""Dynamic rank-1 convolution (DR1Conv), DR1Mask paper Sec. 3.1, Eq. 4 and Fig. 1.

``Y = Conv(X ∘ A) ∘ B``: the per-location dynamic factors A and B multiply the
input before and the output after a static convolution, which equals a
convolution whose kernel at each location is the static one modulated by the
rank-1 matrix ``b aᵀ`` (Eq. 1–2).

Deviation from the paper: Eq. 3 indexes B at the *input* location inside the
kernel sum, which contradicts Eq. 4 and the text ("element-wise multiplying A,
B before and after the static convolution"); we follow Eq. 4, B is taken at the
output location. The static convolution is an mmcv ``ConvModule`` (conv → norm
→ act); with norm and act off it is exactly Eq. 4.

Inference (eval mode, no autograd): a BatchNorm after the conv is folded into the conv's
weights and bias. On CPU (float32, at most ``CHANNELS_LAST_MAX`` channels, C++ kernels
built) the products take the place of the layout changes a convolution of NCHW tensors
pays anyway: one pass writes X ∘ A channels-last, the convolution runs on it with no
reorder (oneDNN's channels-last kernel), and one pass writes act(Y) ∘ B back to NCHW
(``dr1_conv_kernels.cpp``). Elsewhere the activation and the product with B run in place on
the conv's fresh output. Training, anything that needs gradients and export tracing take
the plain path (docs/benchmarks.md, component costs).
"""
from types import ModuleType
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from .dr1_conv_kernels import dr1_conv_kernels

# Widest DR1Conv (in or out channels) that takes the channels-last CPU path: the basis
# widths (32, 64) gain (docs/benchmarks.md, component costs); at 256 channels oneDNN's
# channels-last convolution was slower than its blocked one on this project's CPU.
CHANNELS_LAST_MAX = 64


@MODELS.register_module()
class DR1Conv(nn.Module):
    """``Y = ConvModule(X ∘ A) ∘ B`` (Eq. 4).

    Registered in MMEngine's root ``MODELS`` registry so that MMDetection,
    MMSegmentation or any other OpenMMLab library can build it from a config.

    Args:
        in_channels: C_in, channels of X and A.
        out_channels: C_out, channels of Y and B.
        kernel_size: static kernel size.
        stride: convolution stride.
        padding: zero padding; ``kernel_size // 2`` (same size) when None.
        dilation: convolution dilation.
        bias: conv bias, ``'auto'`` = no bias when a norm layer follows.
        conv_cfg: mmcv conv layer config (None = nn.Conv2d).
        norm_cfg: mmcv norm layer config (None = no norm).
        act_cfg: mmcv activation config (None = no activation).
        use_a: multiply the input by A; False replaces A by ones (Tables 1–2).
        use_b: multiply the output by B; False replaces B by ones (Tables 1–2).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 padding: Optional[int] = None,
                 dilation: int = 1,
                 bias: Union[bool, str] = 'auto',
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 use_a: bool = True,
                 use_b: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.use_a = use_a
        self.use_b = use_b
        # (versions of the sources, folded (weight, bias), the weight channels-last or None)
        self._folded = None
        self.conv = ConvModule(
            in_channels, out_channels, kernel_size, stride=stride,
            padding=dilation * (kernel_size // 2) if padding is None else padding,
            dilation=dilation, bias=bias, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        conv = self.conv  # conv -> (BatchNorm) -> act: the structure the inference fold needs
        self.foldable = tuple(conv.order) == ('conv', 'norm', 'act') and (
            not conv.with_norm or isinstance(conv.norm, _BatchNorm)) and \
            type(conv.conv) is nn.Conv2d and not conv.with_explicit_padding and \
            not conv.with_spectral_norm

    def forward(self, x: Tensor, a: Optional[Tensor] = None,
                b: Optional[Tensor] = None) -> Tensor:
        """Apply the dynamic convolution.

        Args:
            x: (N, C_in, H, W) input X.
            a: (N, C_in, H, W) dynamic factor A; ignored (may be None) if not ``use_a``.
            b: (N, C_out, H', W') dynamic factor B at the output locations;
                ignored (may be None) if not ``use_b``.

        Returns:
            (N, C_out, H', W') output Y.
        """
        if self.use_a:
            _check_factor('A', a, x.shape)
        inference = not self.training and not torch.is_grad_enabled() and self.foldable
        if inference:
            a_used, b_used = (a if self.use_a else None), (b if self.use_b else None)
            kernels = self._channels_last_kernels(x, a_used, b_used)
            if kernels is not None:
                return self._channels_last_conv(kernels, x, a_used, b_used)
        if self.use_a:
            x = x * a
        y = self._folded_conv(x) if inference else self.conv(x)
        if self.use_b:
            _check_factor('B', b, y.shape)
            # in place on a fresh output when nothing records it for backward
            y = y.mul_(b) if not torch.is_grad_enabled() else y * b
        return y

    def folded_weights(self) -> Tuple[Tensor, Optional[Tensor]]:
        """The conv's weight and bias with the eval-mode BatchNorm folded in.

        Kept until a parameter or statistic changes (in place or replaced, e.g. by
        ``load_state_dict`` or ``.to()``): a fresh weight tensor at every call would cost
        the convolution library its weight re-layout each time.

        Returns:
            (C_out, C_in, k, k) weight and (C_out,) bias (or None) such that
            ``conv2d(x, weight, bias) == norm(conv(x))`` with the running statistics.
        """
        conv = self.conv.conv
        norm = self.conv.norm if self.conv.with_norm else None
        sources = [conv.weight, conv.bias]
        if norm is not None:
            sources += [norm.weight, norm.bias, norm.running_mean, norm.running_var]
        key = tuple((t.data_ptr(), t._version) if t is not None else None for t in sources)
        if self._folded is not None and self._folded[0] == key:
            return self._folded[1]
        with torch.no_grad():
            if norm is None:
                folded = (conv.weight, conv.bias)
            else:
                scale = norm.running_var.add(norm.eps).rsqrt()
                if norm.weight is not None:
                    scale = scale * norm.weight
                shift = -norm.running_mean * scale
                if norm.bias is not None:
                    shift = shift + norm.bias
                if conv.bias is not None:
                    shift = shift + conv.bias * scale
                folded = (conv.weight * scale[:, None, None, None], shift)
        self._folded = (key, folded, None)
        return folded

    def _channels_last_weights(self) -> Tuple[Tensor, Optional[Tensor]]:
        """``folded_weights`` with the weight in channels-last memory, kept like them (a
        convolution of a channels-last input ran about 4 % faster with it in isolation;
        in the component tool's rounds no difference was detectable, docs/benchmarks.md)."""
        weight, bias = self.folded_weights()  # renews self._folded when a source changed
        key, folded, channels_last = self._folded
        if channels_last is None:
            channels_last = weight.contiguous(memory_format=torch.channels_last)
            self._folded = (key, folded, channels_last)
        return channels_last, bias

    def _folded_conv(self, x: Tensor) -> Tensor:
        conv = self.conv.conv
        weight, bias = self.folded_weights()
        y = F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
        if self.conv.with_activation:
            y = self.conv.activate(y)
        return y

    def _channels_last_kernels(self, x: Tensor, a: Optional[Tensor],
                               b: Optional[Tensor]) -> Optional[ModuleType]:
        """The C++ kernels where this inference call takes the channels-last path (4-d
        float32 CPU X and factors, at most ``CHANNELS_LAST_MAX`` channels, not traced),
        else None: factors of another type or device take the tensor form's promotion."""
        if x.dim() != 4 or max(self.in_channels, self.out_channels) > CHANNELS_LAST_MAX or \
                torch.jit.is_tracing() or torch.compiler.is_compiling() or any(
                    t.device.type != 'cpu' or t.dtype != torch.float32
                    for t in (x, a, b) if t is not None):
            return None
        return dr1_conv_kernels()

    def _channels_last_conv(self, kernels: ModuleType, x: Tensor, a: Optional[Tensor],
                            b: Optional[Tensor]) -> Tensor:
        """Eq. 4 with the products in the layout passes (module docstring); (N, C_out, H', W')."""
        xa = kernels.mul_to_channels_last(x.contiguous(), None if a is None else a.contiguous())
        conv = self.conv.conv
        weight, bias = self._channels_last_weights()
        y = F.conv2d(xa, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
        y = y.contiguous(memory_format=torch.channels_last)  # what the convolution gives
        relu = self.conv.with_activation and type(self.conv.activate) is nn.ReLU
        if self.conv.with_activation and not relu:
            y = self.conv.activate(y)
        if b is not None:
            _check_factor('B', b, y.shape)
            b = b.contiguous()
        return kernels.act_mul_from_channels_last(y, b, relu, xa)  # into X ∘ A's memory

    def extra_repr(self) -> str:
        return f'use_a={self.use_a}, use_b={self.use_b}'


def _check_factor(name: str, factor: Optional[Tensor], shape: tuple) -> None:
    if factor is None:
        raise ValueError(f'DR1Conv needs the dynamic factor {name} (use_{name.lower()}=True)')
    if factor.shape != shape:
        raise ValueError(f'DR1Conv factor {name} has shape {tuple(factor.shape)}, '
                         f'expected {tuple(shape)}')
