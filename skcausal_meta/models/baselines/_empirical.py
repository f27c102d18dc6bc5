"""Shared posterior of the baselines: an equally weighted set of sampled graphs."""

from __future__ import annotations

from ..base import BaseCausalEstimator, GraphPosterior


class EmpiricalGraphEstimator(BaseCausalEstimator):
    """Base of the baselines: ``_fit`` stores graphs ``graphs_ (S, d, d)``; the posterior gives
    them equal weights, and ``n_samples`` resamples them with replacement."""

    def _posterior(self, n_samples, rng) -> GraphPosterior:
        posterior = GraphPosterior(self.graphs_)
        return posterior if n_samples is None else GraphPosterior(posterior.sample(n_samples, rng))
