"""Distances between SCM families (or between sets of data sets).

Each family is first *summarised* by sampling ``n_datasets`` data sets with their graphs
(:func:`summarize_family`); distances then compare two summaries (:func:`family_distance`).
Every component is documented with its formula; all of them are 0 for identical summaries and
close to 0 (within sampling error) for two independent summaries of the same family.

Components
----------
graph level (on the sampled DAGs)
    ``degree_w1``: 1-Wasserstein distance between the pooled total-degree distributions, each
    degree divided by ``d - 1`` so graphs of different sizes compare.
    ``density``: ``|mean_a(|E|/d) - mean_b(|E|/d)|``, the gap in mean edges per node.
    ``spectral_radius``: ``|mean_a rho(S) - mean_b rho(S)|`` with ``rho(S)`` the largest
    eigenvalue of the symmetric skeleton ``S = A + A^T`` divided by ``sqrt(d)`` (a DAG's own
    adjacency matrix is nilpotent, so its spectral radius is always 0).
mechanism level
    ``nonlinearity``: ``|mean_a g - mean_b g|`` where ``g = R^2_flex - R^2_lin`` is, for each
    non-root node on standardised observational rows, the held-out R^2 of a Gaussian-kernel
    ridge regression on the true parents minus that of an ordinary least-squares fit (floored
    at 0).
noise level
    ``kurtosis``: ``|med_a k - med_b k|`` with ``k = log(1 + |excess kurtosis|)`` of the
    residuals of the flexible fit (log-compressed: heavy tails give huge kurtoses);
    ``skewness``: the same with ``|skewness|``.
data level
    ``mmd``: unbiased squared maximum mean discrepancy, Gaussian kernel with the median
    heuristic, between per-data-set statistics that do not depend on node order or on ``d``
    (:func:`dataset_statistics`), so families with different numbers of nodes compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression

from .._validation import check_positive_int, check_random_state
from .families import get_family, make_scm_family

__all__ = ["FamilySummary", "dataset_statistics", "summarize_family", "summarize_datasets", "family_distance", "distance_matrix", "mmd2"]

_RIDGE = 0.1


def _standardise(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 1e-12, sd, 1.0)


def dataset_statistics(X: np.ndarray) -> np.ndarray:
    """Permutation-invariant, size-free summary of one data set ``(n, d)``.

    Entries: mean, 90% quantile and max of the absolute off-diagonal correlations; mean linear
    R^2 of each node on all others; the largest eigenvalue share of the correlation matrix;
    median ``log(1 + |excess kurtosis|)`` and median ``|skewness|`` of the columns; the
    standard deviation of the log variances (scale heterogeneity, the cue behind
    varsortability).
    """
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    Z = _standardise(X)
    corr = np.corrcoef(Z, rowvar=False) if d > 1 else np.ones((1, 1))
    corr = np.nan_to_num(corr)
    off = np.abs(corr[~np.eye(d, dtype=bool)])
    prec = np.linalg.pinv(corr + 1e-6 * np.eye(d))
    r2_all = np.clip(1.0 - 1.0 / np.maximum(np.diag(prec), 1e-12), 0.0, 1.0)
    eig = np.linalg.eigvalsh(corr)
    log_var = np.log(np.maximum(X.var(axis=0), 1e-300))
    return np.array([
        off.mean(), np.quantile(off, 0.9), off.max(), r2_all.mean(), eig[-1] / d,
        np.median(np.log1p(np.abs(stats.kurtosis(X, axis=0)))), np.median(np.abs(stats.skew(X, axis=0))),
        log_var.std(),
    ])


def _held_out_r2(model, P, y, half):
    model.fit(P[:half], y[:half])
    return 1.0 - (y[half:] - model.predict(P[half:])).var() / max(y[half:].var(), 1e-12)


def _mechanism_and_noise_stats(X: np.ndarray, graph: np.ndarray):
    """Per non-root node: (R^2 gap, log(1+|kurtosis|), |skewness|).

    Linear fit: ordinary least squares. Flexible fit: Gaussian-kernel ridge regression on the
    standardised parents (bandwidth ``sqrt(n_parents)``, penalty 0.1). R^2 values are measured on
    the held-out half of the rows; the noise shape on the in-sample residuals of the flexible fit
    over all rows (held-out residuals would mix extrapolation error into the tails).
    """
    Z = _standardise(X)
    half = len(Z) // 2
    out = []
    for j in np.flatnonzero(graph.sum(axis=0)):
        pa = np.flatnonzero(graph[:, j])
        y, P = Z[:, j], Z[:, pa]
        flexible = KernelRidge(kernel="rbf", alpha=_RIDGE, gamma=0.5 / len(pa))
        gap = _held_out_r2(flexible, P, y, half) - _held_out_r2(LinearRegression(), P, y, half)
        resid = y - flexible.fit(P, y).predict(P)
        out.append((max(gap, 0.0), np.log1p(abs(stats.kurtosis(resid))), abs(stats.skew(resid))))
    return np.asarray(out).reshape(-1, 3)


@dataclass
class FamilySummary:
    """Statistics of one family's sampled data sets, the input of :func:`~skcausal_meta.datasets.family_distance`.

    Examples
    --------
    Summarise once and compare many times: two summaries of the same family with different
    seeds differ by sampling error only, a summary from itself by nothing:

    >>> from skcausal_meta.datasets import family_distance, summarize_family
    >>> a = summarize_family("id", n_datasets=4, n_nodes=6, n_samples=60, random_state=0)
    >>> b = summarize_family("id", n_datasets=4, n_nodes=6, n_samples=60, random_state=1)
    >>> a.degrees.shape  # one normalised degree per node of every data set
    (24,)
    >>> round(family_distance(a, b)["density"], 2), family_distance(a, a)["density"]
    (0.37, 0.0)
    """

    name: str
    degrees: np.ndarray  # pooled normalised total degrees
    density: np.ndarray  # edges per node, per graph
    spectral_radius: np.ndarray  # per graph
    node_stats: np.ndarray  # (n_nodes_total, 3): R^2 gap, log kurtosis, |skewness|
    data_stats: np.ndarray  # (n_datasets, n_features)


def summarize_family(family, n_datasets: int = 20, n_nodes: int | None = None, n_samples: int | None = None,
                     random_state=None) -> FamilySummary:
    """Sample ``n_datasets`` observational data sets of ``family`` and summarise them (at least 2,
    which the MMD needs, of at least 2 rows, which the held-out fits need).

    Examples
    --------
    Four data sets on 5 nodes; ``density`` holds the edges per node of each graph:

    >>> from skcausal_meta.datasets import summarize_family
    >>> summary = summarize_family("id", n_datasets=4, n_nodes=5, n_samples=60, random_state=0)
    >>> summary.name, summary.data_stats.shape
    ('id', (4, 8))
    >>> summary.density
    array([0.8, 0.8, 1.8, 1.8])
    """
    check_positive_int(n_datasets, "n_datasets", minimum=2)
    if n_samples is not None:
        check_positive_int(n_samples, "n_samples", minimum=2)
    fam = get_family(family)
    rng = check_random_state(random_state)
    X, _, graphs = make_scm_family(fam, n_datasets=n_datasets, n_nodes=n_nodes, n_samples=n_samples,
                                   n_interventional=0, random_state=rng)
    return summarize_datasets(X, graphs, name=fam.name)


def summarize_datasets(X: np.ndarray, graphs: np.ndarray, name: str = "datasets") -> FamilySummary:
    """Summarise a set of observational data sets ``X (N, n, d)`` with their graphs ``(N, d, d)``.

    Use it for data sets that do not come from a registered family.

    Examples
    --------
    >>> from skcausal_meta.datasets import make_scm_family, summarize_datasets
    >>> X, _, graphs = make_scm_family("id", n_datasets=3, n_nodes=4, n_samples=50, n_interventional=0,
    ...                                random_state=0)
    >>> summary = summarize_datasets(X, graphs, name="my_data")
    >>> summary.name, summary.degrees.shape, summary.data_stats.shape
    ('my_data', (12,), (3, 8))
    >>> summary.density  # edges per node of each graph
    array([0.75, 1.  , 1.5 ])
    """
    X, graphs = np.asarray(X), np.asarray(graphs)
    if graphs.ndim != 3 or graphs.shape[1] != graphs.shape[2]:
        raise ValueError(f"graphs must have shape (N, d, d), got {graphs.shape}")
    if X.shape[:1] + X.shape[2:] != graphs.shape[:2] or X.ndim != 3:
        raise ValueError(f"X must have shape (N, n, d) = ({graphs.shape[0]}, n, {graphs.shape[1]}) to match the "
                         f"graphs, got {X.shape}")
    d = graphs.shape[-1]
    skeleton = graphs + np.swapaxes(graphs, 1, 2)
    degrees = skeleton.sum(axis=2).ravel() / max(d - 1, 1)
    radius = np.abs(np.linalg.eigvalsh(skeleton.astype(float))).max(axis=1) / np.sqrt(d)
    node_stats = np.concatenate([_mechanism_and_noise_stats(x, g) for x, g in zip(X, graphs)])
    return FamilySummary(
        name=name,
        degrees=degrees,
        density=graphs.sum(axis=(1, 2)) / d,
        spectral_radius=radius,
        node_stats=node_stats,
        data_stats=np.stack([dataset_statistics(x) for x in X]),
    )


def mmd2(A: np.ndarray, B: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased squared MMD between samples ``A (m, p)`` and ``B (k, p)`` with a Gaussian kernel.

    ``MMD^2 = mean_{i != i'} k(a_i, a_i') + mean_{j != j'} k(b_j, b_j') - 2 mean_{i, j} k(a_i, b_j)``,
    features standardised on the pooled sample, bandwidth the median pooled distance.
    """
    if len(A) < 2 or len(B) < 2:
        raise ValueError(f"mmd2 needs at least 2 samples on each side, got {len(A)} and {len(B)}")
    pooled = np.vstack([A, B])
    scale = pooled.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    A, B, pooled = A / scale, B / scale, pooled / scale
    sq = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
    if bandwidth is None:
        bandwidth = np.sqrt(0.5 * np.median(sq[np.triu_indices(len(pooled), 1)])) or 1.0
    K = np.exp(-sq / (2 * bandwidth**2))
    m = len(A)
    Kaa, Kbb, Kab = K[:m, :m], K[m:, m:], K[:m, m:]
    k = len(B)
    return float((Kaa.sum() - np.trace(Kaa)) / (m * (m - 1)) + (Kbb.sum() - np.trace(Kbb)) / (k * (k - 1))
                 - 2 * Kab.mean())


