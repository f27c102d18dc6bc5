"""Skeleton metrics: whether a prediction finds the adjacencies, whatever their direction.

The skeleton is identifiable from observational data, the directions only up to the Markov
equivalence class (:mod:`skcausal_meta.metrics.cpdag`). The curves rank the pair marginals
``s_ij = p_ij + p_ji`` (:func:`skeleton_auroc`, :func:`skeleton_auprc`); :func:`e_skeleton_f1`
scores the sampled graphs' skeletons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._docs import fill_doc
from ._inputs import _auprc, _auroc, _edge_marginals, _graph_samples, _true_graph
from .edges import _f1_scores

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from skcausal_meta.models.posterior import GraphPosterior

__all__ = ["skeleton_auroc", "skeleton_auprc", "e_skeleton_f1"]


def _skeleton_inputs(G_true, prediction, weights):
    """True adjacency and pair scores ``p_ij + p_ji`` over the pairs ``i < j``, as flat vectors."""
    probs = _edge_marginals(prediction, weights)
    d = probs.shape[0]
    if d < 2:
        raise ValueError(f"skeleton metrics need at least 2 nodes, got a graph with {d}")
    truth = _true_graph(G_true, d)
    upper = np.triu_indices(d, k=1)
    return (truth | truth.T)[upper], (probs + probs.T)[upper]


@fill_doc
def skeleton_auroc(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Area under the ROC curve of the pair scores ``p_ij + p_ji`` against the true skeleton.

    Each unordered pair ``i < j`` is one example, positive when the true graph has an edge
    between ``i`` and ``j`` in either direction. For a posterior over DAGs the score is the
    posterior probability that ``i`` and ``j`` are adjacent; for an independent-edge posterior it
    can exceed 1, which does not matter to a ranking metric. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true skeleton is empty or complete.

    Parameters
    ----------
    %(G_true_marginal_prediction)s

    Returns
    -------
    float

    Examples
    --------
    Edge marginals that are sure of each adjacency but split on its direction, as a posterior
    over a Markov equivalence class is, rank the skeleton perfectly while the directed-edge
    AUROC cannot reach 1:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import edge_auroc, skeleton_auroc
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> probs = np.array([[0, .5, 0], [.5, 0, .5], [0, .5, 0]])
    >>> skeleton_auroc(G, probs), edge_auroc(G, probs)
    (1.0, 0.75)
    """
    truth, scores = _skeleton_inputs(G_true, prediction, weights)
    return _auroc(truth, scores, "skeleton_auroc is undefined when the true skeleton is empty or complete")


@fill_doc
def skeleton_auprc(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Average precision of the pair scores ``p_ij + p_ji`` against the true skeleton.

    The pairs are scored as in :func:`skeleton_auroc`. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true skeleton is empty.

    Parameters
    ----------
    %(G_true_marginal_prediction)s

    Returns
    -------
    float

    Examples
    --------
    Three sampled graphs have the true adjacencies ``0 - 1`` and ``1 - 2`` three and two times
    (in either direction) and the false one ``0 - 2`` once, which ranks the true pairs first:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import skeleton_auprc
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> samples = np.array([[[0, 1, 0], [0, 0, 0], [0, 1, 0]],   # 0 -> 1 <- 2
    ...                     [[0, 1, 0], [0, 0, 1], [0, 0, 0]],   # 0 -> 1 -> 2
    ...                     [[0, 0, 1], [1, 0, 0], [0, 0, 0]]])  # 1 -> 0 -> 2
    >>> skeleton_auprc(G, samples)
    1.0
    """
    truth, scores = _skeleton_inputs(G_true, prediction, weights)
    return _auprc(truth, scores, "skeleton_auprc is undefined when the true skeleton is empty")


@fill_doc
def e_skeleton_f1(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected F1 score of the sampled skeletons, ``sum_k w_k F1(skel(G_k), skel(G_true))``.

    Over unordered pairs ``i < j``, ``F1 = 2 TP / (2 TP + FP + FN)``; a reversed edge is a true
    positive. An empty sample scores 1 against an empty true skeleton (as in
    :func:`~skcausal_meta.metrics.e_edge_f1`).

    Parameters
    ----------
    %(G_true_sample_prediction)s

    Returns
    -------
    float

    Examples
    --------
    A reversed edge costs nothing here, while the directed F1 counts it as a miss and a false
    edge:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_edge_f1, e_skeleton_f1
    >>> G = np.array([[0, 1], [0, 0]])
    >>> e_skeleton_f1(G, G.T[None]), e_edge_f1(G, G.T[None])
    (1.0, 0.0)
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1]).astype(bool)
    upper = np.triu_indices(samples.shape[1], k=1)
    true_skeleton = (truth | truth.T)[upper]
    sampled = samples.astype(bool)
    pred = (sampled | np.swapaxes(sampled, 1, 2))[:, upper[0], upper[1]]
    return float(w @ _f1_scores(pred, true_skeleton))


