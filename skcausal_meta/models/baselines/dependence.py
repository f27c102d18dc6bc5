"""Dependence baselines: node pairs ranked by a dependence statistic, which carries no direction.

What a single statistic already finds; a method that does not beat it has not learnt causal
structure, only a property of the simulator.

* :class:`CorrelationEstimator`: ``|corr(x_i, x_j)|``;
* :class:`PartialCorrelationEstimator`: ``|partial corr(x_i, x_j | rest)|`` from a Ledoit-Wolf
  shrinkage precision matrix (in a linear-Gaussian SCM it is zero exactly when ``i`` and ``j``
  are neither adjacent nor co-parents of a common child).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.stats import norm
from sklearn.covariance import LedoitWolf

from ..._validation import check_random_state
from .._constraints import OPEN_UNIT, POSITIVE_INT
from ..posterior import GraphPosterior
from ._empirical import EmpiricalGraphEstimator

__all__ = ["CorrelationEstimator", "PartialCorrelationEstimator"]


class _DependenceEstimator(EmpiricalGraphEstimator):
    """A symmetric statistic ``scores_ (d, d)`` in ``[0, 1]`` as edge scores, and DAG samples.

    Subclasses implement ``_statistic(X) -> (scores (d, d), n_conditioned)``. The posterior's
    ``edge_probs`` are the scores (the same for ``i -> j`` and ``j -> i``); its samples are
    ``n_graphs`` DAGs on the skeleton of the pairs whose statistic is significant (two-sided
    Fisher z-test at ``alpha``), each oriented along a uniformly random node order, since the
    statistic says nothing about direction. Both subclasses take the same parameters, set here.
    """

    _parameter_constraints: ClassVar[dict] = {
        **EmpiricalGraphEstimator._parameter_constraints,
        "alpha": [OPEN_UNIT],
        "n_graphs": [POSITIVE_INT],
    }

    def __init__(self, alpha=0.01, n_graphs=100, *, standardize=True, device="auto", random_state=None):
        self.alpha = alpha
        self.n_graphs = n_graphs
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _statistic(self, X):
        raise NotImplementedError

    def _fit(self, X, mask):
        n_graphs = int(self.n_graphs)
        rng = check_random_state(self.random_state)
        scores, n_conditioned = self._statistic(X)
        scores = np.clip(np.abs(scores), 0.0, 1.0)
        np.fill_diagonal(scores, 0.0)
        # Fisher z: atanh(r) * sqrt(n - 3 - k) is standard normal under independence
        dof = max(X.shape[0] - 3 - n_conditioned, 1)
        self.threshold_ = float(np.tanh(norm.ppf(1 - self.alpha / 2) / np.sqrt(dof)))
        self.scores_ = scores
        adjacent = scores > self.threshold_
        d = X.shape[1]
        graphs = np.empty((n_graphs, d, d), dtype=np.int8)
        for k in range(n_graphs):
            rank = np.argsort(rng.permutation(d))  # rank[i]: position of node i in the order
            graphs[k] = adjacent & (rank[:, None] < rank[None, :])
        self.graphs_ = graphs

    def _posterior(self, n_graphs, rng) -> GraphPosterior:
        graphs = self.graphs_ if n_graphs is None else GraphPosterior(self.graphs_).sample(n_graphs, rng)
        return GraphPosterior(graphs, edge_probs=self.scores_)


class CorrelationEstimator(_DependenceEstimator):
    """Absolute Pearson correlation as edge scores: the simplest dependence baseline.

    ``edge_probs[i, j] = edge_probs[j, i] = |corr(x_i, x_j)|``. These are scores in ``[0, 1]``,
    not probabilities: they rank pairs (edge and skeleton AUROC/AUPRC) but mean nothing for
    calibration or for the log probability of the true graph. The samples are DAGs on the pairs
    whose correlation is significant at level ``alpha`` (Fisher z-test), each oriented along a
    random node order (see the module docstring), so that sample-based metrics (E-SHD, CPDAG
    metrics) are defined and orientation is at chance level.

    Parameters
    ----------
    alpha : float, default=0.01
        Significance level of the two-sided test that keeps a pair in the sampled skeleton.
    n_graphs : int, default=100
        Number of randomly oriented DAGs in the posterior.
    standardize : bool, default=True
        z-score the columns (the correlation does not change).
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the node orders of the samples.

    Attributes
    ----------
    scores_ : ndarray of shape (d, d)
        ``|corr|``, zero diagonal.
    threshold_ : float
        The smallest ``|corr|`` significant at ``alpha``.
    graphs_ : ndarray of shape (n_graphs, d, d)
        The sampled DAGs (equal weights).

    Examples
    --------
    On a chain ``x0 -> x1 -> x2`` the ends correlate too, through ``x1``: the ranking puts the
    two edges first only because a path's correlation decays.

    >>> import numpy as np
    >>> from skcausal_meta.models.baselines import CorrelationEstimator
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); x1 = x0 + rng.normal(size=500); x2 = x1 + rng.normal(size=500)
    >>> est = CorrelationEstimator(random_state=0).fit(np.column_stack([x0, x1, x2]))
    >>> est.predict_graph_posterior().edge_probs.round(2)
    array([[0.  , 0.74, 0.61],
           [0.74, 0.  , 0.81],
           [0.61, 0.81, 0.  ]])
    """

    def _statistic(self, X):
        return np.corrcoef(X, rowvar=False), 0


class PartialCorrelationEstimator(_DependenceEstimator):
    """Absolute partial correlation given all other nodes, from a shrinkage precision matrix.

    ``edge_probs[i, j] = |-P_ij / sqrt(P_ii P_jj)|`` with ``P`` the Ledoit-Wolf estimate of the
    precision matrix (:class:`sklearn.covariance.LedoitWolf`), which stays well conditioned when
    ``n`` is close to ``d``. In a linear-Gaussian SCM the partial correlation of ``i`` and ``j``
    is zero unless they are adjacent or co-parents of a common child (the moral graph), so it
    ranks the skeleton well on its own. Scores, not probabilities, as for
    :class:`CorrelationEstimator`; the sampled skeleton keeps the pairs significant at ``alpha``
    (Fisher z-test with ``d - 2`` conditioning variables; approximate, since shrinkage lowers
    every partial correlation), each sample oriented along a random node order.

    Parameters
    ----------
    alpha : float, default=0.01
        Significance level of the two-sided test that keeps a pair in the sampled skeleton.
    n_graphs : int, default=100
        Number of randomly oriented DAGs in the posterior.
    standardize : bool, default=True
        z-score the columns first (the shrinkage target then is the identity correlation).
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the node orders of the samples.

    Attributes
    ----------
    scores_ : ndarray of shape (d, d)
        ``|partial corr|``, zero diagonal.
    shrinkage_ : float
        The Ledoit-Wolf shrinkage coefficient.
    threshold_ : float
        The smallest score significant at ``alpha``.
    graphs_ : ndarray of shape (n_graphs, d, d)
        The sampled DAGs (equal weights).

    Examples
    --------
    Given ``x1``, the ends of the chain ``x0 -> x1 -> x2`` are independent, which the plain
    correlation misses:

    >>> import numpy as np
    >>> from skcausal_meta.models.baselines import PartialCorrelationEstimator
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); x1 = x0 + rng.normal(size=500); x2 = x1 + rng.normal(size=500)
    >>> est = PartialCorrelationEstimator(random_state=0).fit(np.column_stack([x0, x1, x2]))
    >>> est.predict_graph_posterior().edge_probs.round(2)
    array([[0.  , 0.51, 0.05],
           [0.51, 0.  , 0.66],
           [0.05, 0.66, 0.  ]])
    """

    def _statistic(self, X):
        lw = LedoitWolf().fit(X)
        self.shrinkage_ = float(lw.shrinkage_)
        precision = lw.precision_
        scale = np.sqrt(np.diag(precision))
        return -precision / np.outer(scale, scale), X.shape[1] - 2
