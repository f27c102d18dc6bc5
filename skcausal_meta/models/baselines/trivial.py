"""Trivial baselines: what a single statistic or a sort-and-regress heuristic already finds.

A method that does not beat these has not learnt causal structure, only a property of the
simulator. Two rank node pairs by a dependence statistic, which carries no direction:

* :class:`CorrelationEstimator`: ``|corr(x_i, x_j)|``;
* :class:`PartialCorrelationEstimator`: ``|partial corr(x_i, x_j | rest)|`` from a Ledoit-Wolf
  shrinkage precision matrix (in a linear-Gaussian SCM it is zero exactly when ``i`` and ``j``
  are neither adjacent nor co-parents of a common child).

Two exploit *sortability* (Reisach, Seiler & Weichwald, NeurIPS 2021; Reisach, Tami, Seiler,
Weichwald & Weichwald, NeurIPS 2023): simulated additive-noise data often have a per-node score
that grows along the causal order. They sort the nodes by that score and regress each on its
predecessors with an adaptive Lasso (BIC), keeping the non-zero coefficients as edges:

* :class:`VarSortnRegressEstimator`: the marginal variance (defeated by z-scoring);
* :class:`R2SortnRegressEstimator`: the R^2 of each node regressed on all the others
  (scale-invariant).

The sortability of a data set is measured by
:func:`skcausal_meta.datasets.varsortability` and :func:`skcausal_meta.datasets.r2_sortability`.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.stats import norm
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LassoLarsIC, LinearRegression

from ..._validation import check_positive_int, check_random_state
from ...datasets.descriptors import _r2_scores
from ..posterior import GraphPosterior
from ._empirical import EmpiricalGraphEstimator

__all__ = [
    "CorrelationEstimator",
    "PartialCorrelationEstimator",
    "VarSortnRegressEstimator",
    "R2SortnRegressEstimator",
]


# --------------------------------------------------------------------------------------------
# Dependence statistics
# --------------------------------------------------------------------------------------------
class _DependenceEstimator(EmpiricalGraphEstimator):
    """A symmetric statistic ``scores_ (d, d)`` in ``[0, 1]`` as edge scores, and DAG samples.

    Subclasses implement ``_statistic(X) -> (scores (d, d), n_conditioned)``. The posterior's
    ``edge_probs`` are the scores (the same for ``i -> j`` and ``j -> i``); its samples are
    ``n_graphs`` DAGs on the skeleton of the pairs whose statistic is significant (two-sided
    Fisher z-test at ``alpha``), each oriented along a uniformly random node order, since the
    statistic says nothing about direction.
    """

    def _statistic(self, X):
        raise NotImplementedError

    def _fit(self, X, mask):
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real) or not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be a float in (0, 1), got {self.alpha!r}")
        n_graphs = check_positive_int(self.n_graphs, "n_graphs")
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

    def _posterior(self, n_samples, rng) -> GraphPosterior:
        graphs = self.graphs_ if n_samples is None else GraphPosterior(self.graphs_).sample(n_samples, rng)
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

    def __init__(self, alpha=0.01, n_graphs=100, *, standardize=True, device="auto", random_state=None):
        self.alpha = alpha
        self.n_graphs = n_graphs
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

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

    def __init__(self, alpha=0.01, n_graphs=100, *, standardize=True, device="auto", random_state=None):
        self.alpha = alpha
        self.n_graphs = n_graphs
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _statistic(self, X):
        lw = LedoitWolf().fit(X)
        self.shrinkage_ = float(lw.shrinkage_)
        precision = lw.precision_
        scale = np.sqrt(np.diag(precision))
        return -precision / np.outer(scale, scale), X.shape[1] - 2


# --------------------------------------------------------------------------------------------
# Sort and regress
# --------------------------------------------------------------------------------------------
class _SortnRegressEstimator(EmpiricalGraphEstimator):
    """Order the nodes by ``_sort_scores(X)`` (ascending), then an adaptive Lasso per node.

    As in Reisach et al.'s ``sortnregress``: node ``order_[k]`` is regressed on
    ``order_[:k]`` by least squares; the absolute coefficients rescale the predictors of a
    :class:`~sklearn.linear_model.LassoLarsIC` (BIC) fit, and the non-zero coefficients of that
    fit are the edges. The posterior is the one DAG found.
    """

    def _sort_scores(self, X):
        raise NotImplementedError

    def _fit(self, X, mask):
        n, d = X.shape
        if n <= d:
            raise ValueError(f"{type(self).__name__} needs more rows than columns for the BIC of the Lasso, "
                             f"got n_samples={n} and {d} columns")
        self.order_ = np.argsort(self._sort_scores(X), kind="stable")
        coef = np.zeros((d, d))
        for k in range(1, d):
            parents, target = self.order_[:k], self.order_[k]
            weight = np.abs(LinearRegression().fit(X[:, parents], X[:, target]).coef_)
            lasso = LassoLarsIC(criterion="bic").fit(X[:, parents] * weight, X[:, target])
            coef[parents, target] = lasso.coef_ * weight
        self.coef_ = coef
        self.graphs_ = (coef != 0).astype(np.int8)[None]


class VarSortnRegressEstimator(_SortnRegressEstimator):
    """Var-SortnRegress (Reisach et al., 2021): sort by marginal variance, then sparse regression.

    In many simulated additive-noise SCMs the marginal variance grows along the causal order
    (high *varsortability*); sorting the nodes by variance then recovers the order without
    looking at any dependence. Each node is regressed on the nodes of lower variance with an
    adaptive Lasso (BIC) and the non-zero coefficients are its parents. The posterior is that
    single DAG.

    Unlike the other estimators it does not z-score by default: standardising sets every
    variance to 1, which leaves the order to rounding errors and the baseline uninformative
    (use :class:`R2SortnRegressEstimator` for a scale-invariant sort).

    Parameters
    ----------
    standardize : bool, default=False
        z-score the columns before sorting (see above).
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None
        Unused (the estimator is deterministic); accepted for a uniform API.

    Attributes
    ----------
    order_ : ndarray of shape (d,)
        The nodes sorted by increasing variance.
    coef_ : ndarray of shape (d, d)
        ``coef_[i, j]``: the Lasso coefficient of ``x_i`` in the regression of ``x_j``.
    graphs_ : ndarray of shape (1, d, d)
        The DAG of the non-zero coefficients.

    Examples
    --------
    A chain whose variance grows along the order is found, directions included, from the
    variances alone:

    >>> import numpy as np
    >>> from skcausal_meta.models.baselines import VarSortnRegressEstimator
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); x1 = x0 + rng.normal(size=500); x2 = x1 + rng.normal(size=500)
    >>> est = VarSortnRegressEstimator().fit(np.column_stack([x2, x0, x1]))
    >>> est.order_
    array([1, 2, 0])
    >>> est.predict_graph_posterior().samples[0]
    array([[0, 0, 0],
           [0, 0, 1],
           [1, 0, 0]], dtype=int8)
    """

    def __init__(self, *, standardize=False, device="auto", random_state=None):
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _sort_scores(self, X):
        return X.var(axis=0)


class R2SortnRegressEstimator(_SortnRegressEstimator):
    """R2-SortnRegress (Reisach et al., 2023): sort by R^2 given all other nodes, then regress.

    The coefficient of determination of each node regressed on all the others often grows along
    the causal order in simulated data (high *R^2-sortability*), and unlike the variance it does
    not change when the columns are rescaled. Each node is regressed on the nodes of lower R^2
    with an adaptive Lasso (BIC) and the non-zero coefficients are its parents. The posterior is
    that single DAG.

    Parameters
    ----------
    standardize : bool, default=True
        z-score the columns first (the R^2 do not change).
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None
        Unused (the estimator is deterministic); accepted for a uniform API.

    Attributes
    ----------
    order_ : ndarray of shape (d,)
        The nodes sorted by increasing R^2.
    coef_ : ndarray of shape (d, d)
        ``coef_[i, j]``: the Lasso coefficient of ``x_i`` in the regression of ``x_j``.
    graphs_ : ndarray of shape (1, d, d)
        The DAG of the non-zero coefficients.

    Examples
    --------
    In a collider ``x0 -> x2 <- x1`` the child is explained best by the others, so it comes
    last and receives both edges:

    >>> import numpy as np
    >>> from skcausal_meta.models.baselines import R2SortnRegressEstimator
    >>> rng = np.random.default_rng(0)
    >>> x0, x1 = rng.normal(size=(2, 500)); x2 = x0 + x1 + 0.5 * rng.normal(size=500)
    >>> est = R2SortnRegressEstimator().fit(np.column_stack([x0, x1, x2]))
    >>> est.order_[-1]
    np.int64(2)
    >>> est.predict_graph_posterior().samples[0]
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 0]], dtype=int8)
    """

    def __init__(self, *, standardize=True, device="auto", random_state=None):
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _sort_scores(self, X):
        return _r2_scores(X)
