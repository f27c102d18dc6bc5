"""Pair statistics of a data set, the classical evidence an amortized network is given.

Amortized networks learn conditional independence from raw rows only with very large training
budgets. Recent amortized models (SEA, Wu et al. 2024: global statistics and classical
estimates as inputs; FoundCause: pairwise statistics as attention biases) hand them the
statistics instead. :func:`pair_statistics` computes, once per data set and batched in torch,
one feature vector ``s_ij`` per ordered pair of variables from the model input ``[B, n, d, 2]``
(z-scored values, intervention flags), in ``O(n d^2 + d^3)``:

======================== ======== ===================================================================
group                    channels ``s_ij``
======================== ======== ===================================================================
``pearson``              1        Pearson correlation of columns ``i`` and ``j``
``partial``              1        partial correlation given all other columns, from the Ledoit-Wolf
                                  shrinkage precision matrix ``P``: ``-P_ij / sqrt(P_ii P_jj)``
                                  (defined for ``n <= d``)
``spearman``             1        Spearman correlation (Pearson on average ranks)
``rank_partial``         1        ``partial`` on the average ranks
``hsic``                 1        normalised HSIC with a Gaussian kernel of width 1, estimated with
                                  ``RFF_FEATURES`` fixed random Fourier features
                                  (``||C_ij||_F^2 / (||C_ii||_F ||C_jj||_F)``, ``C`` the centred
                                  feature cross-covariance; in [0, 1], 0 for independent columns)
``partial_ols``          1        partial correlation from the sample covariance itself (a ``1e-10``
                                  ridge), precise where the data are near-deterministic and
                                  shrinkage blurs the skeleton; ``partial``'s value where ``n <= d + 1``
``collider``             1        v-structure evidence for ``i -> j``: ``A_ij sum_k S_ik A_kj`` with
                                  ``A = |partial_ols|`` and ``S = max(A - |pearson|, 0)``, the
                                  dependence that conditioning creates between spouses ``i`` and ``k``
                                  of a common child ``j``
``min_dependence``       1        ``min(|pearson|, |partial_ols|)``: adjacent columns depend on each
                                  other both marginally and given all others (PC's test with the
                                  conditioning sets {} and all the rest); spouses, dependent only
                                  given their common child, and marginally correlated non-neighbours
                                  score low
``r2_gap``               1        ``R2_j - R2_i``, with ``R2_k = 1 - 1 / (S_kk P_kk)`` the fraction of
                                  column ``k``'s variance explained by all others (the cue of
                                  R2-sortability, Reisach et al. 2023)
``bge_subsets``          3        the exact BGe posterior (:mod:`~skcausal_meta.models.order_posterior`)
                                  on a subset around every variable ``v``: ``v`` and the
                                  ``SUBSET_SIZE - 1`` variables of largest ``|partial_ols|`` with it;
                                  ``p(i -> j)`` averaged over the subsets that hold both, ``p(i -> j)
                                  + p(j -> i)``, and a 0/1 flag: some subset holds both (constant
                                  columns: 0 in every channel). Likelihood
                                  evidence with explaining away, which the correlations lack (SEA,
                                  Wu et al. 2024, feeds classical estimates on variable subsets)
``interventional_shift`` 2        the mean of ``j`` on rows intervening on ``i`` minus its mean on
                                  observational rows, over its observational standard deviation; and
                                  a 0/1 flag: ``i`` is intervened in some row and observational rows
                                  exist (both 0 otherwise)
======================== ======== ===================================================================

Every statistic is computed over all rows of the data set, is symmetric under permuting rows and
equivariant under permuting variables, and stays finite for constant or duplicated columns and
``n <= d`` (constant columns get 0 correlation). The diagonal ``s_ii`` is 0.
"""

from __future__ import annotations

import torch

from ..order_posterior import batched_edge_posterior, bge_posterior_matrices

__all__ = ["STATISTICS", "RFF_FEATURES", "SUBSET_SIZE", "n_statistics_channels", "check_statistics", "pair_statistics",
           "ledoit_wolf", "average_ranks", "rff_parameters"]

STATISTICS = {"pearson": 1, "partial": 1, "spearman": 1, "rank_partial": 1, "hsic": 1, "r2_gap": 1,
              "interventional_shift": 2, "partial_ols": 1, "collider": 1, "min_dependence": 1, "bge_subsets": 3}
