"""Edge decoders: from per-node representations ``[..., d, dim]`` to edge logits ``[..., d, d]``.

AVICI (Lorch et al. 2022) and BCNP (Dhir et al. 2025) both score a candidate edge ``i -> j`` by
an inner product between a "sender" projection of node ``i`` and a "receiver" projection of node
``j``; they differ only in details that are options here:

* AVICI: one head, both projections L2-normalised, a learned log-scale ``tau`` and a bias,
  ``logit_ij = exp(tau) <u_i / |u_i|, v_j / |v_j|> + b`` (``normalize=True``).
* BCNP: several heads averaged, scaled dot products (``1 / sqrt(head_dim)``), and the logits
  symmetrised, ``(L + L^T) / 2`` (``symmetric=True``): the direction of an edge comes from the
  permutation, so the edge logit of the unordered pair must not depend on it.

Inner products of per-node projections make the decoder equivariant to relabelling the nodes.
The diagonal is returned as computed; a model masks it as its likelihood requires.

:class:`PairHead` scores pairs from per-node vectors *and* pair statistics ``s_ij`` (an MLP on
``[h_i, h_j, s_ij]``); it returns a symmetric and an antisymmetric logit per pair: AVICI's
factorised head reads them as adjacency and orientation, BCNP adds the first to its edge logits and
sums the second into its order scores.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..._validation import check_positive_int

__all__ = ["BilinearEdgeDecoder", "PairHead"]


class BilinearEdgeDecoder(nn.Module):
    """Multi-head bilinear edge scorer ``logit_ij = b + mean_h s_h <q_h(r_i), k_h(r_j)>``.

    Parameters
    ----------
    dim : int
        Width of the node representations.
    n_heads : int, default=1
        Number of heads ``H``; their scores are averaged.
    head_dim : int or None, default=None
        Width of each head's projections; ``None`` uses ``dim // n_heads`` (at least 1).
    normalize : bool, default=False
        If True, ``q_h`` and ``k_h`` are L2-normalised and ``s_h = exp(tau_h)`` is learned
        (AVICI's cosine logits); otherwise ``s_h = 1 / sqrt(head_dim)`` is fixed.
    symmetric : bool, default=False
        If True, return ``(L + L^T) / 2`` (BCNP's logits of unordered pairs).
    log_scale_init : float, default=0.0
        Initial ``tau_h`` when ``normalize=True``.
    bias_init : float, default=0.0
        Initial bias ``b`` (a negative value encodes a sparse prior at initialisation).
    """

    def __init__(
        self,
        dim: int,
        n_heads: int = 1,
        head_dim: int | None = None,
        normalize: bool = False,
        symmetric: bool = False,
        log_scale_init: float = 0.0,
        bias_init: float = 0.0,
    ):
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(n_heads, "n_heads")
        head_dim = max(dim // n_heads, 1) if head_dim is None else check_positive_int(head_dim, "head_dim")
        self.n_heads, self.head_dim = n_heads, head_dim
        self.normalize, self.symmetric = bool(normalize), bool(symmetric)
        self.sender = nn.Linear(dim, n_heads * head_dim)
        self.receiver = nn.Linear(dim, n_heads * head_dim)
        if self.normalize:
            self.log_scale = nn.Parameter(torch.full((n_heads,), float(log_scale_init)))
        else:
            self.register_buffer("log_scale", torch.full((n_heads,), -0.5 * math.log(head_dim)))
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        """Map ``nodes`` of shape ``[..., d, dim]`` to edge logits ``[..., d, d]``."""
        *lead, d, _ = nodes.shape
        q = self.sender(nodes).view(*lead, d, self.n_heads, self.head_dim).transpose(-3, -2)
        k = self.receiver(nodes).view(*lead, d, self.n_heads, self.head_dim).transpose(-3, -2)
        if self.normalize:
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        # [..., H, d, d], each head scaled by s_h, then averaged over heads
        scores = (q @ k.transpose(-1, -2)) * self.log_scale.exp()[:, None, None]
        logits = scores.mean(dim=-3) + self.bias
        if self.symmetric:
            logits = 0.5 * (logits + logits.transpose(-1, -2))
        return logits


class PairHead(nn.Module):
    """Symmetric and antisymmetric pair logits ``[B, d, d]`` from node vectors and pair statistics.

    An MLP on ``[h_i, h_j, s_ij]`` (``h`` layer-normalised; its first layer is computed per node
    and broadcast, so the cost is ``O(d^2 hidden)``) gives two numbers per ordered pair; the first
    is symmetrised, the second antisymmetrised, so ``a_ij = a_ji`` and ``o_ij = -o_ji`` hold exactly
    and relabelling the nodes relabels both.

    Parameters
    ----------
    dim : int
        Width of the node vectors ``h``.
    n_pair : int
        Channels of the pair statistics (0: none, node vectors only).
    hidden : int
        Width of the MLP.
    bias_init : float, default=0.0
        Initial bias of the symmetric output (a negative value is a sparse prior).
    """

    def __init__(self, dim: int, n_pair: int, hidden: int, bias_init: float = 0.0):
        super().__init__()
        check_positive_int(hidden, "pair_hidden")
        self.norm = nn.LayerNorm(dim)
        self.first_i = nn.Linear(dim, hidden)
        self.first_j = nn.Linear(dim, hidden, bias=False)
        self.first_pair = nn.Linear(n_pair, hidden, bias=False) if n_pair else None
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        with torch.no_grad():
            self.rest[-1].bias.copy_(torch.tensor([float(bias_init), 0.0]))

    def forward(self, nodes: torch.Tensor, pair: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(symmetric, antisymmetric)`` logits for ``nodes`` ``[B, d, dim]`` and ``pair`` ``[B, d, d, C]``."""
        h = self.norm(nodes)
        hidden = self.first_i(h)[:, :, None, :] + self.first_j(h)[:, None, :, :]
        if self.first_pair is not None:
            hidden = hidden + self.first_pair(pair)
        out = self.rest(hidden)
        symmetric = (out[..., 0] + out[..., 0].transpose(-1, -2)) / 2
        antisymmetric = (out[..., 1] - out[..., 1].transpose(-1, -2)) / 2
        return symmetric, antisymmetric
