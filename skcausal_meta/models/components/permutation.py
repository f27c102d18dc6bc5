"""Differentiable permutations: log-domain Sinkhorn, Gumbel-Sinkhorn, Hungarian rounding.

Models that place a distribution over node orders (BCNP, BayesDAG) need hard permutation
matrices in the forward pass, so that every sampled graph is a DAG, and a gradient in the
backward pass. This module provides the pieces, all batched over leading dimensions:

* :func:`log_sinkhorn` / :func:`sinkhorn` - the Sinkhorn operator of Mena et al. (2018),
  alternating row and column normalisation in the log domain (numerically stable for small
  temperatures); its limit is a doubly stochastic matrix.
* :func:`sample_gumbel` - standard Gumbel noise from a seeded ``torch.Generator``.
* :func:`hungarian` - the permutation matrix that maximises ``sum_i scores[i, sigma(i)]``
  (``scipy.optimize.linear_sum_assignment``). Applied to Gumbel-perturbed scores it draws an
  exact sample from the Gumbel-matching distribution.
* :func:`rank_permutation` - the same assignment for the rank-one scores ``v o^T`` with an
  increasing ``o``, by sorting ``v`` (the rearrangement inequality), without the solver.
* :func:`straight_through` - ``hard`` in the forward pass, the gradient of ``soft`` backward.
* :func:`sample_permutations` - all of the above: ``K`` Gumbel-Sinkhorn samples per matrix,
  rounded by the Hungarian algorithm, with the straight-through gradient.

A permutation matrix here is a 0/1 matrix with exactly one 1 in every row and column; which of
its axes indexes nodes and which positions is fixed by the model that uses it.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from .sinkhorn import _check_square, _check_temperature, log_sinkhorn, sinkhorn

__all__ = [
    "log_sinkhorn",
    "sinkhorn",
    "sample_gumbel",
    "hungarian",
    "rank_permutation",
    "straight_through",
    "sample_permutations",
]


def sample_gumbel(
    shape,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    eps: float = 1e-20,
) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log U)``, ``U ~ Uniform(0, 1)``, from ``generator``.

    ``eps`` keeps both logarithms finite when ``U`` is exactly 0.
    """
    u = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    return -torch.log(-torch.log(u + eps) + eps)


def hungarian(scores: torch.Tensor) -> torch.Tensor:
    """Permutation matrices maximising ``sum_i scores[i, sigma(i)]``, batched over leading axes.

    Parameters
    ----------
    scores : torch.Tensor of shape (..., d, d)
        Assignment scores (log-probabilities or probabilities; adding a constant to a row or a
        column does not change the result).

    Returns
    -------
    torch.Tensor of shape (..., d, d)
        0/1 matrices of ``scores``' dtype and device with ``out[..., i, sigma(i)] = 1``; not
        connected to the autograd graph (combine with :func:`straight_through` for gradients).
    """
    _check_square(scores, "scores")
    d = scores.shape[-1]
    flat = scores.detach().reshape(-1, d, d).cpu().double().numpy()
    if not np.isfinite(flat).all():
        raise ValueError("scores must be finite for the Hungarian algorithm")
    out = np.zeros_like(flat)
    rows = np.arange(d)
    for b, matrix in enumerate(flat):
        _, cols = linear_sum_assignment(matrix, maximize=True)
        out[b, rows, cols] = 1.0
    return torch.from_numpy(out).to(dtype=scores.dtype, device=scores.device).reshape(scores.shape)


def rank_permutation(values: torch.Tensor) -> torch.Tensor:
    """Permutation matrices ``out[..., i, rank(values_i)] = 1``, ranks ascending, batched.

    For scores ``values_i * o_j`` with ``o`` strictly increasing, the assignment that maximises
    ``sum_i values_i o_sigma(i)`` puts the largest value on the largest ``o`` (the
    rearrangement inequality), so this equals :func:`hungarian` of those scores wherever the
    values are distinct, at the cost of one sort instead of a solver call per matrix.

    Parameters
    ----------
    values : torch.Tensor of shape (..., d)

    Returns
    -------
    torch.Tensor of shape (..., d, d)
        0/1 matrices of ``values``' dtype and device, not connected to the autograd graph.

    Examples
    --------
    >>> import torch
    >>> rank_permutation(torch.tensor([0.3, -1.0, 2.0]))
    tensor([[0., 1., 0.],
            [1., 0., 0.],
            [0., 0., 1.]])
    """
    ranks = values.detach().argsort(dim=-1).argsort(dim=-1)
    return torch.nn.functional.one_hot(ranks, values.shape[-1]).to(values.dtype)


