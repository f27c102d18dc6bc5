"""The Bayesian Causal Neural Process network (Dhir et al. 2025, "A Meta-Learning Approach to
Bayesian Causal Discovery", ICLR).

BCNP maps a data set straight to a distribution over DAGs that can be sampled and whose
samples are always acyclic:

1. **Encoder** - :class:`~skcausal_meta.models.components.encoder.AlternatingAxialEncoder` with
   one learned query row: blocks alternate attention over nodes and over samples, and the query
   row reads a permutation-invariant summary ``r_i`` of every node ``i`` (the paper's ``R_0``).
2. **Decoder** - transformer blocks over nodes (no attention over samples) refine ``r`` twice:
   first into an *order* representation that an MLP turns into one score ``s_i`` per node, then
   into an *edge* representation that a multi-head bilinear decoder turns into symmetric edge
   logits ``L`` (``L_ij = L_ji``).
3. **Graph distribution** - permutation logits ``log_alpha[i, m] = s_i * m / (d - 1)`` (node
   ``i`` at position ``m``; ``sum_i s_i m_sigma(i)`` is largest when the nodes are sorted by
   score, so the mode is the sort order; scaling the positions to ``[0, 1]`` keeps the logits'
   range independent of ``d``, which in our runs avoided early over-confident orders whose
   saturated Sinkhorn gradient could not be undone). A permutation ``P`` is drawn by
   Gumbel-Sinkhorn and rounded by the Hungarian algorithm with the straight-through gradient
   (:func:`~skcausal_meta.models.components.permutation.sample_permutations`). Given ``P``,
   ``M = P T P^T`` with ``T`` strictly lower triangular allows ``i -> j`` exactly when ``i`` comes
   later than ``j`` in the order, and ``G ~ Bernoulli(sigmoid(L) * M)`` edge-wise. Every sample
   is therefore a DAG, and relabelling the nodes relabels the distribution (equivariance).

Objective (per graph, not per edge)
-----------------------------------
The paper trains by minimising the expected KL divergence between the true posterior and the
model, ``E_p(D) KL(p(G | D) || q(G | D)) = -E_p(G, D) log q(G | D) + const``, where
``q(G | D) = E_q(P | D) q(G | P, D)`` is the probability of the *whole graph*. Its Monte-Carlo
estimate with ``K`` permutation samples is therefore

    ``log q(G | D) ~ log (1/K) sum_k prod_{i != j} Bernoulli(G_ij; sigmoid(L_ij) M_k,ij)``,

a log-mean-exp over samples of the graph log-likelihood (by Jensen a stochastic lower bound on
``log q(G | D)`` that tightens as ``K`` grows, as in importance-weighted bounds). A per-edge
mixture ``sum_ij log (1/K) sum_k Bernoulli(G_ij; p_k,ij)`` is the likelihood of a *factorised*
model with the same marginals: it would only fit edge marginals and ignore the correlations that
the permutation creates (``i -> j`` and ``j -> i`` exclude each other, orders couple all edges),
which are exactly what BCNP adds over AVICI, so it does not estimate the paper's objective. The
loss implemented here is the per-graph form, divided by ``d (d - 1)`` so that its scale does not
depend on the number of nodes. A true edge that a permutation draw forbids costs
``log sigmoid(L_ij) + log eps`` instead of ``-inf``; this term is computed in the log domain with a
gradient to ``L`` and, straight through, to the order (see
:meth:`DAGDistribution.draws <skcausal_meta.models.bcnp.distribution.DAGDistribution.draws>`):
clipping the probability instead stops every gradient from such edges, and the edge logits then
barely learn the skeleton (a checkpoint shipped before was trained that way).
:meth:`DAGDistribution.log_prob <skcausal_meta.models.bcnp.distribution.DAGDistribution.log_prob>`
reports the same estimator (not divided by ``d (d - 1)``).
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import check_positive_int
from ..components.decoders import BilinearEdgeDecoder, PairHead
from ..components.encoder import AlternatingAxialEncoder, AxialBlock
from ..components.rows import select_rows
from ..components.statistics import check_statistics, n_statistics_channels, pair_statistics
from .distribution import DAGDistribution

__all__ = ["BCNP"]


def _attend(blocks, nodes: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Node-attention ``blocks`` over ``nodes`` ``[B, d, dim]``, with an optional per-head logit
    bias ``[B, heads, d, d]`` (a biased block reads its input as one row, ``[B, 1, d, dim]``)."""
    if bias is None:
        for block in blocks:
            nodes = block(nodes, axis=-2)
        return nodes
    nodes = nodes[:, None]
    for block in blocks:
        nodes = block(nodes, axis=-2, bias=bias)
    return nodes[:, 0]


