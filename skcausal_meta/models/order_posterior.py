"""Exact edge marginals of the linear-Gaussian (BGe) posterior under an order-modular prior.

The dynamic programme of Koivisto and Sood (2004) sums over all node orders and, within each,
over all parent sets the order allows, with sums over the ``2^d`` subsets of the nodes (here
``O(d^3 2^d)`` operations: one subset transform per edge), so the posterior ``p(i -> j | D)`` is
exact for up to about 16 nodes: no sampling, no convergence. It is
the reference a posterior-over-DAGs method can be held to on linear-Gaussian data: a method that
scores far below it has not used the data well; one that scores near it cannot gain much more
without information the likelihood lacks (for the directed edges, what orients within a Markov
equivalence class, e.g. the sortability of simulated data).

The prior is order-modular: a uniform node order, and each node takes each predecessor as a parent
independently with probability ``edge_prob``. Unlike a prior over DAGs alone, it weights a DAG
by its number of topological orders, which favours DAGs with many (e.g. a chain rooted in its
middle over one rooted at an end, and graphs with an extra edge that orders breaking a sparse
graph need); this is the price of exactness at this cost.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import logsumexp

from .._validation import check_interventions
from .bge import BGe

__all__ = ["order_edge_posterior", "MAX_NODES"]

#: Largest ``d`` accepted: the programme holds ``d 2^d`` log scores (16 nodes: 1M of them).
MAX_NODES = 16


def _subset_log_sums(log_values: np.ndarray, d: int) -> np.ndarray:
    """``out[U] = log sum_{S subset of U} exp(log_values[S])`` over bit-mask subsets (zeta transform)."""
    out = log_values.copy()
    masks = np.arange(2**d)
    for bit in range(d):
        has = masks[(masks >> bit) & 1 == 1]
        out[has] = np.logaddexp(out[has], out[has ^ (1 << bit)])
    return out


def _local_log_scores(X: np.ndarray, mask: np.ndarray, edge_prob: float) -> np.ndarray:
    """``beta[j, S] = log p(x_j | x_S) + |S| log(edge_prob / (1 - edge_prob))`` for every bit mask ``S``
    (``-inf`` where ``S`` holds ``j``)."""
    d = X.shape[1]
    masks = np.arange(2**d)
    members = ((masks[:, None] >> np.arange(d)) & 1).astype(np.float64)  # (2^d, d): S as indicators
    graphs = np.repeat(members[:, :, None], d, axis=2) * (1 - np.eye(d))  # column j: the parents S \ {j}
    bge = BGe(torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(mask))
    with torch.no_grad():
        scores = bge.node_scores(torch.as_tensor(graphs)).numpy().T  # (d, 2^d)
    scores = scores + members.sum(1) * np.log(edge_prob / (1 - edge_prob))
    scores[members.T.astype(bool)] = -np.inf
    return scores


def order_edge_posterior(X, interventions=None, *, edges_per_node: float = 2.0, standardize: bool = True):
    """Exact ``p(i -> j | D)`` under the BGe likelihood and an order-modular graph prior.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Data, ``d <= MAX_NODES``.
    interventions : array-like of shape (n, d), dtype bool, default=None
        Intervention mask: rows intervened on node ``j`` are left out of ``j``'s score.
    edges_per_node : float, default=2.0
        Expected edges per node of the prior: each predecessor in the order is a parent with
        probability ``2 edges_per_node / (d - 1)`` (at most 0.5).
    standardize : bool, default=True
        Centre and scale each column first (as the estimators do).

    Returns
    -------
    ndarray of shape (d, d)
        Edge marginals, zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); x1 = 2 * x0 + rng.normal(size=500); x2 = rng.normal(size=500)
    >>> probs = order_edge_posterior(np.c_[x0, x1, x2], edges_per_node=1.0)
    >>> bool(probs[0, 1] + probs[1, 0] > 0.99), bool(probs[0, 2] + probs[2, 0] < 0.1)
    (True, True)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must be a 2-d array with at least 2 columns; got shape {X.shape}")
    n, d = X.shape
    if d > MAX_NODES:
        raise ValueError(f"X has d = {d} columns; the exact programme takes at most MAX_NODES = {MAX_NODES}")
    if not edges_per_node > 0:
        raise ValueError(f"edges_per_node must be > 0; got {edges_per_node!r}")
    mask = check_interventions(interventions, n, d)
    if standardize:
        X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    edge_prob = min(2 * edges_per_node / (d - 1), 0.5)
    beta = _local_log_scores(X, mask, edge_prob)  # (d, 2^d)
    alpha = np.stack([_subset_log_sums(beta[j], d) for j in range(d)])  # parents from within U

    full, masks = 2**d - 1, np.arange(2**d)
    bits = (masks[:, None] >> np.arange(d)) & 1  # (2^d, d)
    order = np.argsort(bits.sum(1), kind="stable")  # subsets by size: smaller ones first
    forward = np.full(2**d, -np.inf)  # log sum over orders of U of the factors of U's nodes
    forward[0] = 0.0
    for U in order[1:]:
        nodes = np.flatnonzero(bits[U])
        forward[U] = logsumexp(alpha[nodes, U ^ (1 << nodes)] + forward[U ^ (1 << nodes)])
    backward = np.full(2**d, -np.inf)  # log sum over the orders of the rest, placed after U
    backward[full] = 0.0
    for U in order[::-1][1:]:
        nodes = np.flatnonzero(bits[U] == 0)
        backward[U] = logsumexp(alpha[nodes, U] + backward[U | (1 << nodes)])
    log_evidence = forward[full]

    probs = np.zeros((d, d))
    for j in range(d):
        prefixes = masks[bits[:, j] == 0]  # U: the nodes before j
        for i in range(d):
            if i == j:
                continue
            with_i = np.where(bits[:, i] == 1, beta[j], -np.inf)  # parent sets that hold i
            alpha_i = _subset_log_sums(with_i, d)[prefixes]
            terms = forward[prefixes] + alpha_i + backward[prefixes | (1 << j)]
            probs[i, j] = np.exp(logsumexp(terms) - log_evidence)
    return np.clip(probs, 0.0, 1.0)
