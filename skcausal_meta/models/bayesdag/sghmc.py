"""Preconditioned SG-HMC for BayesDAG's continuous parameters, and the divergence check.

Stochastic-gradient Hamiltonian Monte Carlo (Chen et al. 2014) with an RMSProp preconditioner,
as in the authors' code; a step that runs a parameter off to where its prior rules it out raises
instead of sampling on.
"""

from __future__ import annotations

import torch

__all__ = ["DIVERGED_PRIOR_SDS", "check_bounded", "SGHMC"]


# set outweighs that, so it is the trace of steps too large, not of sampling.
DIVERGED_PRIOR_SDS = 1e3


def check_bounded(what, tensors, prior_std=None):
    """Raise ``FloatingPointError`` naming ``what`` if any tensor holds a non-finite value, or
    (given ``prior_std``) a value more than :data:`DIVERGED_PRIOR_SDS` prior standard deviations
    from 0."""
    for x in tensors:
        largest = float(x.detach().abs().max())
        if not largest < float("inf"):
            raise FloatingPointError(f"{what} became non-finite")
        if prior_std is not None and largest > DIVERGED_PRIOR_SDS * prior_std:
            raise FloatingPointError(f"{what} reached |value| = {largest:.3g}, more than {DIVERGED_PRIOR_SDS:g} "
                                     f"prior standard deviations ({prior_std:g}) from 0")


class SGHMC:
    """Preconditioned SG-HMC on a list of tensors (each with leading chain dimension).

    ``M^{-1} = 1 / (sqrt(v) + eps)`` with ``v`` a running mean of squared gradients; ``eps = 1``
    bounds the preconditioner (and so the injected noise) where a gradient vanishes, e.g. for
    the weights of a dead ReLU unit, which would otherwise be kicked by noise of size
    ``sqrt(lr / eps_small)``.
    """

    def __init__(self, params, lr, friction, generator, beta=0.99, eps=1.0):
        self.params, self.lr, self.friction = params, lr, friction
        self.generator, self.beta, self.eps = generator, beta, eps
        self.momentum = [torch.zeros_like(x) for x in params]
        self.square = [torch.zeros_like(x) for x in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads):
        """One update given ``grads`` = gradients of the energy ``U`` (not of the log density)."""
        self.t += 1
        correction = 1 - self.beta**self.t
        for x, g, r, v in zip(self.params, grads, self.momentum, self.square):
            v.mul_(self.beta).add_((1 - self.beta) * g**2)
            precond = 1.0 / (torch.sqrt(v / correction) + self.eps)
            noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
            r.mul_(1 - self.friction).add_(-self.lr * precond * g)
            r.add_(torch.sqrt(2 * self.friction * self.lr * precond) * noise)
            x.add_(r)
