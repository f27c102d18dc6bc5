"""Held-out likelihood of the posterior predictive: NIL on observational rows, I-NIL on
interventional rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp
from sklearn.utils import check_array

from skcausal_meta._validation import check_interventions

from ._inputs import _check_weights

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = ["nil", "i_nil"]


def _per_row_nll(log_likelihood, args, n_rows: int, weights) -> np.ndarray:
    """``-log sum_k w_k p(x_n | G_k)`` per row from a ``(K, N)`` array or a callable."""
    ll = log_likelihood(*args) if callable(log_likelihood) else log_likelihood
    ll = np.asarray(ll, dtype=float)
    if ll.ndim != 2 or ll.shape[1] != n_rows:
        raise ValueError(
            f"log_likelihood must have shape (K, N) with N = {n_rows} rows, got {ll.shape}"
        )
    if np.isnan(ll).any() or (ll == np.inf).any():
        raise ValueError("log_likelihood contains NaN or +inf")
    w = _check_weights(weights, ll.shape[0])
    with np.errstate(divide="ignore"):
        return -logsumexp(ll, axis=0, b=w[:, None])


def nil(
    log_likelihood: ArrayLike | Callable[[np.ndarray], ArrayLike], X_test: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Negative log-likelihood (NIL) of the posterior predictive on held-out observational rows.

    ``NIL = -(1/N) sum_n log sum_k w_k p(x_n | G_k, theta_k)``: the per-row posterior-predictive
    mixture over the ``K`` samples, computed with log-sum-exp. Lower is better.

    For graph-only posteriors (no mechanism parameters), obtain ``p(x | G_k)`` from the plug-in
    likelihood :class:`skcausal_meta.models.plugin_likelihood.PluginLikelihood`: each sampled
    graph's node mechanisms are fitted on the training data (linear-Gaussian OLS by default, a
    nonlinear scikit-learn regressor as an option) and the Gaussian node terms are summed.

    Parameters
    ----------
    log_likelihood : array-like of shape (K, N) or callable
        Per-sample, per-row log densities, or ``f(X) -> (K, N)``.
    X_test : array-like of shape (N, d)
        Held-out observational rows.
    weights : array-like of shape (K,), default=None
        Posterior weights summing to one (uniform when None), e.g.
        ``np.exp(posterior.log_weights)``.

    Returns
    -------
    float

    Examples
    --------
    Two samples with densities ``(0.5, 0.5)`` and ``(0.1, 0.3)`` on two rows: the mixture gives the
    rows 0.3 and 0.4, so ``NIL = -(log 0.3 + log 0.4) / 2``:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import nil
    >>> log_likelihood = np.log([[0.5, 0.5], [0.1, 0.3]])
    >>> X_test = np.zeros((2, 3))  # only its number of rows is used with an array
    >>> round(nil(log_likelihood, X_test), 3), round(nil(log_likelihood, X_test, weights=[1, 0]), 3)
    (1.06, 0.693)

    For graph samples, the plug-in likelihood gives ``p(x | G)``; the true graph explains held-out
    rows better than the empty one:

    >>> from skcausal_meta import make_scm_family
    >>> from skcausal_meta.models.plugin_likelihood import PluginLikelihood
    >>> X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=200,
    ...                                n_interventional=0, random_state=0)
    >>> X_train, X_test = X[0, :150], X[0, 150:]
    >>> truth = PluginLikelihood().fit(graphs[:1], X_train)
    >>> empty = PluginLikelihood().fit(np.zeros_like(graphs[:1]), X_train)
    >>> bool(nil(truth, X_test) < nil(empty, X_test))
    True
    """
    X = check_array(X_test, dtype=np.float64, input_name="X_test")
    return float(np.mean(_per_row_nll(log_likelihood, (X,), X.shape[0], weights)))


def i_nil(
    log_likelihood: ArrayLike | Callable[[np.ndarray, np.ndarray], ArrayLike],
    X_int: ArrayLike,
    interventions: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Interventional NIL: the NIL on interventional rows, averaged over intervention targets.

    ``log_likelihood(X, interventions)`` must drop the intervened nodes' terms (the truncated
    factorisation). Rows are grouped by their mask row (each distinct target set, including the
    all-observational one if present, is one group); the NIL of each group is computed as in
    :func:`nil` and the groups' NILs are averaged with equal weight, so frequent targets do not
    dominate. Lower is better.

    Parameters
    ----------
    log_likelihood : array-like of shape (K, N) or callable
        Per-sample, per-row log densities, or ``f(X, interventions) -> (K, N)``.
    X_int : array-like of shape (N, d)
        Held-out interventional rows.
    interventions : array-like of shape (N, d)
        Boolean mask, ``interventions[r, j]`` True when node ``j`` was intervened on in row ``r``.
    weights : array-like of shape (K,), default=None
        Posterior weights summing to one (uniform when None).

    Returns
    -------
    float

    Examples
    --------
    One row intervened on node 0 (density 0.5) and two on node 1 (0.25 each): the two groups'
    NILs, ``log 2`` and ``log 4``, are averaged with equal weight, whereas :func:`nil` would weigh
    the rows equally:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import i_nil, nil
    >>> log_likelihood = np.log([[0.5, 0.25, 0.25]])
    >>> mask = np.array([[True, False], [False, True], [False, True]])
    >>> X_int = np.zeros((3, 2))  # only its shape is used with an array
    >>> round(i_nil(log_likelihood, X_int, mask), 3), round(nil(log_likelihood, X_int), 3)
    (1.04, 1.155)
    """
    X = check_array(X_int, dtype=np.float64, input_name="X_int")
    mask = check_interventions(interventions, *X.shape)
    per_row = _per_row_nll(log_likelihood, (X, mask), X.shape[0], weights)
    _, group = np.unique(mask, axis=0, return_inverse=True)
    group = group.ravel()
    group_nil = np.bincount(group, weights=per_row) / np.bincount(group)
    return float(group_nil.mean())


