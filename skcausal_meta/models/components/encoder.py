"""Alternating axial-attention encoder for data sets of shape ``[batch, samples, variables, features]``.

Amortized causal discovery models (AVICI, Lorch et al. 2022; BCNP, Dhir et al. 2025) read a whole
data set at once. Their encoder must be permutation *equivariant* over variables (relabelling the
nodes relabels the output) and over samples (row order carries no information). Self-attention
without positional encodings has both properties, and attending along one axis at a time keeps the
cost at ``O(n d^2 + d n^2)`` instead of ``O((n d)^2)``.

Each layer of :class:`AlternatingAxialEncoder` is two pre-LayerNorm residual blocks (multi-head
self-attention, then a feed-forward network widening the width by ``widening_factor``): the first
attends over variables (within each sample), the second over samples (within each variable). A
final LayerNorm closes the stack. The output keeps the full ``[B, n, d, dim]`` grid; pooling over
samples is left to the model (AVICI max-pools, BCNP reads learned query rows).

Learned query rows (``n_query_rows > 0``) are appended along the sample axis. In the sample
attention every row attends to the data rows, query rows also attend to each other, but data rows
never attend to query rows, so the data representation does not depend on the queries and the
query rows act as a learned, permutation-invariant read-out of each variable.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..._validation import check_positive_int

__all__ = ["AxialMultiHeadAttention", "AxialBlock", "AlternatingAxialEncoder"]


class AxialMultiHeadAttention(nn.Module):
    """Multi-head self-attention along one axis of a ``[..., L, M, dim]`` tensor.

    Parameters
    ----------
    dim : int
        Model width; must be divisible by ``n_heads`` when ``key_size`` is None.
    n_heads : int
        Number of attention heads.
    dropout : float, default=0.0
        Dropout on the attention weights (training only).
    key_size : int, default=None
        Width of each head's queries, keys and values; ``None`` means ``dim // n_heads`` (the
        heads split the model width). The reference AVICI network uses 32 with ``dim=128`` and
        8 heads, i.e. heads twice as wide as the split.
    """

    def __init__(self, dim: int, n_heads: int, dropout: float = 0.0, key_size: int | None = None):
        super().__init__()
        if key_size is None:
            if dim % n_heads:
                raise ValueError(f"dim must be divisible by n_heads, got dim={dim}, n_heads={n_heads}")
            key_size = dim // n_heads
        self.n_heads = n_heads
        self.key_size = check_positive_int(key_size, "key_size")
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * n_heads * key_size)
        self.out = nn.Linear(n_heads * key_size, dim)

    def forward(self, z: torch.Tensor, axis: int, attn_mask: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        """Attend along ``axis`` (``-2`` or ``-3``) of ``z`` with shape ``[..., L, M, dim]``.

        ``attn_mask`` is an optional boolean ``[len, len]`` matrix (True = may attend) over the
        attended axis. ``bias`` (variables only, ``axis=-2``) is an additive per-head logit bias
        ``[B, heads, d, d]`` shared by every row of data set ``B``.
        """
        if axis == -3:
            z = z.transpose(-3, -2)
        *lead, length, _ = z.shape
        if bias is not None:
            if axis != -2:
                raise ValueError("an attention bias is supported over variables (axis=-2) only")
            return self.out(self._biased(z, bias))
        # one flat batch axis: the fused (flash) CPU kernel needs contiguous 4-d [batch, heads, L, k]
        qkv = self.qkv(z).reshape(-1, length, 3, self.n_heads, self.key_size)
        q, k, v = (t.transpose(1, 2).contiguous() for t in qkv.unbind(2))
        p = self.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p)
        att = att.transpose(1, 2).reshape(*lead, length, self.n_heads * self.key_size)
        out = self.out(att)
        return out.transpose(-3, -2) if axis == -3 else out

    def _biased(self, z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Attention over variables of ``z`` ``[B, n, d, dim]`` with a ``[B, heads, d, d]`` bias,
        broadcast over rows without copying it."""
        B, n, d, _ = z.shape
        qkv = self.qkv(z).reshape(B, n, d, 3, self.n_heads, self.key_size)
        q, k, v = (t.transpose(2, 3) for t in qkv.unbind(3))  # [B, n, heads, d, key]
        p = self.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias[:, None].to(q.dtype), dropout_p=p)
        return att.transpose(2, 3).reshape(B, n, d, self.n_heads * self.key_size)


