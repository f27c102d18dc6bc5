"""Sortability descriptors of data sets and families (Reisach et al. 2021, 2023).

Simulated additive-noise data are often *sortable*: a simple per-node score, such as the
marginal variance or the R^2 of predicting the node from all others, tends to increase along the
causal order, so a method can find the order from the score alone instead of from the causal
structure. Varsortability (Reisach, Seiler & Weichwald, NeurIPS 2021) measures this for the
variance, R^2-sortability (Reisach, Tami, Seiler, Weichwald & Weichwald, NeurIPS 2023) for the
scale-invariant R^2. Reported next to the family distances, they explain shifts that change
the scale of the data, and they are the reason every estimator z-scores its input by default
(``standardize=True``): z-scoring sets every variance to one, which makes varsortability
exactly 1/2 (uninformative) and leaves R^2-sortability unchanged.

Definition. For a DAG ``G`` with edge set ``E`` and node scores ``s``,

    sortability(s, G) = sum_{k=1}^{d-1} sum_{(i, j) in E^k} inc(s_i, s_j)
                        / sum_{k=1}^{d-1} |E^k|,

where ``E^k`` is the set of pairs ``(i, j)`` joined by a directed path of length exactly ``k``
(a pair joined by paths of several lengths counts once per length), and ``inc(a, b)`` is 1 if
``a < b``, 1/2 if ``a == b`` (within a relative tolerance) and 0 otherwise. 1 means the score
increases along every causal path, 0 that it decreases, 1/2 is chance level. It is undefined
(NaN) for a graph without edges.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_adjacency, check_positive_int
from .families import get_family, make_scm_family

__all__ = ["sortability", "varsortability", "r2_sortability", "dataset_descriptors", "family_descriptors"]

_RTOL = 1e-9


def sortability(scores, graph, rtol: float = _RTOL) -> float:
    """Fraction of causal paths along which ``scores`` increase (ties count one half).

    Parameters
    ----------
    scores : array-like of shape (d,)
        One score per node.
    graph : array-like of shape (d, d)
        Adjacency matrix of a DAG, ``graph[i, j] == 1`` for ``i -> j``.
    rtol : float, default=1e-9
        Two scores are tied when ``|s_i - s_j| <= rtol * max(|s_i|, |s_j|)``.

    Returns
    -------
    float
        In ``[0, 1]``; NaN when the graph has no edges.

    Examples
    --------
    On the chain ``0 -> 1 -> 2`` (paths 0-1, 1-2 and 0-2): increasing, decreasing, tied and
    mixed scores:

    >>> from skcausal_meta.datasets import sortability
    >>> chain = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    >>> sortability([1.0, 2.0, 3.0], chain), sortability([3.0, 2.0, 1.0], chain)
    (1.0, 0.0)
    >>> sortability([1.0, 1.0, 1.0], chain), sortability([1.0, 3.0, 2.0], chain)
    (0.5, 0.6666666666666666)
    """
    G = check_adjacency(graph, "graph", require_dag=True).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (G.shape[0],):
        raise ValueError(f"scores must have shape ({G.shape[0]},), got {s.shape}")
    if not rtol >= 0:
        raise ValueError(f"rtol must be >= 0, got {rtol!r}")
    diff = s[None, :] - s[:, None]  # diff[i, j] = s_j - s_i
    tied = np.abs(diff) <= rtol * np.maximum(np.abs(s)[None, :], np.abs(s)[:, None])
    credit = np.where(tied, 0.5, (diff > 0).astype(np.float64))
    reach = G.copy()  # pairs joined by a path of length exactly k
    n_paths, total = 0, 0.0
    for _ in range(G.shape[0] - 1):
        if not reach.any():
            break
        n_paths += int(reach.sum())
        total += float(credit[reach].sum())
        reach = (reach.astype(np.int64) @ G.astype(np.int64)) > 0
    return total / n_paths if n_paths else float("nan")


def _r2_scores(X: np.ndarray) -> np.ndarray:
    """R^2 of the least-squares regression (with intercept) of each column on all the others."""
    X = np.asarray(X, dtype=np.float64)
    Z = X - X.mean(axis=0)
    r2 = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        others = np.delete(Z, j, axis=1)
        coef, *_ = np.linalg.lstsq(others, Z[:, j], rcond=None)
        residual = Z[:, j] - others @ coef
        r2[j] = 1.0 - residual @ residual / (Z[:, j] @ Z[:, j])
    return r2


def _check_data(X, graph):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X must be a (n, d) array with n >= 2, got shape {X.shape}")
    if np.shape(graph) != (X.shape[1], X.shape[1]):
        raise ValueError(f"graph must have shape {(X.shape[1], X.shape[1])} to match X, got {np.shape(graph)}")
    if not np.isfinite(X).all():
        raise ValueError("X must be finite")
    return X


def varsortability(X, graph, rtol: float = _RTOL) -> float:
    """Varsortability of a data set: :func:`sortability` of the marginal variances.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Observations.
    graph : array-like of shape (d, d)
        The true DAG, ``graph[i, j] == 1`` for ``i -> j``.
    rtol : float, default=1e-9
        Relative tolerance under which two variances count as tied.

    Returns
    -------
    float
        1 when variances increase along every causal path; exactly 1/2 after z-scoring (all
        variances tied); NaN for a graph without edges.

    Examples
    --------
    In a linear chain with unit noise each variable adds its parent's variance to its own, so
    the variances increase along the chain; z-scoring removes the cue:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import varsortability
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500)
    >>> x1 = 2.0 * x0 + rng.normal(size=500)
    >>> X = np.column_stack([x0, x1, 2.0 * x1 + rng.normal(size=500)])
    >>> chain = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    >>> varsortability(X, chain), varsortability((X - X.mean(axis=0)) / X.std(axis=0), chain)
    (1.0, 0.5)
    """
    X = _check_data(X, graph)
    return sortability(X.var(axis=0), graph, rtol)


def r2_sortability(X, graph, rtol: float = _RTOL) -> float:
    """R^2-sortability of a data set: :func:`sortability` of each node's R^2.

    The score of node ``j`` is the coefficient of determination of the least-squares regression
    of ``x_j`` on all other columns (with intercept). It is invariant to rescaling the columns,
    so z-scoring does not change it.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Observations (more rows than columns for a meaningful R^2).
    graph : array-like of shape (d, d)
        The true DAG.
    rtol : float, default=1e-9
        Relative tolerance under which two R^2 values count as tied.

    Returns
    -------
    float
        In ``[0, 1]``; NaN for a graph without edges.

    Examples
    --------
    The same linear chain as in :func:`varsortability`: the middle node is best predicted from
    the others, so two of the three paths increase, and z-scoring changes nothing:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import r2_sortability
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500)
    >>> x1 = 2.0 * x0 + rng.normal(size=500)
    >>> X = np.column_stack([x0, x1, 2.0 * x1 + rng.normal(size=500)])
    >>> chain = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    >>> r2_sortability(X, chain), r2_sortability((X - X.mean(axis=0)) / X.std(axis=0), chain)
    (0.6666666666666666, 0.6666666666666666)
    """
    X = _check_data(X, graph)
    return sortability(_r2_scores(X), graph, rtol)


def dataset_descriptors(X, graphs) -> dict:
    """Varsortability and R^2-sortability of each data set of a stack.

    Parameters
    ----------
    X : array-like of shape (N, n, d)
        Data sets (observational rows).
    graphs : array-like of shape (N, d, d)
        Their true DAGs.

    Returns
    -------
    dict
        ``{"varsortability": (N,), "r2_sortability": (N,)}`` float arrays (NaN for empty graphs).

    Examples
    --------
    Data sets of the training domain ``id`` are strongly varsortable (well above 1/2):

    >>> from skcausal_meta.datasets import dataset_descriptors, make_scm_family
    >>> X, _, graphs = make_scm_family("id", n_datasets=4, n_nodes=5, n_samples=200, n_interventional=0,
    ...                                random_state=0)
    >>> descriptors = dataset_descriptors(X, graphs)
    >>> descriptors["varsortability"].round(2)
    array([1.  , 0.8 , 0.94, 0.95])
    >>> descriptors["r2_sortability"].shape
    (4,)
    """
    X, graphs = np.asarray(X), np.asarray(graphs)
    if X.ndim != 3 or graphs.ndim != 3 or X.shape[0] != graphs.shape[0]:
        raise ValueError(f"X (N, n, d) and graphs (N, d, d) must be stacks of equal length, got {X.shape} and "
                         f"{graphs.shape}")
    return {
        "varsortability": np.array([varsortability(x, g) for x, g in zip(X, graphs)]),
        "r2_sortability": np.array([r2_sortability(x, g) for x, g in zip(X, graphs)]),
    }


def family_descriptors(family, n_datasets: int = 20, n_nodes: int | None = None, n_samples: int | None = None,
                       random_state=None) -> dict:
    """Mean and standard deviation of the sortabilities over observational data sets of a family.

    Parameters
    ----------
    family : str or SCMFamily
        A registered family name or a family.
    n_datasets : int, default=20
        Number of data sets to draw.
    n_nodes, n_samples : int, optional
        Sizes (the family's defaults otherwise).
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    dict
        ``family``, ``n_datasets``, and for ``varsortability`` and ``r2_sortability`` the mean
        and standard deviation over the data sets whose graph has at least one edge
        (``*_mean``, ``*_std``), ready to be a row of a table next to the family distances.

    Examples
    --------
    >>> from skcausal_meta.datasets import family_descriptors
    >>> row = family_descriptors("id", n_datasets=5, n_nodes=5, n_samples=200, random_state=0)
    >>> row["family"], row["n_datasets"], round(row["varsortability_mean"], 2)
    ('id', 5, 0.93)
    >>> [key for key in row if key.startswith("r2")]
    ['r2_sortability_mean', 'r2_sortability_std']
    """
    fam = get_family(family)
    n_datasets = check_positive_int(n_datasets, "n_datasets")
    X, _, graphs = make_scm_family(fam, n_datasets=n_datasets, n_nodes=n_nodes, n_samples=n_samples,
                                   n_interventional=0, random_state=random_state)
    row = {"family": fam.name, "n_datasets": n_datasets}
    for name, values in dataset_descriptors(X, graphs).items():
        defined = values[~np.isnan(values)]
        row[f"{name}_mean"] = float(defined.mean()) if defined.size else float("nan")
        row[f"{name}_std"] = float(defined.std()) if defined.size else float("nan")
    return row
