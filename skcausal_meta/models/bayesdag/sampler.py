"""BayesDAG inference (Annadani et al. 2023), all chains vectorised.

A DAG is ``G = W * Step(grad p)``: node potentials ``p`` in R^d order the nodes (``i -> j`` is
allowed when ``p_i > p_j``) and a binary matrix ``W`` selects the edges. ``Step(grad p)`` is
computed as ``P L P^T`` with ``L`` strictly lower triangular and ``P`` the permutation that sorts
``p``: the Hungarian assignment of ``p o^T`` (``o = o_scale (1, ..., d)``) in the forward pass, with
the gradient of the Sinkhorn relaxation ``S(p o^T / t)`` (straight-through). Every graph is
therefore a DAG. The relaxation is iterated to its fixed point and differentiated there
implicitly (:func:`~skcausal_meta.models.components.sinkhorn.log_sinkhorn_fixed_point`); each
chain's column scalings are kept from one step to the next as the start of the next iteration
(``p`` moves little per step, so few rounds reach the tolerance again).

* ``p`` and the mechanism parameters ``theta`` of each chain are sampled by preconditioned
  SG-HMC (an RMSProp preconditioner ``M^{-1}``, friction ``a``, step ``eta``):
  ``r <- (1 - a) r - eta M^{-1} grad U + N(0, 2 a eta M^{-1})``, ``x <- x + r``, where
  ``U = -log p(D | G, theta) - log p(theta) - log p(p) + lambda |G|_1``.
* ``W`` has a variational Bernoulli posterior ``q_phi(W | p)`` whose logits are an MLP of ``p``
  (shared by the chains). Its ELBO gradient is the *local expectation* gradient (Titsias and
  Lazaro-Gredilla 2015): for each edge allowed by the order, the exact change of the log
  likelihood when ``W_ij`` is toggled with everything else held, ``Delta_ij``. In the logit
  parameterisation the natural gradient of the ELBO is then ``Delta_ij - lambda - logit_ij``
  (coordinate-wise optimum ``logit = E[Delta] - lambda``), so ``phi`` regresses the logits on
  ``Delta - lambda`` (clipped to ``+-w_logit_clip``) by Adam; forbidden edges have target 0.
  The authors' relaxed straight-through estimator is not used for this block: at fitted
  mechanisms the derivative of the likelihood with respect to a present edge's gate is about
  zero (scaling an input is absorbed by its weights), and at a saturated logit the relaxed
  sample's gradient vanishes, so spurious edges stayed on with probability 1 (measured: an
  edge whose removal raised the log likelihood by 26 nats kept ``q = 1.0``). ``phi`` starts
  dense (every allowed edge on): an edge's mechanism weights learn only while it is present,
  so pruning finds the edges a sparse start would never switch on.
* The node potentials move with their own, smaller step size ``p_lr``: within one order the
  likelihood does not depend on ``p``, and a step as large as the mechanisms' reshuffles the
  order every few iterations, before the mechanisms can fit it.
* **Order swaps (not in the paper).** The straight-through gradient of ``p`` carries little
  information about the orders a chain does not visit: the likelihood is flat in ``p`` within
  an order and the mechanism weights of an edge the order forbids are stale, so chains settled
  in orders with an edge out of the root reversed and stayed there. Every ``swap_every`` steps
  each chain therefore proposes to exchange the potentials of two adjacent nodes of its order,
  a Metropolis-Hastings move whose acceptance compares the two nodes' likelihood, with the edge
  between them marginalised, after the same short refit of their mechanisms on either side
  (:meth:`BayesDAGSampler.swap_move`). The score is a profile likelihood standing in for the
  marginal one, so the move is an approximation, chosen for mixing, not an exact MCMC kernel.

Each iteration alternates two blocks, as in the authors' algorithm: an SG-HMC step on ``p`` (with
``theta``, ``phi`` and the noise scales fixed), then, on a fresh graph drawn at the new ``p``, an
SG-HMC step on ``theta`` together with an Adam step on ``phi`` and the noise scales. Both blocks
see a mini-batch of rows whose log likelihood is scaled by ``n / batch`` (an unbiased estimate of
the full-data term). ``p ~ N(0, 0.1^2)`` and ``theta ~ N(0, 1)`` as in the authors' code.
"""

from __future__ import annotations

import numpy as np
import torch

from ..components.permutation import rank_permutation, straight_through
from ..components.sinkhorn import log_sinkhorn_fixed_point
from .anm import anm_input_layer, anm_log_density, anm_log_likelihood, init_mlp, refit_nodes, toggle_gains
from .sghmc import SGHMC, check_bounded

__all__ = ["BayesDAGSampler", "anm_log_likelihood", "refit_nodes", "stack_draws"]


