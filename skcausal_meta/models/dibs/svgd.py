"""DiBS inference (Lorch et al. 2021): SVGD over latent graph particles, all particles at once.

A particle is ``Z = (U, V)`` with ``U, V`` of shape ``(d, k)`` (stored as ``(d, k, 2)``), and for
joint inference also mechanism parameters ``theta``. The generative graph model is
``p(G_ij = 1 | Z) = sigmoid(alpha_t u_i . v_j)``; the latent prior is
``p(Z) ∝ exp(-beta_t E_{p(G|Z)}[h(G)]) N(Z; 0, sigma_z^2) p_G(sigmoid(alpha_t U V^T))`` with the
polynomial acyclicity ``h``; ``alpha_t = alpha_linear t`` and ``beta_t = beta_linear t``.

The gradient of ``log p(D | Z) = log E_{p(G|Z)}[p(theta, D | G)]`` is estimated with ``M``
Monte Carlo graphs per particle and self-normalised weights ``w_m ∝ p(theta, D | G_m)``:

* ``"score"`` (score function / REINFORCE): ``sum_m w_m grad_Z log p(G_m | Z)`` with hard
  Bernoulli graphs; since ``log p(G | Z)`` is linear in ``G`` this is the gradient at the
  weighted mean graph, computed by one backward pass.
* ``"reparam"`` (Gumbel-soft): ``sum_m w_m grad_Z log p(theta, D | G_tau(Z, eps_m))`` with
  ``G_tau = sigmoid(tau (eps + alpha_t u.v))`` and Logistic noise ``eps``.

``theta`` gets ``sum_m w_m grad_theta log p(theta, D | G_m)`` with hard graphs. The expectation
of ``h`` uses Gumbel-soft graphs. SVGD moves the particles along
``phi(x_i) = mean_j [k(x_j, x_i) grad log p(x_j) + grad_{x_j} k(x_j, x_i)]`` with the RBF kernel
``exp(-|Z - Z'|^2 / h_z) (+ exp(-|theta - theta'|^2 / h_theta))``, and RMSProp steps.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from ..components.acyclicity import polynomial_acyclicity
from .models import log_graph_prior

__all__ = ["run_svgd", "hard_graphs"]


def _scores(Z):
    return torch.einsum("...ik,...jk->...ij", Z[..., 0], Z[..., 1])


def _off_diagonal(d, like):
    return 1.0 - torch.eye(d, dtype=like.dtype, device=like.device)


def hard_graphs(Z):
    """The ``alpha -> infinity`` limit ``G_ij = 1[u_i . v_j > 0]`` (zero diagonal), int8."""
    d = Z.shape[-3]
    return ((_scores(Z) > 0).to(Z.dtype) * _off_diagonal(d, Z)).to(torch.int8)


def _logistic(shape, generator, like):
    u = torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)
    u = u.clamp(torch.finfo(like.dtype).tiny, 1 - torch.finfo(like.dtype).eps)
    return torch.log(u) - torch.log1p(-u)


def _svgd_direction(x, grad, K, K_own, bandwidth):
    """SVGD direction for flattened particles ``x (P, D)`` given the log-density gradients.

    ``K`` is the full (possibly additive) kernel matrix, ``K_own`` the RBF term in ``x`` whose
    gradient gives the repulsion ``sum_j grad_{x_j} k(x_j, x_i) = 2/h (x_i sum_j K_ji - (K^T x)_i)``.
    """
    repulsion = (2.0 / bandwidth) * (x * K_own.sum(0)[:, None] - K_own.T @ x)
    return (K.T @ grad + repulsion) / x.shape[0]


def _rbf(x, bandwidth):
    return torch.exp(-torch.cdist(x, x).pow(2) / bandwidth)


def _step_gradients(Z, theta, t, model, cfg, generator):
    """Log-posterior gradients for every particle at step ``t``: (dZ, [dtheta...])."""
    P, d = Z.shape[0], Z.shape[1]
    M, M_h = cfg["n_grad_mc_samples"], cfg["n_acyclicity_mc_samples"]
    alpha, beta, tau = cfg["alpha_linear"] * t, cfg["beta_linear"] * t, cfg["tau"]
    off = _off_diagonal(d, Z)
    Z = Z.detach().requires_grad_(True)
    theta = [p.detach().requires_grad_(True) for p in theta]
    theta_fixed = [p.detach() for p in theta]
    logits = alpha * _scores(Z)  # (P, d, d)
    if not bool(torch.isfinite(logits).all()):
        raise FloatingPointError("the edge logits alpha_t u_i . v_j overflowed")
    probs = torch.sigmoid(logits) * off
    objective = log_graph_prior(probs, cfg["graph_prior"], cfg["edges_per_node"]).sum()

    # acyclicity: -beta E[h(G_tau)] with Gumbel-soft graphs
    eps = _logistic((P, M_h, d, d), generator, Z)
    soft = torch.sigmoid(tau * (eps + logits.unsqueeze(1))) * off
    objective = objective - beta * polynomial_acyclicity(soft).mean(1).sum()

    # likelihood term for Z
    hard = torch.bernoulli(probs.detach().unsqueeze(1).expand(P, M, d, d), generator=generator)
    if cfg["grad_estimator"] == "score":
        with torch.no_grad():
            weights = torch.softmax(model.log_joint(hard, theta_fixed), dim=1)
        mean_graph = torch.einsum("pm,pmij->pij", weights, hard)
        log_p_graph = mean_graph * torch.nn.functional.logsigmoid(logits) + (
            1 - mean_graph
        ) * torch.nn.functional.logsigmoid(-logits)
        objective = objective + (log_p_graph * off).sum()
    else:
        eps = _logistic((P, M, d, d), generator, Z)
        soft = torch.sigmoid(tau * (eps + logits.unsqueeze(1))) * off
        log_joint = model.log_joint(soft, theta_fixed)
        weights = torch.softmax(log_joint.detach(), dim=1)
        objective = objective + (weights * log_joint).sum()

    # likelihood term for theta, with hard graphs
    if theta:
        log_joint = model.log_joint(hard, theta)
        weights = torch.softmax(log_joint.detach(), dim=1)
        objective = objective + (weights * log_joint).sum()

    grads = torch.autograd.grad(objective, [Z, *theta])
    dZ = grads[0] - Z.detach() / cfg["latent_prior_std"] ** 2
    return dZ, list(grads[1:])


# A particle entry this many prior standard deviations from 0 has prior log density below -5e5:
# no data set outweighs that, so such a particle is the trace of steps too large, not inference.
DIVERGED_PRIOR_SDS = 1e3


def run_svgd(Z, theta, model, cfg, generator, n_steps, verbose=False):
    """Run ``n_steps`` SVGD steps on particles ``Z (P, d, k, 2)`` and ``theta``; returns both.

    ``verbose`` shows a tqdm progress bar over the steps.

    Raises
    ------
    FloatingPointError
        If a particle, an edge logit or the likelihood becomes non-finite, or a particle moves
        more than :data:`DIVERGED_PRIOR_SDS` prior standard deviations from the origin (the
        step size is too large), naming the step.
    """
    Z = Z.clone()
    theta = [p.clone() for p in theta]
    params = [Z, *theta]
    optimizer = torch.optim.RMSprop(params, lr=cfg["learning_rate"], alpha=0.9, eps=1e-8)
    P = Z.shape[0]
    advice = f"lower learning_rate (got {cfg['learning_rate']:g}) or beta_linear, or standardize the data"
    limits = [(Z, "a latent particle", cfg["latent_prior_std"])] + [(p, "a parameter particle", cfg["param_prior_std"])
                                                                    for p in theta]
    for t in tqdm(range(n_steps), desc="DiBS", unit="step", disable=not verbose):
        try:
            dZ, dtheta = _step_gradients(Z, theta, t, model, cfg, generator)
        except FloatingPointError as exc:
            raise FloatingPointError(f"DiBS diverged at step {t}: {exc}; {advice}") from exc
        z_flat = Z.reshape(P, -1)
        K_z = _rbf(z_flat, cfg["kernel_bandwidth"])
        if theta:
            th_flat = torch.cat([p.reshape(P, -1) for p in theta], dim=1)
            K_th = _rbf(th_flat, cfg["theta_bandwidth"])
            K = K_z + K_th
            phi_th = _svgd_direction(th_flat, torch.cat([g.reshape(P, -1) for g in dtheta], 1), K, K_th,
                                     cfg["theta_bandwidth"])
            offsets = 0
            for p in theta:
                size = p[0].numel()
                p.grad = -phi_th[:, offsets : offsets + size].reshape(p.shape)
                offsets += size
        else:
            K = K_z
        Z.grad = -_svgd_direction(z_flat, dZ.reshape(P, -1), K, K_z, cfg["kernel_bandwidth"]).reshape(Z.shape)
        with torch.no_grad():
            optimizer.step()
        for x, what, prior_std in limits:
            largest = float(x.detach().abs().max())
            if not largest <= DIVERGED_PRIOR_SDS * prior_std:  # also catches nan
                raise FloatingPointError(
                    f"DiBS diverged at step {t}: {what} reached |value| = {largest:.3g}, more than "
                    f"{DIVERGED_PRIOR_SDS:g} prior standard deviations ({prior_std:.3g}) from 0; {advice}")
    return Z.detach(), [p.detach() for p in theta]
