"""The additive-noise model BayesDAG samples, in torch and batched over chains.

``x_j = f_j(G[:, j] * x) + eps_j`` with Gaussian noise, ``f_j`` linear or a node-wise MLP. This
module holds what the sampler asks of that model: per-node log densities, the change of the
log likelihood when one edge is toggled (the ``W`` block's gradient), fresh parameters, and
short refits of single nodes given their parents (the order swaps).
"""

from __future__ import annotations

import math

import torch

from ..likelihoods import _masked_gaussian_log_density, mlp_input_layer, mlp_output_layers

__all__ = ["anm_input_layer", "anm_log_density", "anm_log_likelihood", "init_mlp", "refit_nodes", "toggle_gains"]


def anm_input_layer(mechanism, G, theta, X):
    """The part of the mechanisms that is linear in ``G``: ``(..., d_target, n, h)``.

    For ``"linear"`` it is the mean itself (``h = 1``); for ``"nonlinear"`` the first layer's
    pre-activations of every node's MLP.
    """
    if mechanism == "linear":
        return (X @ (G * theta[0])).transpose(-1, -2).unsqueeze(-1)
    return mlp_input_layer(G, theta[0], theta[len(theta) // 2], X)


def _output_layers(mechanism, theta, pre, overwrite=False):
    """Means ``(..., n, d)`` from :func:`anm_input_layer`'s output (``overwrite``: ``pre`` is scratch)."""
    if mechanism == "linear":
        return pre.squeeze(-1).transpose(-1, -2)
    n_layers = len(theta) // 2
    return mlp_output_layers(theta[:n_layers], theta[n_layers:], pre, overwrite)


def anm_log_density(mechanism, G, theta, log_scale, X, mask, pre=None):
    """Per-row, per-node ``log p(x_j | pa_j, theta)``, ``(C, n, d)``; noise variance ``exp(2 log_scale)``.

    ``theta`` is ``[W]`` for ``"linear"`` (``x_j = sum_i G_ij W_ij x_i + eps_j``) and the MLP
    layer weights then biases (equal numbers) for ``"nonlinear"`` (``x_j = f_j(G[:, j] * x) +
    eps_j``, the node-wise MLPs of :func:`~skcausal_meta.models.likelihoods.mlp_forward`).
    ``pre`` is :func:`anm_input_layer`'s output when the caller has it already.
    """
    pre = anm_input_layer(mechanism, G, theta, X) if pre is None else pre
    mean = _output_layers(mechanism, theta, pre)
    return _masked_gaussian_log_density(X, mean, torch.exp(2 * log_scale).unsqueeze(-2), mask)


def anm_log_likelihood(mechanism, G, theta, log_scale, X, mask):
    """Per-row ``log p(x | G, theta)`` of shape ``(C, n)`` (see :func:`anm_log_density`)."""
    return anm_log_density(mechanism, G, theta, log_scale, X, mask).sum(-1)




def init_mlp(widths, generator, dtype, device, leading=()):
    """Weights ``N(0, 1/fan_in)`` and zero biases of an MLP with the given widths."""
    weights, biases = [], []
    for a, b in zip(widths[:-1], widths[1:]):
        w = torch.randn((*leading, a, b), generator=generator, dtype=dtype, device=device) / math.sqrt(a)
        weights.append(w)
        biases.append(torch.zeros((*leading, b), dtype=dtype, device=device))
    return weights, biases


@torch.no_grad()
def toggle_gains(mechanism, G, allowed, theta, log_scale, X, mask, scale, chunk_elements, pre=None, base=None):
    """``Delta_ij = log p(D | W_ij = 1) - log p(D | W_ij = 0)`` for every allowed edge, ``(C, d, d)``.

    Everything else (the other edges, ``theta``, the noise scales ``exp(log_scale)``) is held;
    forbidden entries are 0. Toggling ``i -> j`` changes only node ``j``'s first-layer input by
    ``x_i * w_ij``, so each allowed pair costs one pass of node ``j``'s later layers over the
    rows. The pairs are taken in chunks of at most ``chunk_elements`` tensor elements, which
    bounds the memory and, kept small, holds the temporaries in cache. A caller that has just
    computed the likelihood at ``G`` passes its first-layer output ``pre`` (:func:`anm_input_layer`,
    detached) and per-node log likelihoods ``base`` ``(C, d)`` (scaled by ``scale``), which are not
    computed again.
    """
    theta = [t.detach() for t in theta]
    noise_var = torch.exp(2 * log_scale.detach())  # (C, d)
    if pre is None:
        pre = anm_input_layer(mechanism, G, theta, X)  # (C, d_target, m, h)
        mean = _output_layers(mechanism, theta, pre)
        base = scale * _masked_gaussian_log_density(X, mean, noise_var.unsqueeze(-2), mask).sum(-2)  # (C, d)
    w_in = theta[0].transpose(-1, -2).unsqueeze(-1) if mechanism == "linear" else theta[0]  # (C, j, i, h)
    chain, source, target = torch.nonzero(allowed, as_tuple=True)
    C, d, m, h = pre.shape
    shift = (1 - 2 * G[chain, source, target, None]) * X.T[source]  # (P, m): +-x_i, adding or removing
    weight, node = w_in[chain, target, source], chain * d + target  # (P, h), index into (C * d)
    pre, gains = pre.reshape(C * d, m, h), torch.zeros_like(G)
    chunk = max(1, min(len(chain), chunk_elements // (m * h)))
    scratch = torch.empty((chunk, m, h), dtype=X.dtype, device=X.device)
    for start in range(0, len(chain), chunk):
        pairs = slice(start, start + chunk)
        c, i, j = chain[pairs], source[pairs], target[pairs]
        first = torch.index_select(pre, 0, node[pairs], out=scratch[: len(c)])
        first.addcmul_(shift[pairs, :, None], weight[pairs, None, :])  # node j's first layer, edge toggled
        later = [t[c, j].unsqueeze(1) for t in theta]  # node j's parameters, one node axis
        mean = _output_layers(mechanism, later, first.unsqueeze(1), overwrite=True)[..., 0]  # (P, m)
        density = _masked_gaussian_log_density(X[:, j].T, mean, noise_var[c, j, None], mask[:, j].T)
        gains[c, i, j] = scale * density.sum(-1) - base[c, j]
    return gains * (1 - 2 * G)


def _fit_mlp_adam(theta, inputs, y, weight, n_steps, lr, betas=(0.9, 0.999), eps=1e-8):
    """Minimise ``sum_r sum_rows weight (y - f_r(inputs))^2`` over ReLU MLPs by Adam, in place.

    ``theta`` is the weights ``(R, 1, a, b)`` then biases ``(R, 1, b)`` of one MLP per regression
    ``r`` (the node axis of :func:`refit_nodes`, of length 1), ``inputs (R, m, d)``, ``y`` and
    ``weight (R, m)``. The gradients are written out by hand and Adam (torch's update, no weight
    decay) acts on one flat buffer: the loop over ``n_steps`` is a few dozen tensor operations,
    where autograd and ``torch.optim.Adam`` spent most of their time on bookkeeping for these
    small tensors. The result equals theirs up to rounding (``tests/test_bayesdag.py``).
    """
    n_layers = len(theta) // 2
    flat = torch.cat([t.reshape(-1) for t in theta])  # each parameter a contiguous block
    grad, exp_avg, exp_avg_sq = torch.zeros_like(flat), torch.zeros_like(flat), torch.zeros_like(flat)
    sizes = [t.numel() for t in theta]
    params = [v.view_as(t) for v, t in zip(flat.split(sizes), theta)]
    grads = [v.view_as(t) for v, t in zip(grad.split(sizes), theta)]
    W, b = [p[:, 0] for p in params[:n_layers]], [p[:, 0] for p in params[n_layers:]]
    dW, db = [g[:, 0] for g in grads[:n_layers]], [g[:, 0] for g in grads[n_layers:]]
    inputs_t = inputs.transpose(1, 2).contiguous()  # (R, d, m), read by every step's first-layer gradient
    # the output layer (R, 1, width) as multiply-and-sum: batched matrix-vector products are ~3x slower
    w_out = W[-1].transpose(1, 2)
    for step in range(1, n_steps + 1):
        activations = [inputs]
        for k in range(n_layers - 1):
            activations.append(torch.baddbmm(b[k].unsqueeze(1), activations[-1], W[k]).relu_())  # (R, m, width)
        out = (activations[-1] * w_out).sum(-1) + b[-1]
        delta = (2 * weight * (out - y)).unsqueeze(-1)  # d loss / d output, (R, m, 1)
        torch.sum(activations[-1] * delta, dim=1, out=dW[-1][..., 0])
        torch.sum(delta, dim=1, out=db[-1])
        delta = (delta * w_out).mul_(activations[-1].sign())  # through the ReLU: the sign of its output
        for k in reversed(range(n_layers - 1)):
            torch.bmm(inputs_t if k == 0 else activations[k].transpose(1, 2), delta, out=dW[k])
            torch.sum(delta, dim=1, out=db[k])
            if k:
                delta = (delta @ W[k].transpose(1, 2)).mul_(activations[k].sign())
        exp_avg.lerp_(grad, 1 - betas[0])
        exp_avg_sq.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - betas[1] ** step)).add_(eps)
        flat.addcdiv_(exp_avg, denom, value=-lr / (1 - betas[0] ** step))
    for t, p in zip(theta, params):
        t.copy_(p)


def refit_nodes(mechanism, hidden, X, mask, parents, nodes, generator, fit_rows=None, n_steps=50, lr=0.05, ridge=1e-6):
    """Fit the mechanisms of some nodes given their parents; return parameters and profile log likelihoods.

    A building block of :meth:`BayesDAGSampler.swap_move`: every regression of ``X[:, node]`` on
    ``X[:, parents]`` starts from the same parameters (drawn once and shared along the first
    axis, so that the configurations compared there get equal treatment), and the noise
    variance is its maximum-likelihood value, the mean squared residual.

    Parameters
    ----------
    mechanism : {"nonlinear", "linear"}
    hidden : tuple of int
    X, mask : torch.Tensor
        Data ``(n, d)`` and intervention mask; rows where a node is intervened on are left out of
        its fit and its log likelihood.
    parents : torch.Tensor of shape (K, ...batch, d)
        Parent indicators of each regression.
    nodes : torch.Tensor of shape (K, ...batch), int
        The node each regression predicts.
    generator : torch.Generator
    fit_rows : torch.Tensor or None, default=None
        Indices of the rows the parameters are fitted on (``None``: all); the noise variance and
        the log likelihood use every row.
    n_steps, lr : int, float
        Adam steps and step size of the nonlinear fit; the linear fit is a least-squares solve
        (with a ``ridge`` on the diagonal, so that absent parents get weight 0).

    Returns
    -------
    theta : list of torch.Tensor
        Per regression, the node's slice of the sampler's ``theta``: ``[w (..., d)]`` for
        ``"linear"``; the MLP weights then biases, each ``(..., *shape)``, for ``"nonlinear"``.
    log_lik : torch.Tensor of shape (K, ...batch)
        ``sum_rows log N(x_node | f(x_parents), sigma^2)`` at the fitted ``f`` and ``sigma``.
    log_scale : torch.Tensor of shape (K, ...batch)
        ``log sigma``.
    """
    batch, d = parents.shape[:-1], parents.shape[-1]
    G = parents.reshape(-1, d, 1).to(X.dtype)
    y = X.T[nodes.reshape(-1)]  # (R, n)
    keep = (~mask.T[nodes.reshape(-1)]).to(X.dtype)
    rows = slice(None) if fit_rows is None else fit_rows
    X_fit, y_fit, keep_fit = X[rows], y[:, rows], keep[:, rows]
    if mechanism == "linear":
        Xp = X_fit * G.transpose(-1, -2) * keep_fit.unsqueeze(-1)  # (R, m, d)
        gram = Xp.transpose(-1, -2) @ Xp + ridge * torch.eye(d, dtype=X.dtype, device=X.device)
        theta = [torch.linalg.solve(gram, Xp.transpose(-1, -2) @ y_fit.unsqueeze(-1))]  # (R, d, 1)
    else:
        # one start per regression of the first configuration, repeated along the first axis
        weights, biases = init_mlp([d, *hidden, 1], generator, X.dtype, X.device, (*batch[1:], 1))
        theta = [
            t.expand(batch[0], *t.shape).reshape(-1, *t.shape[len(batch) - 1 :]).clone()
            for t in weights + biases
        ]
        inputs = X_fit * G.transpose(-1, -2)  # (R, m, d): the parents' columns, the others zeroed
        weight = keep_fit / keep_fit.sum(-1, keepdim=True).clamp(min=1)
        with torch.no_grad():
            _fit_mlp_adam(theta, inputs, y_fit, weight, n_steps, lr)
    with torch.no_grad():
        mean = _output_layers(mechanism, theta, anm_input_layer(mechanism, G, theta, X))[..., 0]
        n_rows = keep.sum(-1).clamp(min=1)
        var = (((y - mean) ** 2 * keep).sum(-1) / n_rows).clamp(min=1e-8)
        log_lik = -0.5 * n_rows * (torch.log(2 * math.pi * var) + 1)
    if mechanism == "linear":
        theta = [theta[0][..., 0].reshape(*batch, d)]
    else:
        theta = [t.detach()[:, 0].reshape(*batch, *t.shape[2:]) for t in theta]
    return theta, log_lik.reshape(batch), (0.5 * torch.log(var)).reshape(batch)
