"""Shared posterior of the baselines: an equally weighted set of sampled graphs."""

from __future__ import annotations

from ..base import BaseCausalEstimator
from ..posterior import GraphPosterior


def _uniform_posterior(graphs) -> GraphPosterior:
    """Equal weights; edge marginals are the exact frequencies ``count / S`` (summing ``S``
    weights ``1 / S`` can round above 1)."""
    return GraphPosterior(graphs, edge_probs=graphs.mean(axis=0))


class EmpiricalGraphEstimator(BaseCausalEstimator):
    """Base of the baselines: ``_fit`` stores graphs ``graphs_ (S, d, d)``; the posterior gives
    them equal weights, and ``n_graphs`` resamples them with replacement."""

    def _posterior(self, n_graphs, rng) -> GraphPosterior:
        if n_graphs is None:
            return _uniform_posterior(self.graphs_)
        return _uniform_posterior(GraphPosterior(self.graphs_).sample(n_graphs, rng))
