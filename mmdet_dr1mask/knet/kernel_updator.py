"""K-Net's adaptive kernel update (Zhang et al., NeurIPS 2021, Sec. 3.2, Eqs. 3-5).

Each kernel K_i is updated with the feature F^K_i its current mask gathers from
the feature map (the group feature). Both are projected; a learned gate for each
side decides how much of the group content and how much of the old kernel
enters the new one:

    F^G = φ1(F^K) ⊙ φ2(K)                               (Eq. 3)
    G^F = σ(ψ1(F^G)),  G^K = σ(ψ2(F^G))                 (Eq. 4)
    K~  = G^F ⊙ ψ3(F^K) + G^K ⊙ ψ4(K)                   (Eq. 5)

followed by a linear layer, LayerNorm and ReLU. Follows ``KernelUpdator`` of
the official implementation (github.com/ZwwWayne/K-Net, knet/kernel_updator.py).

Deviations from the official implementation:

* only the configuration the official configs use is kept: sigmoid gates,
  no normalisation/activation of the gate features, no activation of the
  projected kernels (``gate_norm_act=False``, ``activate_out=False``);
* kernels are vectors (1×1 kernels, ``conv_kernel_size=1`` in every official
  detection config), so ``input_feat_shape`` is dropped;
* the two gate layers map ``feat_channels`` to ``feat_channels`` (the official
  ones are declared from ``in_channels``, which only works when both are equal,
  as in all official configs).
"""
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmdet.registry import MODELS
from mmdet.utils import ConfigType
from torch import Tensor, nn


@MODELS.register_module()
class KernelUpdator(nn.Module):
    """Gated update of kernels by their group features (K-Net Eqs. 3-5).

    Args:
        in_channels (int): Channels C of kernels and group features. Defaults to 256.
        feat_channels (int): Channels of the gated projections. Defaults to 64
            (the official configs use 256).
        out_channels (int | None): Channels of the updated kernels; ``None``
            keeps ``in_channels``. Defaults to None.
        act_cfg (dict): Activation after the output layer. Defaults to ReLU.
        norm_cfg (dict): Normalisation of gates and projections. Defaults to LN.
    """

    def __init__(self,
                 in_channels: int = 256,
                 feat_channels: int = 64,
                 out_channels: int = None,
                 act_cfg: ConfigType = dict(type='ReLU', inplace=True),
                 norm_cfg: ConfigType = dict(type='LN')) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.out_channels = out_channels or in_channels
        # φ1 and ψ3 (group feature side), φ2 and ψ4 (kernel side), one layer each
        self.dynamic_layer = nn.Linear(in_channels, 2 * feat_channels)
        self.input_layer = nn.Linear(in_channels, 2 * feat_channels)
        self.input_gate = nn.Linear(feat_channels, feat_channels)  # ψ2 -> G^K
        self.update_gate = nn.Linear(feat_channels, feat_channels)  # ψ1 -> G^F
        self.norm_in = build_norm_layer(norm_cfg, feat_channels)[1]
        self.norm_out = build_norm_layer(norm_cfg, feat_channels)[1]
        self.input_norm_in = build_norm_layer(norm_cfg, feat_channels)[1]
        self.input_norm_out = build_norm_layer(norm_cfg, feat_channels)[1]
        self.activation = build_activation_layer(act_cfg)
        self.fc_layer = nn.Linear(feat_channels, self.out_channels)
        self.fc_norm = build_norm_layer(norm_cfg, self.out_channels)[1]

    def forward(self, group_feats: Tensor, kernels: Tensor) -> Tensor:
        """Update ``kernels`` with ``group_feats``.

        Args:
            group_feats (Tensor): F^K, (B, N, C) features gathered by each mask.
            kernels (Tensor): K, (B, N, C) the current kernels.

        Returns:
            Tensor: the updated kernels K~, (B, N, out_channels).
        """
        f = self.feat_channels
        feat_params = self.dynamic_layer(group_feats)  # (B, N, 2F)
        feat_in, feat_out = feat_params[..., :f], feat_params[..., f:]
        kernel_params = self.input_layer(kernels)  # (B, N, 2F)
        kernel_in, kernel_out = kernel_params[..., :f], kernel_params[..., f:]

        gate_feats = kernel_in * feat_in  # F^G, (B, N, F)
        kernel_gate = self.input_norm_in(self.input_gate(gate_feats)).sigmoid()
        feat_gate = self.norm_in(self.update_gate(gate_feats)).sigmoid()
        updated = feat_gate * self.norm_out(feat_out) + \
            kernel_gate * self.input_norm_out(kernel_out)  # (B, N, F)
        return self.activation(self.fc_norm(self.fc_layer(updated)))
