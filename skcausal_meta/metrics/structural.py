"""Structural distances between graphs: SHD and SID, and their posterior expectations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from skcausal_meta._validation import check_adjacency, is_dag

from ._docs import fill_doc
from ._inputs import _graph_samples, _true_graph

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from skcausal_meta.models.posterior import GraphPosterior

__all__ = ["shd", "e_shd", "sid", "e_sid"]


def _shd_stack(truth: np.ndarray, samples: np.ndarray, reversal_cost: int) -> np.ndarray:
    """SHD of every graph in ``samples (S, d, d)`` to ``truth (d, d)``, vectorised."""
    if reversal_cost not in (1, 2):
        raise ValueError(f"reversal_cost must be 1 or 2, got {reversal_cost!r}")
    a, b = truth.astype(bool), samples.astype(bool)
    a_t, b_t = a.T, np.swapaxes(b, 1, 2)
    # A pair {i, j} mismatches when either direction differs; a reversal is one edge each way.
    mismatch = (a != b) | (a_t != b_t)
    reversal = (a ^ a_t) & (b ^ b_t) & (a != b)
    upper = np.triu(np.ones_like(a), k=1)
    per_pair = mismatch.astype(int) + (reversal_cost - 1) * reversal
    return (per_pair * upper).sum(axis=(1, 2))


def shd(G_true: ArrayLike, G_pred: ArrayLike, reversal_cost: int = 1) -> int:
    """Structural Hamming distance between two graphs.

    Counted per unordered node pair ``{i, j}``: a pair whose edges differ (a missing edge, an
    extra edge, or a reversed edge) counts 1. With ``reversal_cost=2`` a reversal counts 2 (a
    deletion plus an insertion), the other convention in the literature.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency, ``G_true[i, j] == 1`` for ``i -> j``.
    G_pred : array-like of shape (d, d)
        Predicted 0/1 adjacency (may be cyclic).
    reversal_cost : {1, 2}, default=1
        What a reversed edge costs.

    Returns
    -------
    int
        The number of mismatched pairs (reversals weighted by ``reversal_cost``).

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import shd
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])       # 0 -> 1 -> 2
    >>> G_pred = np.array([[0, 0, 1], [1, 0, 1], [0, 0, 0]])  # 0 -> 1 reversed, 0 -> 2 extra
    >>> shd(G, G_pred), shd(G, G_pred, reversal_cost=2)
    (2, 3)
    """
    pred = check_adjacency(G_pred, name="G_pred")
    truth = _true_graph(G_true, pred.shape[0])
    return int(_shd_stack(truth, pred[None], reversal_cost)[0])


@fill_doc
def e_shd(
    G_true: ArrayLike,
    prediction: GraphPosterior | ArrayLike,
    weights: ArrayLike | None = None,
    reversal_cost: int = 1,
) -> float:
    """Expected structural Hamming distance, ``sum_k w_k SHD(G_k, G_true)``.

    Parameters
    ----------
    %(G_true)s
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None; must be None for a posterior).
    reversal_cost : {1, 2}, default=1
        What a reversed edge costs (see :func:`shd`).

    Returns
    -------
    float

    Examples
    --------
    Half the mass on the true graph and half on a graph at SHD 2:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_shd
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])
    >>> e_shd(G, samples), e_shd(G, samples, weights=[0.75, 0.25])
    (1.0, 0.5)
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1])
    return float(w @ _shd_stack(truth, samples, reversal_cost))


def sid(G_true: ArrayLike, G_pred: ArrayLike) -> int:
    """Structural intervention distance (Peters & Buehlmann, 2015), computed by ``gadjid``.

    The number of ordered pairs ``(i, j)`` whose interventional distribution
    ``p(x_j | do(x_i))`` is wrongly inferred by adjusting for the parents of ``i`` in
    ``G_pred`` when the data come from ``G_true``. Not symmetric. Both graphs must be DAGs.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG, ``G_true[i, j] == 1`` for ``i -> j``.
    G_pred : array-like of shape (d, d)
        Predicted DAG.

    Returns
    -------
    int
        The count of wrongly identified causal effects (divide by ``d * (d - 1)`` to normalise).

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import sid
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> sid(G, G), sid(G, np.zeros((3, 3), dtype=int))
    (0, 3)
    """
    pred = check_adjacency(G_pred, name="G_pred", require_dag=True)
    truth = _true_graph(G_true, pred.shape[0], require_dag=True)
    return _gadjid_sid(truth, pred)


def _gadjid_sid(truth: np.ndarray, pred: np.ndarray) -> int:
    """Call gadjid on validated int8 DAGs; our convention is row -> column."""
    import gadjid  # Rust extension; imported lazily so ``import skcausal_meta.metrics`` stays light

    _, count = gadjid.sid(truth, pred, edge_direction="from row to column")
    return int(count)


@fill_doc
def e_sid(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected structural intervention distance, ``sum_k w_k SID(G_true, G_k)``.

    Every sampled graph must be a DAG (SID is not defined for cyclic graphs). Repeated samples are
    scored once.

    Parameters
    ----------
    %(G_true_dag)s
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled DAGs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_sid
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> samples = np.stack([G, np.zeros((3, 3), dtype=int)])  # the truth, and the empty graph (SID 3)
    >>> e_sid(G, samples), e_sid(G, samples, weights=[0.75, 0.25])
    (1.5, 0.75)
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1], require_dag=True)
    support = w > 0  # a sample of weight zero (e.g. a cyclic DiBS+ particle) adds nothing
    unique, inverse = np.unique(samples[support], axis=0, return_inverse=True)
    for k, graph in enumerate(unique):
        if not is_dag(graph):
            first = int(np.flatnonzero(support)[np.flatnonzero(inverse.ravel() == k)[0]])
            raise ValueError(f"prediction sample {first} has a directed cycle and a positive weight; SID needs DAGs")
    distances = np.array([_gadjid_sid(truth, graph) for graph in unique], dtype=float)
    return float(w[support] @ distances[inverse.ravel()])


