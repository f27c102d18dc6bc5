"""Differentiable acyclicity measures of weighted adjacency matrices.

Both functions are zero exactly when the (soft) graph has no directed cycle and positive
otherwise, and both are batched over any leading dimensions ``[..., d, d]``.

* :func:`polynomial_acyclicity` is the polynomial constraint of Yu et al. (2019) used by DiBS
  (Lorch et al. 2021): ``h(G) = tr[(I + G / d)^d] - d``. It counts weighted closed walks of
  length at most ``d``, so it vanishes iff ``G`` is nilpotent, i.e. acyclic.
* :func:`spectral_radius_penalty` is the spectral radius of a non-negative matrix, estimated by
  power iteration (Lee et al. 2020, "NO BEARS"), used by AVICI (Lorch et al. 2022). A non-negative
  matrix is nilpotent iff its spectral radius is zero. It costs ``O(n_iter d^2)`` instead of the
  ``O(d^3 log d)`` of a matrix power, which matters when it is evaluated at every training step.
"""

from __future__ import annotations

import torch

__all__ = ["polynomial_acyclicity", "spectral_radius_penalty"]


def _check_square(G: torch.Tensor, name: str) -> int:
    if G.ndim < 2 or G.shape[-1] != G.shape[-2]:
        raise ValueError(f"{name} must have shape [..., d, d], got {tuple(G.shape)}")
    return G.shape[-1]


def polynomial_acyclicity(G: torch.Tensor) -> torch.Tensor:
    """Polynomial acyclicity ``h(G) = tr[(I + G / d)^d] - d``, batched over leading dims.

    Parameters
    ----------
    G : torch.Tensor of shape (..., d, d)
        Non-negative (soft) adjacency matrices; ``G[..., i, j]`` weighs the edge ``i -> j``.

    Returns
    -------
    h : torch.Tensor of shape (...)
        Zero for acyclic graphs, strictly positive when a directed cycle has positive weight.
        Differentiable in ``G``.
    """
    _check_square(G, "G")
    return _PolynomialAcyclicity.apply(G)


class _PolynomialAcyclicity(torch.autograd.Function):
    """``h(G)`` with its closed-form gradient ``dh/dG = ((I + G/d)^(d-1))^T``.

    The forward pass keeps ``(I + G/d)^(d-1)``, so the backward pass is one multiplication
    instead of autograd through the repeated squarings of ``matrix_power`` (DiBS evaluates ``h``
    on every particle's Monte Carlo graphs at every step).
    """

    @staticmethod
    def forward(ctx, G):
        d = G.shape[-1]
        M = torch.eye(d, dtype=G.dtype, device=G.device) + G / d
        power = torch.linalg.matrix_power(M, d - 1)
        ctx.save_for_backward(power)
        return (power * M.transpose(-1, -2)).sum((-1, -2)) - d  # tr(M^(d-1) M)

    @staticmethod
    def backward(ctx, grad):
        (power,) = ctx.saved_tensors
        return grad[..., None, None] * power.transpose(-1, -2)


def spectral_radius_penalty(P: torch.Tensor, n_iter: int = 10, eps: float = 1e-12) -> torch.Tensor:
    """Spectral radius of non-negative matrices by left/right power iteration.

    The left and right Perron vectors ``u``, ``v`` are estimated by ``n_iter`` normalised power
    iterations started from the all-ones vector (deterministic, so the penalty needs no random
    state, and never orthogonal to the Perron vector of a non-negative matrix). They are treated
    as constants (no gradient), and the eigenvalue is read off as ``u^T P v / u^T v``, whose
    gradient ``u v^T / u^T v`` is the classical eigenvalue derivative.

    The iteration converges for primitive matrices, e.g. edge probabilities from a sigmoid (all
    off-diagonal entries positive, ``d >= 3``). For a periodic matrix (a bare cycle) it does not
    converge, but the estimate stays strictly positive whenever ``P`` has a weighted cycle, and it
    is exactly zero once ``n_iter >= d`` for a nilpotent (acyclic) ``P``.

    Parameters
    ----------
    P : torch.Tensor of shape (..., d, d)
        Non-negative matrices, e.g. edge probabilities with a zero diagonal.
    n_iter : int, default=10
        Number of power iterations (AVICI uses 10).
    eps : float, default=1e-12
        Guards the normalisations; an exactly nilpotent ``P`` then gives 0 instead of NaN.

    Returns
    -------
    rho : torch.Tensor of shape (...)
        Estimated spectral radius, differentiable in ``P``.
    """
    _check_square(P, "P")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
        raise ValueError(f"n_iter must be an integer >= 1, got {n_iter!r}")
    with torch.no_grad():
        Pd = P.detach()
        u = torch.ones(P.shape[:-1], dtype=P.dtype, device=P.device)
        v = torch.ones_like(u)
        for _ in range(n_iter):
            u = torch.einsum("...i,...ij->...j", u, Pd)
            v = torch.einsum("...ij,...j->...i", Pd, v)
            u = u / (torch.linalg.vector_norm(u, dim=-1, keepdim=True) + eps)
            v = v / (torch.linalg.vector_norm(v, dim=-1, keepdim=True) + eps)
    numerator = torch.einsum("...i,...ij,...j->...", u, P, v)
    return numerator / ((u * v).sum(-1) + eps)