class BayesDAGSampler:
    """State and update rule of BayesDAG for one data set (see the module docstring).

    Parameters
    ----------
    X, mask : torch.Tensor
        Standardised data ``(n, d)`` and intervention mask.
    mechanism : {"nonlinear", "linear"}
    hidden : tuple of int
        Hidden widths of the node-wise MLPs (nonlinear mechanism).
    n_chains : int
    lambda_sparse : float
        Weight of the sparsity prior ``-lambda |G|_1``.
    lr, p_lr, friction : float
        SG-HMC step sizes of ``theta`` and of ``p``, and the friction.
    generator : torch.Generator
    batch_size : int or None, default=None
        Rows per mini-batch; ``None`` (or ``batch_size >= n``) uses every row in every step.
    """

    o_scale, sinkhorn_temperature, w_temperature, p_std = 10.0, 0.2, 0.2, 0.1
    # Sinkhorn runs until every row sums to 1 within ``sinkhorn_tol`` (as the authors' code does);
    # a fixed small number of rounds is far from converged once the potentials spread out.
    sinkhorn_tol, sinkhorn_max_iters = 1e-3, 300
    # q(W | p) starts dense (logit 5 for every edge) and its regression targets are clipped to
    # +-20 (probabilities within 2e-9 of 0 or 1 are as good as certain); the toggled likelihoods
    # are computed in chunks of at most this many elements (1 MiB in float32: the temporaries
    # stay in a core's L2 cache; 16 MiB chunks made this part 3x slower at d = 10).
    w_init_logit, w_logit_clip, toggle_chunk_elements = 5.0, 20.0, 2**18

    def __init__(
        self, X, mask, mechanism, hidden, n_chains, lambda_sparse, lr, p_lr, friction, generator, batch_size=None
    ):
        self.X, self.mask, self.mechanism, self.hidden = X, mask, mechanism, hidden
        self.batch_size = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
        self.lambda_sparse, self.generator = lambda_sparse, generator
        d, opts = X.shape[1], dict(dtype=X.dtype, device=X.device)
        self.p = 0.01 * torch.randn((n_chains, d), generator=generator, **opts)
        if mechanism == "linear":
            self.theta = [0.1 * torch.randn((n_chains, d, d), generator=generator, **opts)]
        else:
            weights, biases = init_mlp([d, *hidden, 1], generator, X.dtype, X.device, (n_chains, d))
            self.theta = weights + biases
        # variational network p -> W logits, shared across chains; and log noise scales per chain
        w, b = init_mlp([d, 48, 48, d * d], generator, X.dtype, X.device)
        self.phi = w + b
        self.phi[-1] += self.w_init_logit
        self.log_scale = torch.zeros((n_chains, d), **opts)
        for x in (self.p, *self.theta, *self.phi, self.log_scale):
            x.requires_grad_(True)
        self.p_sampler = SGHMC([self.p], p_lr, friction, generator)
        self.theta_sampler = SGHMC(self.theta, lr, friction, generator)
        self.adam = torch.optim.Adam([*self.phi, self.log_scale], lr=0.005, fused=True)
        idx = torch.arange(d, device=X.device)
        self.lower = (idx[:, None] > idx[None, :]).to(X.dtype)
        # per-chain column log scalings of the last Sinkhorn fixed point (the next one's warm
        # start; a swap move exchanges nodes, i.e. rows, and leaves them valid) and the rounds run
        self.sinkhorn_potentials, self.sinkhorn_rounds = None, 0

    def edge_logits(self, p):
        """Logits ``(C, d, d)`` of ``q_phi(W | p)``."""
        h = p
        n = len(self.phi) // 2
        for k, (w, b) in enumerate(zip(self.phi[:n], self.phi[n:])):
            h = h @ w + b
            if k < n - 1:
                h = torch.relu(h)
        return h.reshape(p.shape[0], p.shape[1], p.shape[1])

    def order_mask(self, p):
        """``Step(grad p) = P L P^T`` with a straight-through Sinkhorn gradient; ``(C, d, d)``."""
        o = self.o_scale * torch.arange(1, p.shape[1] + 1, dtype=p.dtype, device=p.device)
        scores = p.unsqueeze(-1) * o
        perm = rank_permutation(p)  # the Hungarian assignment of these rank-one scores
        if p.requires_grad and torch.is_grad_enabled():  # the relaxation only serves the backward pass
            perm = straight_through(perm, self._sinkhorn(scores / self.sinkhorn_temperature))
        return perm @ self.lower @ perm.transpose(-1, -2)

    def _sinkhorn(self, log_alpha):
        """Doubly stochastic ``S(exp(log_alpha))``, iterated to ``sinkhorn_tol`` (at most
        ``sinkhorn_max_iters`` rounds) from the previous call's scalings; differentiable (at the
        fixed point). Counts the rounds in ``sinkhorn_rounds``."""
        init = self.sinkhorn_potentials
        if init is not None and init.shape != log_alpha.shape[:-1]:
            init = None  # another batch of potentials than the chains' (a direct call)
        fixed = log_sinkhorn_fixed_point(log_alpha, self.sinkhorn_tol, self.sinkhorn_max_iters, init=init)
        self.sinkhorn_potentials = fixed.potentials
        self.sinkhorn_rounds += fixed.n_rounds
        return fixed.log_p.exp()

    def _sample_w(self, logits):
        u = torch.rand(logits.shape, generator=self.generator, dtype=logits.dtype, device=logits.device)
        u = u.clamp(1e-6, 1 - 1e-6)
        relaxed = torch.sigmoid((logits + torch.log(u) - torch.log1p(-u)) / self.w_temperature)
        return straight_through(relaxed.round(), relaxed)

    def _rows(self):
        """Indices of a mini-batch of rows, or ``None`` when it is every row."""
        n = self.X.shape[0]
        if self.batch_size == n:
            return None
        return torch.randperm(n, generator=self.generator, device=self.X.device)[: self.batch_size]

    def _batch(self):
        """Data and mask of a mini-batch, and the factor that scales its log likelihood to ``n``."""
        rows = self._rows()
        if rows is None:
            return self.X, self.mask, 1.0
        return self.X[rows], self.mask[rows], self.X.shape[0] / self.batch_size

    def _log_lik(self, G, theta, log_scale):
        """Mini-batch estimate of ``log p(D | G, theta, sigma)`` per chain, ``(C,)``."""
        X, mask, scale = self._batch()
        return scale * anm_log_likelihood(self.mechanism, G, theta, log_scale, X, mask).sum(-1)

    def step(self):
        """One iteration of all chains: the ``p`` block, then the ``(W, theta)`` block.

        Returns the mean log likelihood per row of the second block's graphs.

        Raises
        ------
        FloatingPointError
            If a parameter becomes non-finite, or ``p`` or ``theta`` runs off beyond
            :data:`~skcausal_meta.models.bayesdag.sghmc.DIVERGED_PRIOR_SDS` prior standard deviations.
        """
        theta = [t.detach() for t in self.theta]
        G = self._sample_w(self.edge_logits(self.p)) * self.order_mask(self.p)
        energy = (
            -self._log_lik(G, theta, self.log_scale.detach()).sum()
            + 0.5 * ((self.p / self.p_std) ** 2).sum()
            + self.lambda_sparse * G.sum()
        )
        (grad_p,) = torch.autograd.grad(energy, [self.p])
        self.p_sampler.step([grad_p])
        check_bounded("the node potentials p", [self.p], self.p_std)

        p = self.p.detach()
        allowed, logits = self.order_mask(p), self.edge_logits(p)
        G = torch.bernoulli(torch.sigmoid(logits.detach()), generator=self.generator) * allowed
        X, mask, scale = self._batch()
        pre = anm_input_layer(self.mechanism, G, self.theta, X)
        density = anm_log_density(self.mechanism, G, self.theta, self.log_scale, X, mask, pre=pre)  # (C, m, d)
        log_lik = scale * density.sum(-1)
        theta_prior = sum(0.5 * (t**2).sum() for t in self.theta)
        grads = torch.autograd.grad(-log_lik.sum() + theta_prior, [*self.theta, self.log_scale])
        # natural-gradient target of q(W | p)'s logits (module docstring); forbidden edges: 0
        gain = toggle_gains(self.mechanism, G, allowed, self.theta, self.log_scale, X, mask, scale,
                            self.toggle_chunk_elements, pre=pre.detach(), base=scale * density.detach().sum(-2))
        target = (gain - self.lambda_sparse).clamp(-self.w_logit_clip, self.w_logit_clip) * allowed
        off = 1.0 - torch.eye(G.shape[-1], dtype=G.dtype, device=G.device)
        phi_grads = torch.autograd.grad(0.5 * ((logits - target) ** 2 * off).sum(), self.phi)
        self.theta_sampler.step(list(grads[:-1]))
        for x, g in zip([*self.phi, self.log_scale], [*phi_grads, grads[-1]]):
            x.grad = g
        self.adam.step()
        check_bounded("the mechanism parameters", self.theta, prior_std=1.0)
        check_bounded("the noise scales or edge network", [self.log_scale, *self.phi])
        return float(log_lik.detach().sum(-1).mean()) / self.X.shape[0]

    def swap_move(self):
        """Metropolis-Hastings swap of two adjacent nodes in every chain's order; returns the
        acceptance indicators ``(C,)``.

        Each chain picks a position of its order uniformly and proposes to exchange the
        potentials of the nodes ``a`` (there) and ``b`` (next). The move changes only which of
        ``a -> b`` and ``b -> a`` is allowed, so only the likelihood terms of ``a`` and ``b``
        differ, and neither the prior of ``p`` (the same values, exchanged) nor the proposal
        probability does. Each side is scored by its likelihood with the edge between the two
        marginalised: with the other parents those of a graph drawn from ``q(W | p)``,
        ``s(a < b) = logsumexp(l_a + l_b, l_a + l_{b|a} - lambda)`` and ``s(b < a) =
        logsumexp(l_a + l_b, l_{a|b} + l_b - lambda)``, where each ``l`` is a profile log
        likelihood after the same refit (:func:`~skcausal_meta.models.bayesdag.anm.refit_nodes`, from one common start, so that
        mechanisms already fitted to the current order do not favour it). The swap is accepted
        with probability ``min(1, exp(s(b < a) - s(a < b)))``; an accepted chain takes the
        refitted mechanisms and noise scales of ``a`` and ``b``, that of ``a`` with the input
        ``b`` drawn with its conditional probability, so that the edge ``b -> a``, which the
        order forbade until now, starts from fitted weights rather than stale ones.
        """
        C, d = self.p.shape
        with torch.no_grad():
            order = torch.argsort(self.p, dim=1, descending=True)
            k = torch.randint(0, d - 1, (C, 1), generator=self.generator, device=self.p.device)
            a, b = order.gather(1, k)[:, 0], order.gather(1, k + 1)[:, 0]
            G = self._sample_graphs()
            chains = torch.arange(C, device=G.device)
            without = G.clone()
            without[chains, a, b] = 0.0
            with_pair = without.clone()
            with_pair[chains, a, b], with_pair[chains, b, a] = 1.0, 1.0
            nodes = torch.stack([a, b], dim=1)  # (C, 2)
            index = nodes[:, None, :].expand(C, d, 2)
            parents = torch.stack([g.gather(2, index).transpose(-1, -2) for g in (without, with_pair)])
        theta, log_lik, log_scale = refit_nodes(
            self.mechanism, self.hidden, self.X, self.mask, parents, nodes.expand(2, C, 2), self.generator,
            fit_rows=self._rows(),
        )  # log_lik[e, c, s]: node s of the pair, with (e = 1) or without (e = 0) the other as parent
        with torch.no_grad():
            none = log_lik[0].sum(-1)
            a_to_b = log_lik[0, :, 0] + log_lik[1, :, 1] - self.lambda_sparse
            b_to_a = log_lik[1, :, 0] + log_lik[0, :, 1] - self.lambda_sparse
            log_ratio = torch.logaddexp(none, b_to_a) - torch.logaddexp(none, a_to_b)
            uniform = torch.rand((2, C), generator=self.generator, dtype=self.X.dtype, device=self.X.device)
            accept = torch.log(uniform[0]) < log_ratio
            edge = (uniform[1] < torch.sigmoid(b_to_a - none)).long()  # b -> a in the new order?
            c, a, b, edge = chains[accept], a[accept], b[accept], edge[accept]
            for x in (self.p, self.p_sampler.momentum[0], self.p_sampler.square[0]):
                x[c, a], x[c, b] = x[c, b], x[c, a]
            for node, slot, e in ((a, 0, edge), (b, 1, torch.zeros_like(edge))):
                self.log_scale[c, node] = log_scale[e, c, slot]
                if self.mechanism == "linear":
                    self.theta[0][c, :, node] = theta[0][e, c, slot]
                else:
                    for t, fitted in zip(self.theta, theta):
                        t[c, node] = fitted[e, c, slot]
        return accept

    @torch.no_grad()
    def _sample_graphs(self):
        """Graphs ``W * Step(grad p)`` at the current potentials, ``W ~ q_phi(W | p)``; ``(C, d, d)``."""
        W = torch.bernoulli(torch.sigmoid(self.edge_logits(self.p)), generator=self.generator)
        return W * self.order_mask(self.p)

    @torch.no_grad()
    def draw(self):
        """Current graphs (``W`` drawn from ``q_phi(W | p)``), parameters and noise scales."""
        G = self._sample_graphs().round().to(torch.int8)
        return G, [t.detach().clone() for t in self.theta], self.log_scale.detach().clone()


def stack_draws(draws):
    """Concatenate a list of ``draw()`` results along the chain axis into numpy arrays."""
    graphs = np.concatenate([g.cpu().numpy() for g, _, _ in draws])
    theta = [np.concatenate([t[k].cpu().numpy() for _, t, _ in draws]) for k in range(len(draws[0][1]))]
    log_scale = np.concatenate([s.cpu().numpy() for _, _, s in draws])
    return graphs, theta, log_scale
