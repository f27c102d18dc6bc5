"""Graph priors and the three likelihood models DiBS can use, with particles vectorised.

Each likelihood model holds the training data and exposes

* ``init_theta(n_particles, generator)`` - initial parameter particles (a list of tensors with
  leading particle dimension; empty for the marginal model),
* ``log_joint(G, theta)`` - ``log p(theta | G) + log p(D | G, theta)`` (or the marginal
  ``log p(D | G)``) for graphs ``G`` of shape ``(P, M, d, d)`` (``M`` Monte Carlo samples per
  particle), returning ``(P, M)``,
* ``log_predictive(G, theta, X, mask)`` - per-row ``log p(x_r | G, theta)`` (or the BGe posterior
  predictive) for graphs ``(S, d, d)`` and their parameters, returning ``(S, n)``.
"""

from __future__ import annotations

import math

import torch

from ..likelihoods import (
    BGe,
    gaussian_log_prior,
    linear_gaussian_log_likelihood,
    mlp_gaussian_log_likelihood,
)

__all__ = ["GRAPH_PRIORS", "make_likelihood_model", "log_graph_prior"]

GRAPH_PRIORS = ("er", "sf")


def log_graph_prior(G, kind, edges_per_node):
    """Unnormalised ``log p(G)`` of (soft) graphs ``(..., d, d)``.

    ``"er"``: Erdos-Renyi with edge probability ``p = 2 k / (d - 1)`` (``k`` expected edges per
    node), ``E log p + (d(d-1)/2 - E) log(1 - p)`` with ``E`` the (expected) edge count. For
    small ``d`` where ``2 k / (d - 1) > 1/2``, ``p`` is capped at 1/2 (a uniform prior).
    ``"sf"``: scale-free, ``-3 sum_j log(1 + indegree_j)``. Both as in DiBS.
    """
    d = G.shape[-1]
    if kind == "er":
        p = min(2.0 * edges_per_node / (d - 1), 0.5)
        n_edges = G.sum((-1, -2))
        return n_edges * math.log(p) + (d * (d - 1) / 2 - n_edges) * math.log1p(-p)
    return -3.0 * torch.log1p(G.sum(-2)).sum(-1)


class MarginalBGe:
    """Marginal inference: parameters integrated out with the BGe score."""

    def __init__(self, X, mask, **_):
        self.bge = BGe(X, mask)

    def init_theta(self, n_particles, generator):
        return []

    def log_joint(self, G, theta):
        return self.bge.log_marginal_likelihood(G)

    def log_predictive(self, G, theta, X, mask):
        return self.bge.log_predictive(G, X, mask)


class JointLinearGaussian:
    """Joint inference of graphs and edge weights ``W ~ N(0, param_prior_std^2)``.

    The prior density counts only the weights of present edges (as in DiBS).
    """

    def __init__(self, X, mask, obs_noise, param_prior_std, **_):
        self.X, self.mask = X, mask
        self.obs_noise, self.std = obs_noise, param_prior_std

    def init_theta(self, n_particles, generator):
        d = self.X.shape[1]
        shape = (n_particles, d, d)
        return [self.std * torch.randn(shape, generator=generator, dtype=self.X.dtype, device=self.X.device)]

    def _log_prior(self, G, W):
        log_density = -0.5 * (W / self.std) ** 2 - math.log(self.std) - 0.5 * math.log(2 * math.pi)
        return (G * log_density).sum((-1, -2))

    def log_joint(self, G, theta):
        W = theta[0].unsqueeze(1)  # (P, 1, d, d)
        log_lik = linear_gaussian_log_likelihood(G, W, self.X, self.mask, self.obs_noise).sum(-1)
        return log_lik + self._log_prior(G, W)

    def log_predictive(self, G, theta, X, mask):
        return linear_gaussian_log_likelihood(G, theta[0], X, mask, self.obs_noise)


class JointMLPGaussian:
    """Joint inference of graphs and node-wise MLP parameters ``~ N(0, param_prior_std^2)``.

    ``theta`` lists the weights of every layer, then the biases, each with leading particle
    dimension; first-layer weights of absent edges do not enter the prior (as in DiBS).
    """

    def __init__(self, X, mask, obs_noise, param_prior_std, hidden_layers, **_):
        self.X, self.mask = X, mask
        self.obs_noise, self.std = obs_noise, param_prior_std
        d = X.shape[1]
        widths = [d, *hidden_layers, 1]
        self.shapes = [(d, a, b) for a, b in zip(widths[:-1], widths[1:])] + [(d, b) for b in widths[1:]]
        self.n_layers = len(widths) - 1

    def init_theta(self, n_particles, generator):
        opts = dict(generator=generator, dtype=self.X.dtype, device=self.X.device)
        return [self.std * torch.randn((n_particles, *s), **opts) for s in self.shapes]

    def _split(self, theta, expand):
        theta = [t.unsqueeze(1) for t in theta] if expand else theta
        return theta[: self.n_layers], theta[self.n_layers :]

    def log_joint(self, G, theta):
        weights, biases = self._split(theta, expand=True)
        log_lik = mlp_gaussian_log_likelihood(G, weights, biases, self.X, self.mask, self.obs_noise).sum(-1)
        first = gaussian_log_prior(weights[0], self.std, sum_dims=1)  # (P, 1, d_j, d_in)
        log_prior = (G.transpose(-1, -2) * first).sum((-1, -2))
        rest = sum(gaussian_log_prior(t, self.std, sum_dims=t.ndim - 2) for t in [*weights[1:], *biases])
        return log_lik + log_prior + rest

    def log_predictive(self, G, theta, X, mask):
        weights, biases = self._split(theta, expand=False)
        return mlp_gaussian_log_likelihood(G, weights, biases, X, mask, self.obs_noise)


_LIKELIHOODS = {"bge": MarginalBGe, "linear": JointLinearGaussian, "mlp": JointMLPGaussian}


def make_likelihood_model(name, X, mask, **params):
    """Build the likelihood model ``name`` (``"bge"``, ``"linear"`` or ``"mlp"``)."""
    if name not in _LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {sorted(_LIKELIHOODS)}, got {name!r}")
    return _LIKELIHOODS[name](X, mask, **params)