class _StraightThrough(torch.autograd.Function):
    """Identity on ``hard`` forward; the incoming gradient flows to ``soft`` backward."""

    @staticmethod
    def forward(ctx, hard, soft):
        return hard.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return None, grad_output


def straight_through(hard: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """Return ``hard`` in the forward pass with the gradient of ``soft`` in the backward pass.

    The straight-through estimator of Bengio et al. (2013): the output equals ``hard`` bit for
    bit (the usual ``hard + soft - soft.detach()`` is off by rounding errors in float32, which
    would let a zero entry of a permutation matrix become ``1e-8``) and its Jacobian with respect
    to the parameters is ``d soft / d theta``.
    """
    if hard.shape != soft.shape:
        raise ValueError(f"hard and soft must have the same shape, got {tuple(hard.shape)} and {tuple(soft.shape)}")
    return _StraightThrough.apply(hard.detach(), soft)


def sample_permutations(
    log_alpha: torch.Tensor,
    n_draws: int = 1,
    temperature: float = 1.0,
    n_iters: int = 20,
    generator: torch.Generator | None = None,
    gumbel: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw Gumbel-Sinkhorn permutations, rounded by the Hungarian algorithm.

    For each of ``n_draws`` draws, Gumbel noise ``g`` perturbs the scores, the soft sample is
    ``S((log_alpha + g) / temperature)`` and the hard sample the Hungarian assignment of the
    perturbed scores (the log-domain Sinkhorn output differs from ``(log_alpha + g) /
    temperature`` only by row and column constants, so this is also the assignment of the soft
    sample's logarithm). The hard sample is therefore an exact draw from the Gumbel-matching
    distribution ``p(sigma) ∝ E_g[1{sigma = argmax <log_alpha + g, P_sigma>}]``, whatever
    ``temperature`` and ``n_iters`` are; those only shape the gradient.

    Parameters
    ----------
    log_alpha : torch.Tensor of shape (..., d, d)
        Permutation logits.
    n_draws : int, default=1
        Number of draws ``K`` per matrix.
    temperature : float, default=1.0
        Gumbel-Sinkhorn temperature of the soft relaxation.
    n_iters : int, default=20
        Sinkhorn iterations.
    generator : torch.Generator or None, default=None
        Source of the Gumbel noise (``None`` uses torch's default generator).
    gumbel : torch.Tensor of shape (..., K, d, d) or None, default=None
        Noise to use instead of drawing it (``K`` then overrides ``n_draws``): zeros give the
        mode, and fixing the noise makes the draw a deterministic function of ``log_alpha``,
        which is how equivariance is tested.

    Returns
    -------
    hard : torch.Tensor of shape (..., K, d, d)
        Permutation matrices with the straight-through gradient of ``soft``.
    soft : torch.Tensor of shape (..., K, d, d)
        The doubly stochastic relaxations.
    """
    _check_square(log_alpha)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    temperature = _check_temperature(temperature)
    d = log_alpha.shape[-1]
    if gumbel is None:
        shape = (*log_alpha.shape[:-2], n_draws, d, d)
        gumbel = sample_gumbel(shape, generator=generator, dtype=log_alpha.dtype, device=log_alpha.device)
    elif gumbel.ndim != log_alpha.ndim + 1 or gumbel.shape[-2:] != (d, d):
        raise ValueError(
            f"gumbel must have shape (..., K, {d}, {d}) matching log_alpha {tuple(log_alpha.shape)}, "
            f"got {tuple(gumbel.shape)}"
        )
    perturbed = log_alpha.unsqueeze(-3) + gumbel
    soft = sinkhorn(perturbed, temperature=temperature, n_iters=n_iters)
    hard = hungarian(perturbed)
    return straight_through(hard, soft), soft
