"""Likelihoods of data given a graph, vectorised over particles and Monte Carlo samples.

Shared by DiBS and BayesDAG. Every function accepts graphs with arbitrary leading batch
dimensions ``(..., d, d)``; entries may be soft (in ``[0, 1]``), which is what the
reparameterised (Gumbel-soft) gradient estimators need. Rows in which a node was intervened on
do not contribute that node's term (the truncated factorisation of hard interventions with known
targets). The conventions follow DESIGN section 2: ``G[..., i, j]`` weighs the edge ``i -> j``
and the mask is ``(n, d)`` boolean.

* :class:`BGe` - the marginal likelihood ``log p(D | G)`` of linear-Gaussian networks under the
  Normal-Wishart parameter prior, and its exact posterior predictive density for held-out rows
  (in :mod:`skcausal_meta.models.bge`, re-exported here).
* :func:`linear_gaussian_log_likelihood` - ``log p(x | G, W)`` for ``x_j = sum_i G_ij W_ij x_i +
  noise``.
* :func:`mlp_gaussian_log_likelihood` - ``log p(x | G, theta)`` with one MLP per node whose inputs
  are the node's (soft-)masked parents.
* :func:`gaussian_log_prior` - an i.i.d. Normal prior on parameters.
"""

from __future__ import annotations

import math

import torch

from .bge import BGe

__all__ = [
    "BGe",
    "gaussian_log_prior",
    "linear_gaussian_log_likelihood",
    "mlp_forward",
    "mlp_input_layer",
    "mlp_output_layers",
    "mlp_gaussian_log_likelihood",
]


def _masked_gaussian_log_density(x, mean, noise_var, mask):
    """``log N(x | mean, noise_var)`` with entries of intervened nodes set to zero; shape of mean."""
    noise_var = torch.as_tensor(noise_var, dtype=x.dtype, device=x.device)
    log_density = -0.5 * (torch.log(2 * math.pi * noise_var) + (x - mean) ** 2 / noise_var)
    return log_density.masked_fill(mask, 0.0)


def linear_gaussian_log_likelihood(G, W, X, mask, noise_var):
    """Per-row log likelihood of a linear-Gaussian structural equation model.

    ``x_j = sum_i G_ij W_ij x_i + eps_j`` with ``eps_j ~ N(0, noise_var_j)``.

    Parameters
    ----------
    G : torch.Tensor of shape (..., d, d)
        (Soft) adjacency matrices.
    W : torch.Tensor of shape (..., d, d)
        Edge weights, broadcastable against ``G``.
    X : torch.Tensor of shape (n, d)
    mask : torch.Tensor of shape (n, d), dtype bool
        Intervention mask; intervened nodes' terms are dropped.
    noise_var : float or torch.Tensor broadcastable to (..., 1, d)
        Noise variance per node.

    Returns
    -------
    torch.Tensor of shape (..., n)
    """
    mean = X @ (G * W)  # (..., n, d): mean[r, j] = sum_i x_ri G_ij W_ij
    return _masked_gaussian_log_density(X, mean, noise_var, mask).sum(-1)


def mlp_forward(G, weights, biases, X):
    """Node-wise MLP means ``f_j(G[:, j] * x)`` for every node ``j``.

    Parameters
    ----------
    G : torch.Tensor of shape (..., d, d)
    weights : list of torch.Tensor
        ``weights[l]`` has shape ``(..., d, in_l, out_l)``, with ``in_0 = d`` and final
        ``out = 1``; the leading dims broadcast against ``G``'s.
    biases : list of torch.Tensor
        ``biases[l]`` has shape ``(..., d, out_l)``.
    X : torch.Tensor of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (..., n, d)
        ``out[..., r, j]``: predicted mean of node ``j`` in row ``r``; ReLU hidden activations.
    """
    return mlp_output_layers(weights, biases, mlp_input_layer(G, weights[0], biases[0], X))


def mlp_input_layer(G, weight, bias, X):
    """First-layer pre-activations ``(G[:, j] * x) @ weight_j + bias_j``: ``(..., d, n, h)``.

    The only part of :func:`mlp_forward` that depends on ``G`` (linearly), kept apart so that a
    caller can change single entries of ``G`` without recomputing it.
    """
    if G.dim() >= 3 and weight.dim() == G.dim() + 1 and weight.shape[-4] == 1 < G.shape[-3]:
        # Many graphs share each set of weights (DiBS's Monte Carlo graphs of one particle): for
        # each node j, one matrix product of the graphs' parent rows (M, d_in) with the inputs
        # scaled by j's weights (d_in, n h), instead of M * d products of (n, d_in) by (d_in, h).
        n, (d_j, d_in, h), M = X.shape[0], weight.shape[-3:], G.shape[-3]
        scaled = (weight.squeeze(-4).unsqueeze(-2) * X.T.unsqueeze(-1)).reshape(-1, d_in, n * h)
        parents = G.movedim(-1, -3).reshape(-1, M, d_in)  # (batch d_j, M, d_in)
        tiled_bias = bias.squeeze(-3).unsqueeze(-2).expand(*bias.shape[:-3], d_j, n, h).reshape(-1, 1, n * h)
        first = torch.baddbmm(tiled_bias, parents, scaled)  # (batch d_j, M, n h), the bias added in the product
        return first.reshape(*G.shape[:-3], d_j, M, n, h).movedim(-4, -3)
    # Masking the inputs of node j by its parents equals masking the first-layer weights' rows.
    first = G.transpose(-1, -2).unsqueeze(-1) * weight  # (..., d_j, d_in, h)
    return X @ first + bias.unsqueeze(-2)


def mlp_output_layers(weights, biases, hidden, overwrite=False):
    """The rest of :func:`mlp_forward`: ReLU layers ``weights[1:]`` on the first layer's output;
    returns the means ``(..., n, d)``. ``overwrite=True`` lets it use ``hidden`` as scratch
    space (no autograd through it), which spares a hot loop two allocations per call."""
    for k, (W, b) in enumerate(zip(weights[1:], biases[1:])):
        hidden = hidden.relu_() if overwrite and k == 0 else torch.relu(hidden)
        if W.shape[-1] == 1:  # a multiply-and-sum is ~1.7x faster than a batched matrix-vector product
            hidden = hidden.mul_(W.transpose(-1, -2)) if overwrite else hidden * W.transpose(-1, -2)
            hidden = hidden.sum(-1, keepdim=True) + b.unsqueeze(-2)
        else:
            hidden = hidden @ W + b.unsqueeze(-2)
    return hidden.squeeze(-1).transpose(-1, -2)


def mlp_gaussian_log_likelihood(G, weights, biases, X, mask, noise_var):
    """Per-row log likelihood of node-wise MLP mechanisms with additive Gaussian noise.

    ``x_j = f_j(G[:, j] * x) + eps_j`` with ``eps_j ~ N(0, noise_var_j)`` and ``f_j`` the MLP of
    :func:`mlp_forward` (the nonlinear Gaussian model of DiBS, after Zheng et al. 2020).

    Returns
    -------
    torch.Tensor of shape (..., n)
    """
    mean = mlp_forward(G, weights, biases, X)
    return _masked_gaussian_log_density(X, mean, noise_var, mask).sum(-1)


def gaussian_log_prior(tensor, std, sum_dims):
    """``sum log N(tensor | 0, std^2)`` over the trailing ``sum_dims`` dimensions."""
    log_density = -0.5 * (tensor / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)
    return log_density.sum(dim=tuple(range(-sum_dims, 0)))
