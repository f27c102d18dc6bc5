"""The BGe score: the marginal likelihood ``log p(D | G)`` of linear-Gaussian networks under the
Normal-Wishart parameter prior (Geiger & Heckerman 2002; Kuipers et al. 2014), and its exact
posterior predictive density for held-out rows.

Used by DiBS (the ``marginal`` preset) and the exact-posterior benchmark; batched over graphs
like the likelihoods of :mod:`skcausal_meta.models.likelihoods`, which re-exports :class:`BGe`.
"""

from __future__ import annotations

import math

import torch

__all__ = ["BGe"]


def family_score(N, n_pa, logdet_pa, logdet_fam, *, alpha_mu: float, alpha_lambd: float, d: int):
    """BGe score of a node from its rows ``N``, its number of parents ``n_pa`` and the log
    determinants of its posterior matrix on the parents and on the family (the formula of
    :class:`BGe`; 0 where no row informs the node). Shared by :class:`BGe` and the batched order
    programme of :mod:`~skcausal_meta.models.order_posterior`."""
    t = alpha_mu * (alpha_lambd - d - 1) / (alpha_mu + 1)
    a = alpha_lambd - d + n_pa
    score = (
        0.5 * (math.log(alpha_mu) - torch.log(N + alpha_mu))
        + torch.lgamma(0.5 * (N + a + 1))
        - torch.lgamma(0.5 * (a + 1))
        - 0.5 * N * math.log(math.pi)
        + 0.5 * (a + n_pa + 1) * math.log(t)
        + 0.5 * (N + a) * logdet_pa
        - 0.5 * (N + a + 1) * logdet_fam
    )
    return torch.where(N > 0, score, torch.zeros_like(score))


