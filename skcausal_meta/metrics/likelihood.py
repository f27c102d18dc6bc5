"""Held-out likelihood of the posterior predictive: NIL on observational rows, I-NIL on
interventional rows."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.utils import check_array

from skcausal_meta._validation import check_interventions

from ._inputs import _check_weights

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


def nil(log_likelihood, X_test, weights=None) -> float:
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
    """
    X = check_array(X_test, dtype=np.float64, input_name="X_test")
    return float(np.mean(_per_row_nll(log_likelihood, (X,), X.shape[0], weights)))


def i_nil(log_likelihood, X_int, interventions, weights=None) -> float:
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
    """
    X = check_array(X_int, dtype=np.float64, input_name="X_int")
    mask = check_interventions(interventions, *X.shape)
    per_row = _per_row_nll(log_likelihood, (X, mask), X.shape[0], weights)
    _, group = np.unique(mask, axis=0, return_inverse=True)
    group = group.ravel()
    group_nil = np.bincount(group, weights=per_row) / np.bincount(group)
    return float(group_nil.mean())


