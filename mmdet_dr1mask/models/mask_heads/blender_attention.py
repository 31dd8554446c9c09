"""Instance prediction modules (DR1Mask paper Sec. 3.2.3, Eq. 7–8, Table 4).

Each turns an instance's embedding e and its RoI crop of the basis,
R ∈ R^{D×S×S} (S = 56), into one S×S mask logit map. With K projected bases,
attention resolution R_a (14) and factor rank r (4):

| module   | embedding length E        | mask                                          |
|----------|---------------------------|-----------------------------------------------|
| vector   | D                         | Σ_d e_d R_d (YOLACT)                          |
| full     | D·K + K·R_a² (K·R_a²)     | Σ_k softmax_K(up_S(q))_k ∘ (t ⊛ R)_k (BlendMask) |
| factored | D·K + K·r                 | as full with q_k = U_kᵀ diag(s_k) V_k (Eq. 8) |

``t`` (D·K values) is the per-instance 1×1 projection D → K of Eq. 7. Full
attention without the projection is BlendMask's blender (its basis already
has K = D channels). The attention maps are up-sampled bilinearly to S and
normalised with a softmax over the K bases, as in BlendMask.

Each module is registered in ``MODELS``; ``BlenderHead`` builds the one its
``attention`` config names and passes it D (``basis_channels``).
"""
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class VectorAttention(nn.Module):
    """YOLACT's channel-wise weighted sum, E = D."""

    def __init__(self, basis_channels: int) -> None:
        super().__init__()
        self.basis_channels = basis_channels

    @property
    def embedding_channels(self) -> int:
        return self.basis_channels

    def vector_embeddings(self, embeddings: Tensor) -> Tensor:
        """The embedding is already a D-vector over the basis channels."""
        return embeddings

    def forward(self, rois: Tensor, embeddings: Tensor) -> Tensor:
        """(P, D, S, S) crops and (P, D) embeddings -> (P, S, S) mask logits."""
        return torch.einsum('pdhw,pd->phw', rois, embeddings)


@MODELS.register_module()
class FullAttention(nn.Module):
    """BlendMask's position-sensitive attention, optionally with the D → K projection.

    Args:
        basis_channels: D.
        num_bases: K (4). Without projection D must equal K.
        attention_size: R_a, the attention resolution (14).
        use_projection: project the D crop channels to K with the embedding's
            first D·K values (Eq. 7); False is BlendMask's blender.
    """

    def __init__(self, basis_channels: int, num_bases: int = 4, attention_size: int = 14,
                 use_projection: bool = True) -> None:
        super().__init__()
        if not use_projection and basis_channels != num_bases:
            raise ValueError('full attention without projection needs basis_channels == '
                             f'num_bases, got {basis_channels} and {num_bases}')
        self.basis_channels = basis_channels
        self.num_bases = num_bases
        self.attention_size = attention_size
        self.use_projection = use_projection

    @property
    def projection_channels(self) -> int:
        return self.basis_channels * self.num_bases if self.use_projection else 0

    @property
    def embedding_channels(self) -> int:
        return self.projection_channels + self.num_bases * self.attention_size ** 2

    def project(self, rois: Tensor, embeddings: Tensor) -> Tensor:
        """Eq. 7: R' = t ⊛ R, (P, D, S, S) -> (P, K, S, S) (identity without projection)."""
        if not self.use_projection:
            return rois
        t = embeddings[:, :self.projection_channels].reshape(
            -1, self.num_bases, self.basis_channels)  # (P, K, D)
        return torch.einsum('pkd,pdhw->pkhw', t, rois)

    def vector_embeddings(self, embeddings: Tensor) -> Tensor:
        """(P, E) -> (P, D): the mean of the K projections, Σ_k t_k / K.

        With uniform attention (Q_k = 1 / K) the blended mask is this vector
        applied to the crop: the position-insensitive part of the instance, what
        the panoptic layer uses as the instance's thing weights (Table 7).
        """
        if not self.use_projection:
            raise ValueError('full attention without projection (BlendMask) has no '
                             'vector embedding over the basis channels')
        t = embeddings[:, :self.projection_channels].reshape(
            -1, self.num_bases, self.basis_channels)  # (P, K, D)
        return t.mean(dim=1)

    def attention_maps(self, embeddings: Tensor) -> Tensor:
        """(P, E) -> (P, K, R_a, R_a) attention logits q."""
        size = self.attention_size
        return embeddings[:, self.projection_channels:].reshape(-1, self.num_bases, size, size)

    def forward(self, rois: Tensor, embeddings: Tensor) -> Tensor:
        """(P, D, S, S) crops and (P, E) embeddings -> (P, S, S) mask logits."""
        projected = self.project(rois, embeddings)  # (P, K, S, S)
        q = self.attention_maps(embeddings)  # (P, K, R_a, R_a)
        q = F.interpolate(q, size=rois.shape[-2:], mode='bilinear', align_corners=False)
        return (q.softmax(dim=1) * projected).sum(dim=1)


@MODELS.register_module()
class FactoredAttention(FullAttention):
    """DR1Mask's factored attention (Eq. 8): q_k = U_kᵀ diag(s_k) V_k, E = D·K + K·r.

    Args:
        basis_channels: D.
        num_bases: K (4).
        attention_size: R_a (14).
        factor_rank: r (4), the diagonal length per base.
    """

    def __init__(self, basis_channels: int, num_bases: int = 4, attention_size: int = 14,
                 factor_rank: int = 4) -> None:
        super().__init__(basis_channels, num_bases, attention_size, use_projection=True)
        self.factor_rank = factor_rank
        # U_k, V_k ∈ R^{r×R_a}, static and shared by all instances
        self.u = nn.Parameter(torch.randn(num_bases, factor_rank, attention_size))
        self.v = nn.Parameter(torch.randn(num_bases, factor_rank, attention_size))

    @property
    def embedding_channels(self) -> int:
        return self.projection_channels + self.num_bases * self.factor_rank

    def attention_maps(self, embeddings: Tensor) -> Tensor:
        """(P, E) -> (P, K, R_a, R_a): Σ_d s_kd u_kd ⊗ v_kd (Eq. 8)."""
        s = embeddings[:, self.projection_channels:].reshape(
            -1, self.num_bases, self.factor_rank)  # (P, K, r)
        return torch.einsum('pkd,kdi,kdj->pkij', s, self.u, self.v)