class BGe:
    """BGe marginal likelihood of linear-Gaussian Bayesian networks.

    The Normal-Wishart prior has mean ``0``, mean precision scale ``alpha_mu`` and
    ``alpha_lambd`` degrees of freedom, and the diagonal parameter matrix
    ``T = t I`` with ``t = alpha_mu (alpha_lambd - d - 1) / (alpha_mu + 1)`` (the default of
    Kuipers et al. 2014, also used by DiBS). The score of node ``j`` with parents ``pa`` is

    ``log Gamma((N + a_pa + 1) / 2) - log Gamma((a_pa + 1) / 2) - N/2 log pi
    + 1/2 log(alpha_mu / (N + alpha_mu)) + (a_pa + |pa| + 1) / 2 log t
    + (N + a_pa) / 2 log|R_pa| - (N + a_pa + 1) / 2 log|R_{pa+j}|``

    with ``a_pa = alpha_lambd - d + |pa|``, ``N`` the rows where ``j`` is not intervened on and
    ``R = T + S_N + N alpha_mu / (N + alpha_mu) xbar xbar^T`` their posterior matrix.

    Both log-determinants come from one Cholesky factorisation of the family block
    ``m m^T * R + (1 - m m^T) * I`` with the parents first and ``j`` last among the members: the
    pivot of ``j`` is the Schur complement ``|R_{pa+j}| / |R_pa|``. Only the members of the
    largest family in a batch are gathered, so sparse graphs factor small matrices. With soft
    parent indicators ``m`` in ``[0, 1]`` the matrix stays positive definite, so the score is
    differentiable in the graph.

    Parameters
    ----------
    X : torch.Tensor of shape (n, d)
        Training data.
    mask : torch.Tensor of shape (n, d), dtype bool
        Intervention mask of the training data.
    alpha_mu : float, default=1.0
    alpha_lambd : float, default=None
        Must exceed ``d + 1``; ``None`` gives ``d + 2``.
    """

    def __init__(self, X, mask, alpha_mu=1.0, alpha_lambd=None):
        n, d = X.shape
        alpha_lambd = d + 2.0 if alpha_lambd is None else float(alpha_lambd)
        if not alpha_lambd > d + 1:
            raise ValueError(f"alpha_lambd must exceed d + 1 = {d + 1}, got {alpha_lambd}")
        if not alpha_mu > 0:
            raise ValueError(f"alpha_mu must be > 0, got {alpha_mu}")
        self.d, self.alpha_mu, self.alpha_lambd = d, float(alpha_mu), alpha_lambd
        self.t = alpha_mu * (alpha_lambd - d - 1) / (alpha_mu + 1)
        observed = (~mask).to(X.dtype)  # (n, d): row r informs node j
        self.N = observed.sum(0)  # (d,)
        self.R = self._posterior_matrices(X, observed, self.N)  # (d, d, d): R[j] for node j
        # order[j] lists the nodes with j moved last: [0..j-1, j+1..d-1, j]
        idx = torch.arange(d, device=X.device)
        self.order = torch.stack([torch.cat([idx[idx != j], idx[j : j + 1]]) for j in range(d)])
        self.X_bar = (observed.T @ X) / self.N.clamp(min=1)[:, None]  # (d, d): row j = mean for node j

    def _posterior_matrices(self, X, observed, N):
        d = self.d
        x_bar = (observed.T @ X) / N.clamp(min=1)[:, None]  # (d_node, d)
        centred = (X.unsqueeze(0) - x_bar.unsqueeze(1)) * observed.T.unsqueeze(-1)  # (d_node, n, d)
        scatter = centred.transpose(-1, -2) @ centred
        shrink = (N * self.alpha_mu / (N + self.alpha_mu))[:, None, None]
        eye = torch.eye(d, dtype=X.dtype, device=X.device)
        return self.t * eye + scatter + shrink * x_bar.unsqueeze(-1) * x_bar.unsqueeze(-2)

    def _family_factors(self, parents, nodes, scale=None):
        """Cholesky factors of the family blocks of nodes ``(K,)`` with parent rows ``(K, d)``.

        Returns ``chol (K, k, k)``, the member node ids ``members (K, k)``, their (soft)
        indicators ``weight (K, k)`` and the position ``pivot (K,)`` of the node itself, where
        ``k`` is the size of the largest family; shorter families are padded with identity.
        """
        m = torch.gather(parents, -1, self.order[nodes])  # the node's own slot holds its diagonal 0
        m = torch.cat([m[..., :-1], torch.ones_like(m[..., :1])], dim=-1)
        is_member = m != 0
        size = is_member.sum(-1)
        k = int(size.max())
        position = torch.argsort((~is_member).to(torch.int8), dim=-1, stable=True)[:, :k]
        members = torch.gather(self.order[nodes], -1, position)
        weight = torch.gather(m, -1, position)
        R = self.R[nodes.unsqueeze(-1), members]  # (K, k, d): member rows
        R = torch.gather(R, -1, members.unsqueeze(-2).expand(-1, k, -1))  # (K, k, k)
        if scale is not None:
            R = scale[nodes, None, None] * R
        eye = torch.eye(k, dtype=R.dtype, device=R.device)
        block = (weight.unsqueeze(-1) * weight.unsqueeze(-2)) * (R - eye) + eye
        chol, info = torch.linalg.cholesky_ex(block)
        if bool((info != 0).any()):
            raise FloatingPointError("BGe: a posterior matrix is not positive definite")
        return chol, members, weight, size - 1

    def _family_scores(self, parents, nodes):
        """BGe family scores ``(K,)`` of node ``nodes[k]`` with parent indicators ``parents[k]``."""
        chol, _, _, pivot = self._family_factors(parents, nodes)
        log_diag = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1))
        logdet_fam = log_diag.sum(-1)
        logdet_pa = logdet_fam - log_diag.gather(-1, pivot.unsqueeze(-1)).squeeze(-1)
        return family_score(self.N[nodes], parents.sum(-1), logdet_pa, logdet_fam, alpha_mu=self.alpha_mu,
                            alpha_lambd=self.alpha_lambd, d=self.d)

    def node_scores(self, G):
        """Per-node BGe scores ``(..., d)`` of (soft) graphs ``G`` of shape ``(..., d, d)``.

        For hard graphs outside autograd, each distinct (node, parent set) family is scored
        once: Monte Carlo graph samples repeat families heavily once ``p(G | Z)`` sharpens, so
        this saves most of the work without changing any value.
        """
        d = self.d
        batch = G.shape[:-2]
        parents = G.transpose(-1, -2).to(self.R.dtype).reshape(-1, d)  # row: parents of one node
        nodes = torch.arange(d, device=G.device).repeat(parents.shape[0] // d)
        hard = not parents.requires_grad and bool(((parents == 0) | (parents == 1)).all())
        if not hard:
            return self._family_scores(parents, nodes).reshape(*batch, d)
        if d < 56:  # pack (node, parent bits) into one integer: a 1-d unique is much faster
            bits = 2 ** torch.arange(d, device=G.device, dtype=torch.int64)
            keys = (parents.to(torch.int64) * bits).sum(-1) + nodes * 2**d
            unique, inverse = torch.unique(keys, return_inverse=True)
        else:
            keys = torch.cat([nodes[:, None], parents.to(torch.int64)], dim=1)
            unique, inverse = torch.unique(keys, dim=0, return_inverse=True)
        first = torch.empty(unique.shape[0], dtype=torch.int64, device=G.device)
        first.scatter_(0, inverse, torch.arange(inverse.shape[0], device=G.device))
        scores = self._family_scores(parents[first], nodes[first])
        return scores[inverse].reshape(*batch, d)

    def log_marginal_likelihood(self, G):
        """``log p(D | G)`` of shape ``(...)`` for graphs ``G`` of shape ``(..., d, d)``."""
        return self.node_scores(G).sum(-1)

    def log_predictive(self, G, X, mask):
        """Exact posterior predictive ``log p(x_r | D, G)`` per row, shape ``(..., n)``.

        Under the Normal-Wishart posterior every sub-vector ``x_Y`` is multivariate Student-t
        with ``nu = N + alpha_lambd - d + 1`` degrees of freedom, location ``xbar_post`` and scale
        ``(N + alpha_mu + 1) / ((N + alpha_mu) nu) R_YY``, so the family term of node ``j`` is
        ``log t(x_{pa+j}) - log t(x_pa)``; node ``j``'s term is dropped in rows where it was
        intervened on. (Equal to ``log p(D + x_r | G) - log p(D | G)``.)

        Parameters
        ----------
        G : torch.Tensor of shape (..., d, d), hard graphs
        X : torch.Tensor of shape (n, d)
        mask : torch.Tensor of shape (n, d), dtype bool
        """
        d, N = self.d, self.N
        nu = N + self.alpha_lambd - d + 1  # (d,)
        location = N[:, None] * self.X_bar / (N + self.alpha_mu)[:, None]  # prior mean 0; (d_node, d)
        scale = (N + self.alpha_mu + 1) / ((N + self.alpha_mu) * nu)
        batch = G.shape[:-2]
        parents = G.transpose(-1, -2).to(self.R.dtype).reshape(-1, d)
        nodes = torch.arange(d, device=G.device).repeat(parents.shape[0] // d)
        chol, members, weight, pivot = self._family_factors(parents, nodes, scale)
        resid = X[:, members] - location[nodes.unsqueeze(-1), members]  # (n, K, k)
        resid = (resid * weight).transpose(0, 1)  # (K, n, k)
        # Whitened residuals L^{-1} r; the parents' block is the leading part of the family's.
        white = torch.linalg.solve_triangular(chol.unsqueeze(1), resid.unsqueeze(-1), upper=False).squeeze(-1)
        q_fam = (white**2).sum(-1)  # (K, n)
        q_pa = q_fam - torch.gather(white, -1, pivot[:, None, None].expand(-1, white.shape[1], 1)).squeeze(-1) ** 2
        log_pivot = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1).gather(-1, pivot.unsqueeze(-1)))  # (K, 1)
        n_pa = pivot.to(X.dtype).unsqueeze(-1)
        nu_k = nu[nodes].unsqueeze(-1)
        # log t(x_fam) - log t(x_pa), where the family has one more dimension than the parents
        term = (
            torch.lgamma(0.5 * (nu_k + n_pa + 1))
            - torch.lgamma(0.5 * (nu_k + n_pa))
            - 0.5 * torch.log(nu_k * math.pi)
            - log_pivot
            - 0.5 * (nu_k + n_pa + 1) * torch.log1p(q_fam / nu_k)
            + 0.5 * (nu_k + n_pa) * torch.log1p(q_pa / nu_k)
        )
        term = term.reshape(*batch, d, -1).masked_fill(mask.T, 0.0)
        return term.sum(-2)