class AxialBlock(nn.Module):
    """Pre-LayerNorm residual block: self-attention along one axis, then a feed-forward network."""

    def __init__(self, dim: int, n_heads: int, widening_factor: int = 4, dropout: float = 0.0,
                 key_size: int | None = None):
        super().__init__()
        self.norm_attn = nn.LayerNorm(dim)
        self.attn = AxialMultiHeadAttention(dim, n_heads, dropout, key_size)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, widening_factor * dim), nn.ReLU(inplace=True), nn.Linear(widening_factor * dim, dim)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, z: torch.Tensor, axis: int, attn_mask: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        z = z + self.drop(self.attn(self.norm_attn(z), axis, attn_mask, bias))
        return z + self.drop(self.ffn(self.norm_ffn(z)))


class AlternatingAxialEncoder(nn.Module):
    """Stack of layers alternating self-attention over variables and over samples.

    Parameters
    ----------
    in_features : int
        Features per cell of the input (AVICI: 2, the z-scored value and the intervention flag).
    dim : int, default=64
        Width of every representation.
    n_layers : int, default=4
        Number of layers; each holds one block over variables and one over samples.
    n_heads : int, default=4
        Attention heads per block.
    widening_factor : int, default=4
        Hidden width of the feed-forward networks, as a multiple of ``dim``.
    dropout : float, default=0.0
        Dropout on attention weights and residual branches (training only).
    n_query_rows : int, default=0
        Learned rows appended along the sample axis (see the module docstring).
    key_size : int, default=None
        Width of each attention head (see :class:`AxialMultiHeadAttention`).
    n_pair_features : int, default=0
        Channels of the pair statistics ``s`` ``[B, d, d, C]`` given to ``forward``; each layer
        maps them linearly to one additive logit bias per head of its attention over variables
        (0: no statistics, the paper encoders).

    Shapes
    ------
    ``forward(x, pair)`` maps ``x`` of shape ``[B, n, d, in_features]`` to ``[B, n + n_query_rows,
    d, dim]``; the query rows, if any, are the last ``n_query_rows`` rows. ``n_layers=0`` (only
    with ``n_query_rows=0``) is the embedding alone: a reference without attention.
    """

    def __init__(
        self,
        in_features: int,
        dim: int = 64,
        n_layers: int = 4,
        n_heads: int = 4,
        widening_factor: int = 4,
        dropout: float = 0.0,
        n_query_rows: int = 0,
        key_size: int | None = None,
        n_pair_features: int = 0,
    ):
        super().__init__()
        check_positive_int(in_features, "in_features")
        check_positive_int(dim, "dim")
        check_positive_int(n_layers, "n_layers", minimum=0 if n_pair_features else 1)
        check_positive_int(n_pair_features, "n_pair_features", minimum=0)
        check_positive_int(n_heads, "n_heads")
        check_positive_int(widening_factor, "widening_factor")
        check_positive_int(n_query_rows, "n_query_rows", minimum=0)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.n_query_rows = n_query_rows
        self.embed = nn.Linear(in_features, dim)
        self.query = nn.Parameter(0.02 * torch.randn(n_query_rows, dim)) if n_query_rows else None
        self.variable_blocks = nn.ModuleList(
            AxialBlock(dim, n_heads, widening_factor, dropout, key_size) for _ in range(n_layers)
        )
        self.sample_blocks = nn.ModuleList(
            AxialBlock(dim, n_heads, widening_factor, dropout, key_size) for _ in range(n_layers)
        )
        self.pair_bias = nn.ModuleList(nn.Linear(n_pair_features, n_heads) for _ in range(n_layers)
                                       ) if n_pair_features else None
        self.norm_out = nn.LayerNorm(dim)

    def _sample_mask(self, n: int, device) -> torch.Tensor | None:
        """Boolean [n + q, n + q] mask: everyone sees the data rows, only queries see queries."""
        if not self.n_query_rows:
            return None
        total = n + self.n_query_rows
        mask = torch.zeros(total, total, dtype=torch.bool, device=device)
        mask[:, :n] = True
        mask[n:, n:] = True
        return mask

    def forward(self, x: torch.Tensor, pair: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"x must have shape [B, n, d, features], got {tuple(x.shape)}")
        if (pair is None) != (self.pair_bias is None):
            raise ValueError("pair statistics must be given exactly when n_pair_features > 0")
        z = self.embed(x)
        n = z.shape[1]
        if self.query is not None:
            B, _, d, dim = z.shape
            z = torch.cat([z, self.query[None, :, None, :].expand(B, -1, d, dim)], dim=1)
        mask = self._sample_mask(n, z.device)
        for layer, (over_variables, over_samples) in enumerate(zip(self.variable_blocks, self.sample_blocks)):
            bias = None if pair is None else self.pair_bias[layer](pair).permute(0, 3, 1, 2)
            z = over_variables(z, axis=-2, bias=bias)
            z = over_samples(z, axis=-3, attn_mask=mask)
        return self.norm_out(z)
