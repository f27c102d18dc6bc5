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

:func:`batched_edge_posterior` runs the programme in torch on many small problems at once (the
``bge_subsets`` pair statistic solves it on a subset of 8 variables around every variable);
:func:`order_edge_posterior` is the one-data-set interface.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .._validation import check_interventions
from .bge import family_score

__all__ = ["order_edge_posterior", "MAX_NODES"]

#: Largest ``d`` accepted: the programme holds ``d^2 2^d`` log sums (16 nodes: 16M of them).
MAX_NODES = 16


@functools.lru_cache(maxsize=None)
def _tables(k: int):
    """Bit tables of the subsets of ``k`` nodes: membership ``(2^k, k)`` and, per subset size, the
    subsets, their members and their non-members (index tensors)."""
    masks = torch.arange(2**k)
    bits = ((masks[:, None] >> torch.arange(k)) & 1).bool()
    size = bits.sum(1)
    layers = []
    for s in range(k + 1):
        subsets = masks[size == s]
        inside = torch.stack([torch.nonzero(bits[u]).flatten() for u in subsets]) if s else None
        outside = torch.stack([torch.nonzero(~bits[u]).flatten() for u in subsets]) if s < k else None
        layers.append((subsets, inside, outside))
    return bits, layers


def _subset_log_sums(values: torch.Tensor, k: int, *, supersets: bool = False) -> torch.Tensor:
    """``out[..., U] = log sum_{S subset of U} exp(values[..., S])`` over bit masks (zeta transform);
    with ``supersets`` the sum runs over the ``S`` that hold ``U``."""
    out = values.clone()
    lead = out.shape[:-1]
    for bit in range(k):
        pairs = out.view(*lead, 2 ** (k - 1 - bit), 2, 2**bit)  # [..., :, 0, :] lacks the bit
        source, target = (pairs[..., 1, :], pairs[..., 0, :]) if supersets else (pairs[..., 0, :], pairs[..., 1, :])
        target.copy_(torch.logaddexp(target, source))
    return out


def bge_posterior_matrices(z: torch.Tensor, observed: torch.Tensor, alpha_mu: float, t: float):
    """BGe's posterior matrices ``R`` ``[..., k(node), k, k]`` and row counts ``N`` ``[..., k]``.

    ``z`` ``[..., n, k]`` holds the data, ``observed`` ``[..., n, k]`` (float 0/1) whether row ``r``
    informs node ``j`` (it is not intervened on ``j``): ``R_j = t I + S_j + N_j alpha_mu / (N_j +
    alpha_mu) xbar_j xbar_j^T`` over the rows that inform ``j`` (see :class:`~.bge.BGe`).
    """
    N = observed.sum(-2)  # [..., k]
    first = observed.transpose(-1, -2) @ z  # [..., k(node), k]: sums over the node's rows
    lead, (n, k), nodes = z.shape[:-2], z.shape[-2:], observed.shape[-1]
    weighted = (observed[..., :, :, None] * z[..., :, None, :]).reshape(*lead, n, nodes * k)
    second = (weighted.transpose(-1, -2) @ z).reshape(*lead, nodes, k, k)  # sum_r o_rj z_rp z_rq
    mean = first / N.clamp_min(1)[..., None]
    outer = mean[..., :, None] * mean[..., None, :]
    shrink = (N * alpha_mu / (N + alpha_mu) - N)[..., None, None]
    eye = torch.eye(z.shape[-1], dtype=z.dtype, device=z.device)
    return t * eye + second + shrink * outer, N


