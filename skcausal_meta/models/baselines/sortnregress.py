"""Sort-and-regress baselines: what *sortability* alone finds.

Simulated additive-noise data often have a per-node score that grows along the causal order
(Reisach, Seiler & Weichwald, NeurIPS 2021; Reisach, Tami, Seiler, Weichwald & Weichwald,
NeurIPS 2023). These sort the nodes by that score and regress each on its predecessors with an
adaptive Lasso (BIC), keeping the non-zero coefficients as edges:

* :class:`VarSortnRegressEstimator`: the marginal variance (defeated by z-scoring);
* :class:`R2SortnRegressEstimator`: the R^2 of each node regressed on all the others
  (scale-invariant).

The sortability of a data set is measured by
:func:`skcausal_meta.datasets.varsortability` and :func:`skcausal_meta.datasets.r2_sortability`.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LassoLarsIC, LinearRegression

from ...datasets.descriptors import _r2_scores
from ._empirical import EmpiricalGraphEstimator

__all__ = ["VarSortnRegressEstimator", "R2SortnRegressEstimator"]


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