class BCNP(nn.Module):
    """BCNP network: data ``[B, n, d, 2]`` -> a distribution over DAGs on ``d`` nodes.

    Parameters
    ----------
    in_features : int, default=2
        Features per cell (z-scored value, intervention flag).
    dim : int, default=64
        Width of all representations.
    n_layers : int, default=4
        Encoder layers (each attends over nodes, then over samples).
    n_decoder_layers : int, default=2
        Node-attention blocks in each of the order and edge branches of the decoder.
    n_heads : int, default=4
        Attention heads (and heads of the edge decoder).
    widening_factor : int, default=4
        Feed-forward width as a multiple of ``dim``.
    dropout : float, default=0.0
        Dropout in the attention blocks (training only).
    n_perm_samples : int, default=16
        Permutation samples ``K`` in the loss and (by default) in :meth:`edge_probs`.
    temperature : float, default=1.0
        Gumbel-Sinkhorn temperature (shapes the straight-through gradient only).
    sinkhorn_iters : int, default=20
        Sinkhorn iterations.
    eps : float, default=1e-6
        Floor of the order mask of a present edge and ceiling ``1 - eps`` of the probability of
        an absent edge in log-likelihoods.
    max_nodes : int, default=100
        Largest number of nodes accepted (the checkpoint's declared support).
    statistics : list of str, default=None
        Pair-statistics groups (:data:`~skcausal_meta.models.components.statistics.STATISTICS`)
        computed from the input: per-head logit biases of every attention over nodes (encoder and
        decoder), and the input of a :class:`~skcausal_meta.models.components.decoders.PairHead`
        whose symmetric output is added to the edge logits and whose antisymmetric output
        ``o_ij`` (evidence for ``i -> j``) adds ``mean_j o_ij`` to node ``i``'s order score.
        ``None`` is the paper network.
    pair_hidden : int, default=64
        Width of the pair head (only with ``statistics``).
    encoder_rows : int, default=None
        The encoder attends over at most this many rows
        (:func:`~skcausal_meta.models.components.rows.select_rows`) while the statistics read every
        row; ``None``: every row.
    """

    model_name = "bcnp"
    # config entries that set a number of blocks, and the names of those blocks (checked against a
    # checkpoint's weights before the network is built)
    depth_parameters = {"n_layers": "encoder.variable_blocks.", "n_decoder_layers": "order_blocks."}

    def __init__(
        self,
        in_features: int = 2,
        dim: int = 64,
        n_layers: int = 4,
        n_decoder_layers: int = 2,
        n_heads: int = 4,
        widening_factor: int = 4,
        dropout: float = 0.0,
        n_perm_samples: int = 16,
        temperature: float = 1.0,
        sinkhorn_iters: int = 20,
        eps: float = 1e-6,
        max_nodes: int = 100,
        statistics: list | None = None,
        pair_hidden: int = 64,
        encoder_rows: int | None = None,
    ):
        super().__init__()
        statistics = None if statistics is None else list(check_statistics(statistics))
        check_positive_int(n_decoder_layers, "n_decoder_layers")
        check_positive_int(n_perm_samples, "n_perm_samples")
        check_positive_int(sinkhorn_iters, "sinkhorn_iters")
        check_positive_int(max_nodes, "max_nodes", minimum=2)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        if not 0 < eps < 0.5:
            raise ValueError(f"eps must be in (0, 0.5), got {eps!r}")
        self.config = {
            "in_features": in_features, "dim": dim, "n_layers": n_layers,
            "n_decoder_layers": n_decoder_layers, "n_heads": n_heads,
            "widening_factor": widening_factor, "dropout": dropout,
            "n_perm_samples": n_perm_samples, "temperature": float(temperature),
            "sinkhorn_iters": sinkhorn_iters, "eps": float(eps), "max_nodes": max_nodes,
            "statistics": statistics, "pair_hidden": pair_hidden,
            "encoder_rows": None if encoder_rows is None else check_positive_int(encoder_rows, "encoder_rows"),
        }
        n_pair = n_statistics_channels(statistics) if statistics else 0
        self.encoder = AlternatingAxialEncoder(
            in_features, dim, n_layers, n_heads, widening_factor, dropout, n_query_rows=1,
            n_pair_features=n_pair,
        )
        if n_pair:
            self.decoder_bias = nn.Linear(n_pair, n_heads)
            self.pair_head = PairHead(dim, n_pair, pair_hidden)

        def node_blocks():
            return nn.ModuleList(
                AxialBlock(dim, n_heads, widening_factor, dropout) for _ in range(n_decoder_layers)
            )

        self.order_blocks, self.edge_blocks = node_blocks(), node_blocks()
        self.order_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1))
        self.edge_norm = nn.LayerNorm(dim)
        self.edge_decoder = BilinearEdgeDecoder(dim, n_heads, symmetric=True)

    # ------------------------------------------------------------------ network
    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[-1] != self.config["in_features"]:
            raise ValueError(
                f"x must have shape [B, n, d, {self.config['in_features']}], got {tuple(x.shape)}"
            )
        d = x.shape[2]
        if not 2 <= d <= self.config["max_nodes"]:
            raise ValueError(
                f"x has d={d} variables; this BCNP model supports 2 <= d <= {self.config['max_nodes']}"
            )

    def decode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Permutation logits and symmetric edge logits, both ``[B, d, d]``, for data ``x``.

        ``perm_logits[b, i, m]`` scores node ``i`` at position ``m``; ``edge_logits[b, i, j]``
        scores the unordered pair ``{i, j}``.
        """
        self._check_input(x)
        statistics = self.config["statistics"]
        pair = pair_statistics(x, statistics).to(x.dtype) if statistics else None
        rows = select_rows(x, self.config["encoder_rows"])  # the statistics read every row
        summary = self.encoder(rows, pair)[:, -1]  # the query row: [B, d, dim]
        bias = None if pair is None else self.decoder_bias(pair).permute(0, 3, 1, 2)
        nodes = _attend(self.order_blocks, summary, bias)
        scores = self.order_head(nodes).squeeze(-1)  # [B, d]
        if pair is not None:
            symmetric, antisymmetric = self.pair_head(summary, pair)
            scores = scores + antisymmetric.mean(-1)
        positions = torch.linspace(0, 1, x.shape[2], dtype=scores.dtype, device=scores.device)
        perm_logits = scores[:, :, None] * positions
        edge_logits = self.edge_decoder(self.edge_norm(_attend(self.edge_blocks, nodes, bias)))
        if pair is not None:
            edge_logits = edge_logits + symmetric
        return perm_logits, edge_logits

    def distribution(self, x: torch.Tensor) -> "DAGDistribution":
        """The distribution over DAGs for each data set in ``x`` (one forward pass)."""
        perm_logits, edge_logits = self.decode(x)
        c = self.config
        return DAGDistribution(perm_logits.float(), edge_logits.float(), c["temperature"], c["sinkhorn_iters"],
                               c["eps"])

    def loss(self, x: torch.Tensor, graphs: torch.Tensor, generator: torch.Generator | None = None):
        """Per-graph Monte-Carlo mixture loss (see the module docstring) and diagnostics.

        Parameters
        ----------
        x : torch.Tensor of shape [B, n, d, 2]
            Data sets (z-scored values, intervention flags).
        graphs : torch.Tensor of shape [B, d, d]
            True graphs, ``graphs[b, i, j] = 1`` for ``i -> j``.
        generator : torch.Generator or None
            Source of the permutation noise.

        Returns
        -------
        loss : scalar torch.Tensor
            ``-mean_b log q(G_b | D_b) / (d (d - 1))`` with ``n_perm_samples`` permutations.
        info : dict of float
            ``edge_bce``: the mean per-edge log loss of the Monte-Carlo marginals (comparable
            with AVICI's edge BCE).
        """
        dist = self.distribution(x)
        d = x.shape[2]
        # Sinkhorn, the order matrices and the mixture stay in float32 under bfloat16 autocast
        with torch.autocast(x.device.type, enabled=False):
            probs, log_probs = dist.draws(dist.noise(self.config["n_perm_samples"], generator))
            loss = -dist.mixture_log_prob(probs, graphs, log_probs).mean() / (d * (d - 1))
            with torch.no_grad():
                marginals = probs.mean(dim=1, keepdim=True)
                edge_bce = -dist.graph_log_likelihood(marginals, graphs).mean() / (d * (d - 1))
        return loss, {"edge_bce": float(edge_bce)}

    @torch.no_grad()
    def edge_probs(self, x: torch.Tensor, n_draws: int | None = None, generator=None) -> torch.Tensor:
        """Monte-Carlo edge marginals ``[B, d, d]`` (see :meth:`DAGDistribution.edge_probs`).

        ``n_draws`` permutation draws, by default ``n_perm_samples``; without ``generator`` a
        fixed seed is used, so repeated calls agree.
        """
        n_draws = self.config["n_perm_samples"] if n_draws is None else n_draws
        return self.distribution(x).edge_probs(n_draws, generator)
