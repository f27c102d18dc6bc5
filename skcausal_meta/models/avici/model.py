"""The AVICI network (Lorch et al. 2022, "Amortized Inference for Causal Structure Learning").

A data set ``x`` of shape ``[B, n, d, 2]`` (z-scored values and the intervention flag) is
embedded linearly and passed through the alternating axial-attention encoder
(:class:`~skcausal_meta.models.components.encoder.AlternatingAxialEncoder`). Max-pooling over the
sample axis gives one permutation-invariant vector per variable; two heads (LayerNorm + linear)
map it to ``u_i`` and ``v_j``, both L2-normalised, and the edge logit is

``logit(i -> j) = exp(tau) <u_i, v_j> + b``

with a learned temperature ``tau`` and bias ``b``; the diagonal is masked (no self loops). The
posterior is a product of independent Bernoulli edges, so sampled graphs may be cyclic.

With ``statistics`` the network also computes pair statistics of the data set
(:mod:`~skcausal_meta.models.components.statistics`) and adds them, per head, to the logits of
every attention over variables; with ``edge_head="factorised"`` a
:class:`~skcausal_meta.models.components.decoders.PairHead` on ``[h_i, h_j, s_ij]`` replaces the
dot product: ``p(i -> j) = sigmoid(a_ij) sigmoid(o_ij)`` with a symmetric adjacency logit and an
antisymmetric orientation logit, trained by a skeleton BCE over all pairs plus an orientation BCE
over the true edges (classical statistics find the skeleton, which the paper network learns only
from very large budgets; the split lets skeleton and orientation be learned and scored apart).

Training minimises the mean edge-wise binary cross-entropy (off-diagonal entries) plus
``lambda * rho(P)``, where ``rho`` is the spectral radius of the edge-probability matrix ``P``
(power iteration, zero iff ``P`` is acyclic). ``lambda`` is a dual variable updated by dual ascent
in :meth:`AviciModel.after_step`: it grows by ``dual_lr`` times an exponential moving average of
the penalty every ``dual_every`` steps once ``dual_burnin`` steps have passed, so the constraint
tightens only after the network has learnt to predict edges. The defaults follow the AVICI authors'
training script (step 1e-4 every 500 steps, moving-average rate 1e-4; theirs ramps the step up
linearly over the first 50,000 steps, here it starts after them, and the average starts at 0), so
runs shorter than the burn-in train without the penalty (a faster schedule made an early
checkpoint predict a sixth of the true edges; ``docs/training_log.md``). ``lambda`` and the moving average are buffers, saved with the weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..._validation import check_positive_int
from ..components.acyclicity import spectral_radius_penalty
from ..components.decoders import PairHead
from ..components.encoder import AlternatingAxialEncoder
from ..components.rows import select_rows
from ..components.statistics import check_statistics, n_statistics_channels, pair_statistics

__all__ = ["AviciModel"]


class AviciModel(nn.Module):
    """AVICI edge-probability network; follows the amortized-model contract of ``training.py``.

    Parameters
    ----------
    dim : int, default=64
        Width of the encoder.
    n_layers : int, default=4
        Encoder layers (each: one attention block over variables, one over samples).
    n_heads : int, default=4
        Attention heads.
    key_size : int, default=None
        Width of each head; ``None`` splits ``dim`` among the heads.
    widening_factor : int, default=4
        Feed-forward widening.
    dropout : float, default=0.0
        Encoder dropout (training only).
    out_dim : int, default=None
        Width of the ``u``, ``v`` embeddings; ``None`` means ``dim``.
    logit_bias_init : float, default=-3.0
        Initial edge-logit bias ``b`` (sparse graphs are the prior guess).
    temperature_init : float, default=0.0
        Initial log-temperature ``tau``.
    acyclicity_iters : int, default=10
        Power iterations of the spectral-radius penalty.
    dual_lr : float, default=1e-4
        Dual-ascent step of ``lambda`` (0 disables the acyclicity penalty).
    dual_every : int, default=500
        Steps between dual updates.
    dual_burnin : int, default=50_000
        Steps before the first dual update.
    penalty_ema : float, default=1e-4
        Rate of the exponential moving average of the penalty used by the dual update.
    statistics : list of str, default=None
        Pair-statistics groups (:data:`~skcausal_meta.models.components.statistics.STATISTICS`)
        computed from the input and given to every attention over variables as per-head logit
        biases and to the edge head; ``None`` is the paper network.
    edge_head : {"dot", "factorised"}, default="dot"
        ``"dot"``: the paper's ``exp(tau) <u_i, v_j> + b``. ``"factorised"``: an MLP on
        ``[h_i, h_j, s_ij]`` gives a symmetric adjacency logit ``a_ij`` and an antisymmetric
        orientation logit ``o_ij``, and ``p(i -> j) = sigmoid(a_ij) sigmoid(o_ij)``, so the
        skeleton and the orientation are learned (and trained) apart and
        ``p(i -> j) + p(j -> i) <= 1``.
    pair_hidden : int, default=64
        Width of the factorised edge head.
    encoder_rows : int, default=None
        The encoder attends over at most this many rows
        (:func:`~skcausal_meta.models.components.rows.select_rows`) while the statistics read every
        row; ``None``: every row.
    """

    model_name = "avici"
    # config entries that set a number of blocks, and the names of those blocks (checked against a
    # checkpoint's weights before the network is built)
    depth_parameters = {"n_layers": "encoder.variable_blocks."}

    def __init__(self, dim=64, n_layers=4, n_heads=4, widening_factor=4, dropout=0.0, out_dim=None,
                 logit_bias_init=-3.0, temperature_init=0.0, acyclicity_iters=10, dual_lr=1e-4,
                 dual_every=500, dual_burnin=50_000, penalty_ema=1e-4, key_size=None, statistics=None,
                 edge_head="dot", pair_hidden=64, encoder_rows=None):
        super().__init__()
        statistics = None if statistics is None else list(check_statistics(statistics))
        self.config = dict(dim=dim, n_layers=n_layers, n_heads=n_heads, key_size=key_size,
                           widening_factor=widening_factor,
                           dropout=dropout, out_dim=out_dim, logit_bias_init=logit_bias_init,
                           temperature_init=temperature_init, acyclicity_iters=acyclicity_iters,
                           dual_lr=dual_lr, dual_every=dual_every, dual_burnin=dual_burnin,
                           penalty_ema=penalty_ema, statistics=statistics, edge_head=edge_head,
                           pair_hidden=pair_hidden,
                           encoder_rows=None if encoder_rows is None else check_positive_int(encoder_rows, "encoder_rows"))
        if dual_lr < 0 or not 0 < penalty_ema <= 1:
            raise ValueError(f"dual_lr must be >= 0 and penalty_ema in (0, 1], got {dual_lr!r}, {penalty_ema!r}")
        if edge_head not in ("dot", "factorised"):
            raise ValueError(f"edge_head must be 'dot' or 'factorised', got {edge_head!r}")
        out_dim = out_dim or dim
        n_pair = n_statistics_channels(statistics) if statistics else 0
        self.encoder = AlternatingAxialEncoder(2, dim, n_layers, n_heads, widening_factor, dropout,
                                               key_size=key_size, n_pair_features=n_pair)
        if edge_head == "factorised":
            self.pair_head = PairHead(dim, n_pair, pair_hidden, logit_bias_init)
        else:
            self.head_u = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, out_dim))
            self.head_v = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, out_dim))
        self.log_temperature = nn.Parameter(torch.tensor(float(temperature_init)))
        self.logit_bias = nn.Parameter(torch.tensor(float(logit_bias_init)))
        self.register_buffer("dual", torch.zeros(()))
        self.register_buffer("penalty_average", torch.zeros(()))

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-variable representations ``[B, d, dim]`` and the pair statistics (or None)."""
        if x.ndim != 4 or x.shape[-1] != 2:
            raise ValueError(f"x must have shape [B, n, d, 2], got {tuple(x.shape)}")
        statistics = self.config["statistics"]
        pair = pair_statistics(x, statistics).to(x.dtype) if statistics else None
        rows = select_rows(x, self.config["encoder_rows"])  # the statistics read every row
        return self.encoder(rows, pair).amax(dim=1), pair  # max over rows: invariant to their order

    def edge_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Edge logits ``[B, d, d]`` (diagonal not yet masked) for inputs ``[B, n, d, 2]``."""
        z, pair = self._encode(x)
        if self.config["edge_head"] == "factorised":
            adjacency, orientation = self.pair_head(z, pair)
            log_p = F.logsigmoid(adjacency) + F.logsigmoid(orientation)
            return log_p - torch.log1p(-log_p.exp().clamp(max=1 - 1e-7))
        u = F.normalize(self.head_u(z), dim=-1)
        v = F.normalize(self.head_v(z), dim=-1)
        return self.log_temperature.exp() * (u @ v.transpose(-1, -2)) + self.logit_bias

    def edge_probs(self, x: torch.Tensor) -> torch.Tensor:
        """Edge probabilities ``[B, d, d]`` with a zero diagonal."""
        probs = torch.sigmoid(self.edge_logits(x).float())
        return probs * (1 - torch.eye(probs.shape[-1], device=probs.device))

    def _edge_bce(self, x: torch.Tensor, graphs: torch.Tensor, off: torch.Tensor):
        """Mean off-diagonal BCE and the edge probabilities. The factorised head is trained on the
        skeleton (every pair) and on the orientation of the true edges, each a mean BCE."""
        if self.config["edge_head"] != "factorised":
            logits = self.edge_logits(x).float()
            bce = F.binary_cross_entropy_with_logits(logits, graphs, reduction="none")
            return ((bce * off).sum((-1, -2)) / off.sum()).mean(), torch.sigmoid(logits)
        adjacency, orientation = (t.float() for t in self.pair_head(*self._encode(x)))
        adjacent = (graphs + graphs.transpose(-1, -2)).clamp(max=1)
        skeleton = F.binary_cross_entropy_with_logits(adjacency, adjacent, reduction="none")
        skeleton = ((skeleton * off).sum((-1, -2)) / off.sum()).mean()
        direction = F.binary_cross_entropy_with_logits(orientation, graphs, reduction="none")
        direction = (direction * adjacent).sum() / adjacent.sum().clamp_min(1)
        return skeleton + direction, torch.sigmoid(adjacency) * torch.sigmoid(orientation)

    def loss(self, x: torch.Tensor, graphs: torch.Tensor, generator=None):
        """Mean off-diagonal edge BCE + ``lambda`` * spectral-radius penalty.

        ``generator`` is unused: the power iteration starts deterministically (see
        :func:`~skcausal_meta.models.components.acyclicity.spectral_radius_penalty`).
        """
        off = 1 - torch.eye(graphs.shape[-1], device=graphs.device)
        # the loss and the power iteration stay in float32 under bfloat16 autocast (GPU training)
        bce, probs = self._edge_bce(x, graphs.float(), off)
        with torch.autocast(probs.device.type, enabled=False):
            rho = spectral_radius_penalty(probs.float() * off, self.config["acyclicity_iters"]).mean()
        loss = bce + self.dual * rho
        return loss, {"bce": float(bce.detach()), "acyclicity": float(rho.detach()), "dual": float(self.dual)}

    def after_step(self, step: int, stats: dict) -> None:
        """Dual ascent on ``lambda`` from the moving average of the acyclicity penalty."""
        c = self.config
        self.penalty_average.mul_(1 - c["penalty_ema"]).add_(c["penalty_ema"] * stats["acyclicity"])
        if step + 1 >= c["dual_burnin"] and (step + 1) % c["dual_every"] == 0:
            self.dual.add_(c["dual_lr"] * self.penalty_average)

