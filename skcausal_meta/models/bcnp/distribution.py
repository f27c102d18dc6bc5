"""BCNP's distribution over DAGs, given the decoder's permutation and edge logits.

``q(G | D) = E_{P ~ GS(perm_logits)} prod_{i != j} Bernoulli(G_ij; sigmoid(L_ij) (P T P^T)_ij)``

with ``GS`` the Gumbel-matching distribution (Gumbel-Sinkhorn relaxed, Hungarian rounded) and
``T`` the strictly lower-triangular matrix of ones. Keeping it apart from the network lets the
estimator run the network once (``fit``) and then sample, score and summarise the posterior
without touching the data again. See :mod:`skcausal_meta.models.bcnp.model` for why the
likelihood of a graph is a mixture over permutations of whole-graph likelihoods.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..._validation import check_positive_int
from ..components.permutation import sample_gumbel, sample_permutations, straight_through

__all__ = ["DAGDistribution"]


def _generator(generator, device) -> torch.Generator:
    """``generator``, or a fixed-seed one so that a call without one is deterministic."""
    return generator if generator is not None else torch.Generator(device=device).manual_seed(0)


class DAGDistribution:
    """A batch of BCNP posteriors over DAGs on ``d`` nodes.

    Parameters
    ----------
    perm_logits : torch.Tensor of shape [B, d, d]
        ``perm_logits[b, i, m]`` scores node ``i`` at position ``m`` of the order.
    edge_logits : torch.Tensor of shape [B, d, d]
        Symmetric logits of the unordered pairs.
    temperature : float
        Gumbel-Sinkhorn temperature (gradient only).
    sinkhorn_iters : int
        Sinkhorn iterations.
    eps : float
        Floor of the order mask of a present edge and ceiling ``1 - eps`` of the probability of
        an absent edge inside log-likelihoods (see :meth:`draws`).
    """

    def __init__(self, perm_logits, edge_logits, temperature: float, sinkhorn_iters: int, eps: float):
        if perm_logits.shape != edge_logits.shape or perm_logits.ndim != 3:
            raise ValueError(
                "perm_logits and edge_logits must both have shape [B, d, d], got "
                f"{tuple(perm_logits.shape)} and {tuple(edge_logits.shape)}"
            )
        self.perm_logits, self.edge_logits = perm_logits, edge_logits
        self.temperature, self.sinkhorn_iters, self.eps = temperature, sinkhorn_iters, eps

    @property
    def n_nodes(self) -> int:
        return self.perm_logits.shape[-1]

    def noise(self, n_draws: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Gumbel noise ``[B, K, d, d]`` that fixes ``K = n_draws`` permutation draws."""
        n_draws = check_positive_int(n_draws, "n_draws")
        B, d, _ = self.perm_logits.shape
        return sample_gumbel((B, n_draws, d, d), generator=generator,
                             dtype=self.perm_logits.dtype, device=self.perm_logits.device)

    def draws(self, gumbel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge probabilities of each permutation draw and their logarithms, both ``[B, K, d, d]``.

        ``probs = sigmoid(L) * M`` with ``M = P T P^T``: ``M_ij = 1`` exactly when node ``i`` comes
        after node ``j`` in the order, so ``i -> j`` is allowed only then and every graph drawn
        from these probabilities is a DAG. ``probs`` carries the straight-through gradient of the
        permutation (that of the Sinkhorn relaxation ``S``).

        ``log_probs = log sigmoid(L) + log max(M, eps)`` is computed in the log domain, with the
        straight-through gradient of ``log max(S T S^T, eps)`` for ``log M``. Clipping
        ``sigmoid(L) * M`` itself would give a true edge that the order forbids (``M_ij = 0``) no
        gradient at all, neither to ``L`` nor to the order, so the loss could never learn to allow
        it; here such an edge still pulls ``L_ij`` up (by ``1 - sigmoid(L_ij)``) and moves the
        relaxed order towards allowing it (by ``d log (S T S^T)_ij``).
        """
        allowed, soft, lower = self._orders(gumbel)
        log_allowed = allowed.clamp_min(self.eps).log()
        if torch.is_grad_enabled():  # the relaxation only serves the backward pass
            soft_allowed = soft @ lower @ soft.transpose(-1, -2)
            log_allowed = straight_through(log_allowed, soft_allowed.clamp_min(self.eps).log())
        edge_logits = self.edge_logits.unsqueeze(1)
        return torch.sigmoid(edge_logits) * allowed, F.logsigmoid(edge_logits) + log_allowed

    def probs(self, gumbel: torch.Tensor) -> torch.Tensor:
        """Edge probabilities ``sigmoid(L) * P T P^T`` for each permutation draw, ``[B, K, d, d]``
        (the first output of :meth:`draws`, without computing the second)."""
        return torch.sigmoid(self.edge_logits).unsqueeze(1) * self._orders(gumbel)[0]

    def _orders(self, gumbel):
        """``M = P T P^T`` of each draw (straight-through), the relaxed ``S`` and ``T``."""
        perms, soft = sample_permutations(
            self.perm_logits, temperature=self.temperature, n_iters=self.sinkhorn_iters, gumbel=gumbel
        )
        d = self.n_nodes
        lower = torch.ones(d, d, dtype=perms.dtype, device=perms.device).tril(-1)
        return perms @ lower @ perms.transpose(-1, -2), soft, lower

    def graph_log_likelihood(self, probs: torch.Tensor, graphs: torch.Tensor,
                             log_probs: torch.Tensor | None = None) -> torch.Tensor:
        """``sum_{i != j} log Bernoulli(G_ij; p_k,ij)`` for each draw ``k``: ``[B, K]``.

        ``probs`` is ``[B, K, d, d]`` and ``graphs`` ``[B, d, d]``, one graph per data set.
        ``log_probs`` (from :meth:`draws`) replaces ``log max(probs, eps)`` for present edges;
        absent edges use ``log(1 - min(probs, 1 - eps))``.
        """
        if log_probs is None:
            log_probs = probs.clamp_min(self.eps).log()
        g = graphs.to(probs.dtype).unsqueeze(1)
        per_edge = g * log_probs + (1 - g) * torch.log1p(-probs.clamp(max=1 - self.eps))
        off_diagonal = 1 - torch.eye(self.n_nodes, dtype=probs.dtype, device=probs.device)
        return (per_edge * off_diagonal).sum(dim=(-1, -2))

    def mixture_log_prob(self, probs: torch.Tensor, graphs: torch.Tensor,
                         log_probs: torch.Tensor | None = None) -> torch.Tensor:
        """``log (1/K) sum_k q(G | P_k)``, the per-graph Monte-Carlo mixture: ``[B]``."""
        log_lik = self.graph_log_likelihood(probs, graphs, log_probs)
        return torch.logsumexp(log_lik, dim=1) - math.log(log_lik.shape[1])

    @torch.no_grad()
    def log_prob(self, graphs: torch.Tensor, n_draws: int = 256, generator=None) -> torch.Tensor:
        """Monte-Carlo estimate of ``log q(G | D)`` for one graph per data set, ``[B]``.

        The same ``n_draws`` permutation draws (fixed seed without ``generator``) are used for
        every call, so that graphs are compared on common random numbers.
        """
        gumbel = self.noise(n_draws, _generator(generator, self.perm_logits.device))
        probs, log_probs = self.draws(gumbel)
        return self.mixture_log_prob(probs, graphs, log_probs)

    @torch.no_grad()
    def edge_probs(self, n_draws: int = 256, generator=None) -> torch.Tensor:
        """Monte-Carlo edge marginals ``E_P[sigmoid(L) * P T P^T]``, ``[B, d, d]``, from
        ``n_draws`` permutation draws.

        Averaging the Bernoulli means rather than sampled graphs (Rao-Blackwellisation) lowers
        the variance; the diagonal is zero.
        """
        gumbel = self.noise(n_draws, _generator(generator, self.perm_logits.device))
        return self.probs(gumbel).mean(dim=1)

    @torch.no_grad()
    def sample(self, n_graphs: int, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n_graphs`` DAGs per data set, one permutation each.

        Returns
        -------
        graphs : torch.Tensor of shape [B, n_graphs, d, d]
            0/1 adjacency matrices, all acyclic.
        probs : torch.Tensor of shape [B, n_graphs, d, d]
            The Bernoulli means each graph was drawn from.
        """
        generator = _generator(generator, self.perm_logits.device)
        probs = self.probs(self.noise(n_graphs, generator))
        return torch.bernoulli(probs, generator=generator), probs