RFF_FEATURES = 16
SUBSET_SIZE = 8
#: Prior probability of each order-compatible edge within a subset (a subset gathers a variable's
#: strongest neighbours, so it is denser than the graph).
SUBSET_EDGE_PROB = 0.3
_EPS = 1e-8


def check_statistics(names) -> tuple[str, ...]:
    """``names`` as a tuple of known statistics groups, in the order given; a clear error otherwise."""
    names = tuple(names)
    unknown = [name for name in names if name not in STATISTICS]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"statistics must be distinct names among {sorted(STATISTICS)}, got {list(names)!r}")
    return names


def n_statistics_channels(names) -> int:
    """Number of channels of :func:`pair_statistics` for the groups ``names``."""
    return sum(STATISTICS[name] for name in check_statistics(names))


def _standardize(values: torch.Tensor) -> torch.Tensor:
    """Columns of ``[B, n, d]`` centred and scaled to unit variance (constant columns to 0)."""
    centred = values - values.mean(dim=1, keepdim=True)
    std = centred.square().mean(dim=1, keepdim=True).sqrt()
    return centred / torch.where(std > _EPS, std, torch.ones_like(std)) * (std > _EPS)


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of every column of ``[B, n, d]``, ties given their average rank (as scipy's
    ``rankdata(method="average")``)."""
    columns = values.transpose(1, 2).contiguous()  # [B, d, n]
    ordered = columns.sort(dim=-1).values
    below = torch.searchsorted(ordered, columns, right=False)
    up_to = torch.searchsorted(ordered, columns, right=True)
    return ((below + up_to + 1).to(values.dtype) / 2).transpose(1, 2)


def ledoit_wolf(z: torch.Tensor) -> torch.Tensor:
    """Ledoit-Wolf shrinkage covariance ``[B, d, d]`` of centred columns ``z`` of shape ``[B, n, d]``.

    The shrinkage towards ``mu I`` (``mu`` the mean variance) is the one of
    ``sklearn.covariance.ledoit_wolf``: ``min(beta, delta) / delta`` with ``delta`` the squared
    distance of the sample covariance from ``mu I`` and ``beta`` the variance of its entries.
    """
    n, d = z.shape[1], z.shape[2]
    cov = z.transpose(1, 2) @ z / n
    squares = z.square()
    mu = squares.sum((1, 2)) / (n * d)
    beta_sum = (squares.transpose(1, 2) @ squares).sum((1, 2))
    delta_sum = cov.square().sum((1, 2))
    beta = (beta_sum / n - delta_sum) / (d * n)
    delta = (delta_sum - 2 * mu * squares.sum((1, 2)) / n + d * mu.square()) / d
    beta = torch.minimum(beta, delta)
    shrinkage = torch.where(delta > 0, beta / delta.clamp_min(1e-30), torch.zeros_like(delta))
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    return (1 - shrinkage)[:, None, None] * cov + (shrinkage * mu)[:, None, None] * eye


def _precision(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ledoit-Wolf covariance and its inverse for standardised columns ``z``; a tiny ridge keeps
    the inverse finite when every column is constant or duplicated."""
    cov = ledoit_wolf(z)
    ridge = 1e-6 * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    return cov, torch.linalg.inv(cov + ridge)


def _partial_from_precision(precision: torch.Tensor) -> torch.Tensor:
    diag = precision.diagonal(dim1=-2, dim2=-1).clamp_min(_EPS).sqrt()
    return -precision / (diag[..., :, None] * diag[..., None, :])


def _ols_partial(z: torch.Tensor) -> torch.Tensor:
    """Partial correlations of standardised columns from their sample covariance (Ledoit-Wolf's
    where ``n <= d + 1``, when the sample covariance is singular)."""
    n, d = z.shape[1], z.shape[2]
    if n <= d + 1:
        return _partial_from_precision(_precision(z)[1])
    cov = z.transpose(1, 2) @ z / n
    ridge = 1e-10 * torch.eye(d, dtype=cov.dtype, device=cov.device)  # only guards duplicated columns
    return _partial_from_precision(torch.linalg.inv(cov + ridge)).clamp(-1, 1)


def _collider(partial: torch.Tensor, correlation: torch.Tensor) -> torch.Tensor:
    """``A_ij sum_k S_ik A_kj``: ``A = |partial|`` (zero diagonal), ``S = max(A - |correlation|, 0)``."""
    off = 1 - torch.eye(partial.shape[-1], dtype=partial.dtype, device=partial.device)
    adjacency = partial.abs() * off
    spouses = (adjacency - correlation.abs()).clamp_min(0) * off
    return adjacency * (spouses @ adjacency)


