"""Optimizers and learning-rate schedules of meta-training."""

from __future__ import annotations

import math

import torch

from .config import TrainConfig

__all__ = ["learning_rate", "Lamb", "make_optimizer"]


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate at (0-based) ``step``: linear warm-up, then the configured decay."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.decay == "constant":
        return config.lr
    if config.decay == "inverse_sqrt":
        return config.lr * math.sqrt(max(config.warmup_steps, 1) / (step + 1))
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.min_lr_ratio
    return config.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class Lamb(torch.optim.Optimizer):
    """LAMB: Adam moments with a layer-wise trust ratio (You et al. 2020, Algorithm 2).

    For every parameter tensor ``w`` (a "layer") with gradient ``g`` at step ``t``::

        m = beta1 m + (1 - beta1) g           v = beta2 v + (1 - beta2) g^2
        r = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay * w
        w = w - lr * (||w|| / ||r||) * r

    The trust ratio ``||w|| / ||r||`` (Euclidean norms over the whole tensor) is replaced by 1
    when either norm is 0 and for tensors with at most one dimension (biases, normalisation gains,
    scalars such as AVICI's logit bias and temperature), which are excluded from layer adaptation
    as in the authors' BERT implementation: for a scalar the ratio would make every step
    ``lr * |w|``, so a parameter could never cross or leave zero. It rescales every weight
    matrix's step to a fixed fraction of its norm (the paper's remedy for unstable large-batch
    training). Weight decay is part of the update, so it is rescaled by the trust ratio too
    (unlike AdamW).

    Parameters
    ----------
    params : iterable of tensors or dicts
        Parameters or parameter groups, as for any ``torch.optim.Optimizer``.
    lr : float, default=1e-3
    betas : tuple of two floats, default=(0.9, 0.999)
        Decay rates of the first and second moments.
    eps : float, default=1e-6
        Added to the root of the second moment (the paper's value).
    weight_decay : float, default=0.0

    Notes
    -----
    The state of each parameter is ``step`` (a float32 CPU scalar tensor, as in Adam),
    ``exp_avg`` and ``exp_avg_sq``, so a state dict saves and restores it exactly.

    Examples
    --------
    >>> import torch
    >>> from skcausal_meta.models.amortized.optim import Lamb
    >>> _ = torch.manual_seed(0)
    >>> layer = torch.nn.Linear(4, 4)
    >>> optimizer = Lamb(layer.parameters(), lr=0.01, weight_decay=0.01)
    >>> before = layer.weight.detach().clone()
    >>> layer(torch.randn(8, 4)).square().mean().backward()
    >>> optimizer.step()
    >>> step = layer.weight.detach() - before
    >>> round(float(step.norm() / before.norm()), 6)  # each step of a weight matrix is lr times its norm
    0.01
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two floats in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One LAMB update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(w)
                    state["exp_avg_sq"] = torch.zeros_like(w)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(w.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(w.grad, w.grad, value=1 - beta2)
                update = (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + group["eps"])
                update.add_(w, alpha=group["weight_decay"])
                w_norm, u_norm = torch.linalg.vector_norm(w), torch.linalg.vector_norm(update)
                adapt = (w_norm > 0) & (u_norm > 0) & (w.ndim > 1)
                trust = torch.where(adapt, w_norm / u_norm, torch.ones_like(w_norm))
                w.sub_(group["lr"] * trust * update)
        return loss


def make_optimizer(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` with ``config.lr`` and ``config.weight_decay``."""
    if config.optimizer == "lamb":
        return Lamb(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