def family_distance(a, b, **summary_kwargs) -> dict:
    """All distance components between two families (names, families or :class:`~skcausal_meta.datasets.distances.FamilySummary`).

    Names and families are summarised with ``summary_kwargs`` (see :func:`summarize_family`).

    Examples
    --------
    ``ood_sparse`` has 0.25 to 0.75 edges per node where ``id`` has 1 to 3, which the
    ``density`` component shows:

    >>> from skcausal_meta.datasets import family_distance
    >>> distances = family_distance("id", "ood_sparse", n_datasets=4, n_nodes=6, n_samples=60, random_state=0)
    >>> sorted(distances)
    ['degree_w1', 'density', 'kurtosis', 'mmd', 'nonlinearity', 'skewness', 'spectral_radius']
    >>> round(distances["density"], 2)
    0.92
    """
    sa = a if isinstance(a, FamilySummary) else summarize_family(a, **summary_kwargs)
    sb = b if isinstance(b, FamilySummary) else summarize_family(b, **summary_kwargs)

    def gap(x, y, reduce=np.mean):
        return float(abs(reduce(x) - reduce(y))) if len(x) and len(y) else 0.0

    return {
        "degree_w1": float(stats.wasserstein_distance(sa.degrees, sb.degrees)),
        "density": gap(sa.density, sb.density),
        "spectral_radius": gap(sa.spectral_radius, sb.spectral_radius),
        "nonlinearity": gap(sa.node_stats[:, 0], sb.node_stats[:, 0]),
        "kurtosis": gap(sa.node_stats[:, 1], sb.node_stats[:, 1], np.median),
        "skewness": gap(sa.node_stats[:, 2], sb.node_stats[:, 2], np.median),
        "mmd": mmd2(sa.data_stats, sb.data_stats),
    }


def distance_matrix(families, reference: str = "id", **summary_kwargs):
    """A ``pandas.DataFrame`` of every distance component from ``reference`` to each family.

    Examples
    --------
    One row per family: the graph shift shows in ``density``, the noise shift (same graphs,
    Laplace noise) in ``kurtosis``:

    >>> from skcausal_meta.datasets import distance_matrix
    >>> table = distance_matrix(["ood_sparse", "ood_noise_laplace"], reference="id", n_datasets=4, n_nodes=6,
    ...                         n_samples=60, random_state=0)
    >>> table.shape
    (2, 7)
    >>> table[["density", "kurtosis"]].round(2)
                       density  kurtosis
    ood_sparse            0.92      0.17
    ood_noise_laplace     0.00      0.51
    """
    import pandas as pd

    ref = summarize_family(reference, **summary_kwargs)
    rows = {name: family_distance(ref, summarize_family(name, **summary_kwargs)) for name in families}
    return pd.DataFrame.from_dict(rows, orient="index")