def _correlation(z: torch.Tensor) -> torch.Tensor:
    return (z.transpose(1, 2) @ z / z.shape[1]).clamp(-1, 1)


def _rff_hsic(z: torch.Tensor) -> torch.Tensor:
    """Normalised HSIC ``[B, d, d]`` of standardised columns with fixed random Fourier features."""
    w, b = rff_parameters(z.device)
    B, n, d = z.shape
    z = z.float()  # float32: this matmul is the costliest statistic, its precision is ample
    w, b = w.float(), b.float()
    features = torch.cos(z[..., None] * w + b)  # [B, n, d, m]
    features = (features - features.mean(dim=1, keepdim=True)).reshape(B, n, d * RFF_FEATURES)
    cross = (features.transpose(1, 2) @ features / n).reshape(B, d, RFF_FEATURES, d, RFF_FEATURES)
    hsic = cross.square().sum((2, 4))  # [B, d, d]
    norm = hsic.diagonal(dim1=-2, dim2=-1).clamp_min(_EPS).sqrt()
    return (hsic / (norm[..., :, None] * norm[..., None, :])).clamp(0, 1).double()


def rff_parameters(device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed frequencies ``w ~ N(0, 1)`` and phases ``b ~ U(0, 2 pi)`` of the HSIC features."""
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(RFF_FEATURES, generator=generator, dtype=torch.float64)
    b = 2 * torch.pi * torch.rand(RFF_FEATURES, generator=generator, dtype=torch.float64)
    return w.to(device), b.to(device)


def _interventional_shift(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Standardised shift of ``j`` under interventions on ``i`` and its availability flag ``[B, d, d, 2]``."""
    observational = (~mask.any(dim=-1)).to(z.dtype)  # [B, n]
    n_obs = observational.sum(1)  # [B]
    obs_mean = (observational[..., None] * z).sum(1) / n_obs.clamp_min(1)[:, None]  # [B, d]
    obs_var = (observational[..., None] * (z - obs_mean[:, None]).square()).sum(1) / n_obs.clamp_min(1)[:, None]
    targeted = mask.to(z.dtype)  # [B, n, d]: row r intervenes on i
    n_targeted = targeted.sum(1)  # [B, d]
    mean_under = targeted.transpose(1, 2) @ z / n_targeted.clamp_min(1)[..., None]  # [B, i, j]
    available = ((n_targeted > 0) & (n_obs[:, None] > 1)).to(z.dtype)  # [B, i]
    scale = obs_var.sqrt().clamp_min(1e-3)[:, None, :]
    shift = (mean_under - obs_mean[:, None, :]) / scale * available[..., None]
    flag = available[..., None].expand_as(shift)
    return torch.stack([shift.clamp(-10, 10), flag], dim=-1)


def pair_statistics(x: torch.Tensor, names=tuple(STATISTICS)) -> torch.Tensor:
    """The pair statistics ``[B, d, d, C]`` of model inputs ``x`` of shape ``[B, n, d, 2]``.

    Parameters
    ----------
    x : tensor of shape (B, n, d, 2)
        Values in channel 0, 0/1 intervention flags in channel 1 (see ``make_model_input``).
    names : sequence of str, default=all of ``STATISTICS``
        The groups to compute, in this order along the last axis.

    Returns
    -------
    tensor of shape (B, d, d, C)
        ``C = n_statistics_channels(names)``; float32 (computed in float64), zero diagonal.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(1, 50, 3, 2)
    >>> x[0, :, 0, 0] = torch.linspace(-1, 1, 50)
    >>> x[0, :, 1, 0] = 2 * x[0, :, 0, 0]
    >>> s = pair_statistics(x, ["pearson"])
    >>> round(float(s[0, 0, 1, 0]), 3), float(s[0, 0, 2, 0])
    (1.0, 0.0)
    """
    names = check_statistics(names)
    if x.ndim != 4 or x.shape[-1] != 2:
        raise ValueError(f"x must have shape [B, n, d, 2], got {tuple(x.shape)}")
    values = x[..., 0].double()
    mask = x[..., 1] > 0.5
    z = _standardize(values)
    cache = {}

    def lazy(key, make):
        if key not in cache:
            cache[key] = make()
        return cache[key]

    ranks = lambda: _standardize(average_ranks(values))  # noqa: E731
    lw = lambda: lazy("lw", lambda: _precision(z))  # noqa: E731
    ols = lambda: lazy("ols", lambda: _ols_partial(z))  # noqa: E731
    corr = lambda: lazy("corr", lambda: _correlation(z))  # noqa: E731
    builders = {
        "pearson": lambda: corr()[..., None],
        "partial": lambda: _partial_from_precision(lw()[1])[..., None],
        "spearman": lambda: _correlation(lazy("ranks", ranks))[..., None],
        "rank_partial": lambda: _partial_from_precision(_precision(lazy("ranks", ranks))[1])[..., None],
        "hsic": lambda: _rff_hsic(z)[..., None],
        "r2_gap": lambda: _r2_gap(*lw())[..., None],
        "interventional_shift": lambda: _interventional_shift(z, mask),
        "partial_ols": lambda: ols()[..., None],
        "collider": lambda: _collider(ols(), corr())[..., None],
        "min_dependence": lambda: torch.minimum(ols().abs(), corr().abs())[..., None],
        "bge_subsets": lambda: _bge_subsets(z, mask, ols()),
    }
    out = torch.cat([builders[name]() for name in names], dim=-1)
    off = 1 - torch.eye(out.shape[1], dtype=out.dtype, device=out.device)
    out = torch.nan_to_num(out * off[..., None], nan=0.0, posinf=0.0, neginf=0.0)
    return out.to(torch.float32)


def _r2_gap(cov: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    explained = 1 - 1 / (cov.diagonal(dim1=-2, dim2=-1) * precision.diagonal(dim1=-2, dim2=-1)).clamp_min(1.0)
    return explained[..., None, :] - explained[..., :, None]


def _bge_subsets(z: torch.Tensor, mask: torch.Tensor, partial: torch.Tensor) -> torch.Tensor:
    """Exact BGe edge posteriors on the subset around every variable, pooled per pair ``[B, d, d, 3]``."""
    B, n, d = z.shape
    k = min(SUBSET_SIZE, d)
    z = torch.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)
    # constant columns never join another variable's subset and add nothing to the pooled means,
    # so that ties among them (broken by position) cannot break the equivariance over variables
    active = (z != 0).any(dim=1).to(z.dtype)  # [B, d]
    strength = partial.abs().masked_fill(active[:, None, :] == 0, -1.0)
    strength = strength + 3 * torch.eye(d, dtype=z.dtype, device=z.device)  # v heads its own subset
    members = strength.topk(k, dim=-1).indices  # [B, d, k]
    flat = members.reshape(B, 1, d * k).expand(B, n, d * k)
    values = torch.gather(z, 2, flat).reshape(B, n, d, k).transpose(1, 2)  # [B, d, n, k]
    if bool(mask.any()):  # each node's rows: those not intervened on it
        observed = (~torch.gather(mask, 2, flat)).to(z.dtype).reshape(B, n, d, k).transpose(1, 2)
    else:  # every node informed by every row: one matrix per subset
        observed = torch.ones(B, d, n, 1, dtype=z.dtype, device=z.device)
    alpha_mu, alpha_lambd = 1.0, k + 2.0
    R, N = bge_posterior_matrices(values, observed, alpha_mu, alpha_mu * (alpha_lambd - k - 1) / (alpha_mu + 1))
    probs = batched_edge_posterior(R.reshape(B * d, *R.shape[2:]), N.reshape(B * d, -1),
                                   edge_prob=SUBSET_EDGE_PROB, alpha_mu=alpha_mu, alpha_lambd=alpha_lambd)
    pairs = (members[..., :, None] * d + members[..., None, :]).reshape(B, -1)  # [B, d k k]: flat (i, j)
    kept = torch.gather(active, 1, members.reshape(B, -1)).reshape(B, d, k) * active[:, :, None]  # [B, v, k]
    weight = (kept[..., :, None] * kept[..., None, :]).reshape(B, -1)  # both ends active, in v's subset
    sums = torch.zeros(B, d * d, dtype=z.dtype, device=z.device).scatter_add_(1, pairs, probs.reshape(B, -1) * weight)
    counts = torch.zeros_like(sums).scatter_add_(1, pairs, weight)
    mean = (sums / counts.clamp_min(1)).reshape(B, d, d)
    covered = (counts > 0).to(z.dtype).reshape(B, d, d)
    return torch.stack([mean, mean + mean.transpose(1, 2), covered], dim=-1)