def batched_edge_posterior(R: torch.Tensor, N: torch.Tensor, *, edge_prob: float, alpha_mu: float = 1.0,
                           alpha_lambd: float | None = None) -> torch.Tensor:
    """Exact BGe edge marginals ``[G, k, k]`` of ``G`` independent ``k``-node problems at once.

    Parameters
    ----------
    R : tensor of shape (G, k or 1, k, k)
        BGe posterior matrix of each node (one shared matrix where no row is intervened on), as
        :func:`bge_posterior_matrices` returns it.
    N : tensor of shape (G, k or 1)
        Rows that inform each node.
    edge_prob : float
        Prior probability of each order-compatible edge, in (0, 1).
    alpha_mu, alpha_lambd : float
        BGe's parameter prior (``alpha_lambd=None``: ``k + 2``), as :class:`~.bge.BGe`.

    Returns
    -------
    tensor of shape (G, k, k)
        ``p(i -> j | D)``, zero diagonal.
    """
    G, _, k, _ = R.shape
    dtype, device = R.dtype, R.device
    alpha_lambd = k + 2.0 if alpha_lambd is None else float(alpha_lambd)
    bits, layers = _tables(k)
    bits = bits.to(device)
    layers = [tuple(None if index is None else index.to(device) for index in layer) for layer in layers]
    # log|R_S| of every principal submatrix (identity outside S), for each node's matrix
    keep = (bits[:, :, None] & bits[:, None, :]).to(dtype)  # (2^k, k, k)
    eye = torch.eye(k, dtype=dtype, device=device)
    logdet = torch.stack([  # one node's matrices at a time: [G, 2^k, k, k] blocks
        2 * torch.log(torch.linalg.cholesky(keep * (R[:, j, None] - eye) + eye).diagonal(dim1=-2, dim2=-1)).sum(-1)
        for j in range(R.shape[1])], dim=1).expand(G, k, 2**k)
    N = N.to(dtype).expand(G, k)[..., None]  # [G, k, 1]
    masks = torch.arange(2**k, device=device)
    n_pa = bits.sum(1).to(dtype)  # (2^k,)
    with_node = masks[None, :] | (1 << torch.arange(k, device=device))[:, None]  # (k, 2^k): S + j
    logdet_family = torch.gather(logdet, 2, with_node.expand(G, k, 2**k))
    beta = family_score(N, n_pa, logdet, logdet_family, alpha_mu=alpha_mu, alpha_lambd=alpha_lambd, d=k)
    beta = beta + n_pa * math.log(edge_prob / (1 - edge_prob))
    beta = beta.masked_fill(bits.T[None], -math.inf)  # [G, j, S]: j's parents S, never j itself
    alpha = _subset_log_sums(beta, k)  # [G, j, U]: j's parents from within U

    forward = torch.full((G, 2**k), -math.inf, dtype=dtype, device=device)
    forward[:, 0] = 0.0
    for subsets, inside, _ in layers[1:]:
        before = subsets[:, None] ^ (1 << inside)
        forward[:, subsets] = torch.logsumexp(alpha[:, inside, before] + forward[:, before], -1)
    backward = torch.full((G, 2**k), -math.inf, dtype=dtype, device=device)
    backward[:, -1] = 0.0
    for subsets, _, outside in reversed(layers[:-1]):
        after = subsets[:, None] | (1 << outside)
        backward[:, subsets] = torch.logsumexp(alpha[:, outside, subsets[:, None]] + backward[:, after], -1)

    # p(i -> j) = sum over parent sets S of j holding i of exp(beta[j, S]) times the orders that
    # allow S: gamma[j, S] sums forward[U] backward[U + j] over the U (the nodes before j) above S
    after_j = torch.gather(backward[:, None, :].expand(G, k, 2**k), 2, with_node.expand(G, k, 2**k))
    before_j = (forward[:, None, :] + after_j).masked_fill(bits.T[None], -math.inf)  # U never holds j
    gamma = _subset_log_sums(before_j, k, supersets=True)
    weights = (beta + gamma - forward[:, -1, None, None]).exp()  # [G, j, S]
    probs = (weights @ bits.to(dtype)).transpose(1, 2).clamp(0.0, 1.0)  # [G, i, j]
    return probs * (1 - eye)


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
    alpha_mu, alpha_lambd = 1.0, d + 2.0
    t = alpha_mu * (alpha_lambd - d - 1) / (alpha_mu + 1)
    R, N = bge_posterior_matrices(torch.as_tensor(X), torch.as_tensor(~mask, dtype=torch.float64), alpha_mu, t)
    probs = batched_edge_posterior(R[None], N[None], edge_prob=min(2 * edges_per_node / (d - 1), 0.5))
    return probs[0].numpy()
