"""Metrics that score only what observational data identify: skeleton, CPDAG and v-structures.

From observational data a causal DAG is identifiable only up to its Markov equivalence class, the
set of DAGs with the same skeleton and v-structures, represented by the CPDAG
(:func:`skcausal_meta.graph_utils.dag_to_cpdag`). The directed-edge metrics of
:mod:`skcausal_meta.metrics` charge a method for orienting an edge the other way even when no
observational method could tell; these metrics score the identifiable parts apart:

* the skeleton, from the pair marginals ``s_ij = p_ij + p_ji`` (:func:`skeleton_auroc`,
  :func:`skeleton_auprc`) or from the sampled graphs (:func:`e_skeleton_f1`);
* the orientation of the adjacencies a sample gets right, read from its CPDAG
  (:func:`e_orientation_accuracy`);
* the CPDAG as a whole (:func:`e_cpdag_shd`) and its v-structures
  (:func:`e_v_structure_precision`, :func:`e_v_structure_recall`).

Inputs follow :mod:`skcausal_meta.metrics`: the true graph first (a DAG here), then a
``GraphPosterior``-like object or a stack of sampled 0/1 graphs ``(S, d, d)`` with optional
``weights``; the skeleton curves also take a ``(d, d)`` edge-probability matrix. The ``e_``
metrics are posterior expectations ``sum_k w_k m(G_k)``, computed once per distinct sample.

A sampled graph with a directed cycle (an independent-edge posterior such as AVICI's can draw
one) has no equivalence class. Its "CPDAG" is then the same construction as for a DAG: the edges
of its v-structures stay directed and Meek's rules orient the rest where they apply; its
v-structures are read from the graph as drawn. Such a sample is scored, not dropped, so these
metrics stay defined for every posterior; ``GraphPosterior.is_dag`` tells how many samples are
cyclic.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score

from .graph_utils import _cpdag, _v_structure_tensor
from .metrics import _edge_marginals, _graph_samples, _shd_stack, _true_graph

__all__ = [
    "skeleton_auroc",
    "skeleton_auprc",
    "e_skeleton_f1",
    "e_orientation_accuracy",
    "e_cpdag_shd",
    "e_v_structure_precision",
    "e_v_structure_recall",
]


# --------------------------------------------------------------------------------------------
# Shared input handling
# --------------------------------------------------------------------------------------------
def _skeleton_inputs(G_true, prediction, weights):
    """True adjacency and pair scores ``p_ij + p_ji`` over the pairs ``i < j``, as flat vectors."""
    probs = _edge_marginals(prediction, weights)
    d = probs.shape[0]
    if d < 2:
        raise ValueError(f"skeleton metrics need at least 2 nodes, got a graph with {d}")
    truth = _true_graph(G_true, d)
    upper = np.triu_indices(d, k=1)
    return (truth | truth.T)[upper], (probs + probs.T)[upper]


def _distinct_samples(G_true, prediction, weights):
    """Validated ``truth (d, d) bool``, distinct samples ``(U, d, d) bool`` and pooled weights."""
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1], require_dag=True).astype(bool)
    support = w > 0
    unique, inverse = np.unique(samples[support], axis=0, return_inverse=True)
    pooled = np.bincount(inverse.ravel(), weights=w[support], minlength=unique.shape[0])
    return truth, unique.astype(bool), pooled


# --------------------------------------------------------------------------------------------
# Skeleton
# --------------------------------------------------------------------------------------------
def skeleton_auroc(G_true, prediction, weights=None) -> float:
    """Area under the ROC curve of the pair scores ``p_ij + p_ji`` against the true skeleton.

    Each unordered pair ``i < j`` is one example, positive when the true graph has an edge
    between ``i`` and ``j`` in either direction. For a posterior over DAGs the score is the
    posterior probability that ``i`` and ``j`` are adjacent; for an independent-edge posterior it
    can exceed 1, which does not matter to a ranking metric. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true skeleton is empty or complete.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
        Posterior, stack of sampled graphs, or edge probabilities.
    weights : array-like of shape (S,), default=None
        Weights of a sample stack.

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
    if truth.min() == truth.max():
        warnings.warn("skeleton_auroc is undefined when the true skeleton is empty or complete; returning nan",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(roc_auc_score(truth, scores))


def skeleton_auprc(G_true, prediction, weights=None) -> float:
    """Average precision of the pair scores ``p_ij + p_ji`` against the true skeleton.

    The pairs are scored as in :func:`skeleton_auroc`. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true skeleton is empty.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
        Posterior, stack of sampled graphs, or edge probabilities.
    weights : array-like of shape (S,), default=None
        Weights of a sample stack.

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
    if not truth.any():
        warnings.warn("skeleton_auprc is undefined when the true skeleton is empty; returning nan",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(average_precision_score(truth, scores))


def e_skeleton_f1(G_true, prediction, weights=None) -> float:
    """Expected F1 score of the sampled skeletons, ``sum_k w_k F1(skel(G_k), skel(G_true))``.

    Over unordered pairs ``i < j``, ``F1 = 2 TP / (2 TP + FP + FN)``; a reversed edge is a true
    positive. An empty sample scores 1 against an empty true skeleton (as in
    :func:`~skcausal_meta.metrics.e_edge_f1`).

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

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
    tp = (pred & true_skeleton).sum(axis=1)
    errors = (pred != true_skeleton).sum(axis=1)  # FP + FN
    denominator = 2 * tp + errors
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)
    return float(w @ f1)


# --------------------------------------------------------------------------------------------
# Orientation, CPDAG and v-structures
# --------------------------------------------------------------------------------------------
def e_orientation_accuracy(G_true, prediction, weights=None) -> float:
    """Expected fraction of correctly found adjacencies whose CPDAG mark is right.

    For each sample, take the pairs adjacent in both the true skeleton and the sample's skeleton;
    the sample is right on a pair when its CPDAG marks the pair as the true CPDAG does (``i -> j``,
    ``j -> i`` or undirected ``i - j``). Restricting to the adjacencies the sample found keeps
    skeleton errors (scored by the skeleton metrics) out of this one; orienting an edge that the
    equivalence class leaves undirected is an error, as is leaving a compelled one undirected.
    Samples that share no adjacency with the true graph have no orientation to score; the
    expectation is over the others, their weights renormalised. ``nan`` with an
    ``UndefinedMetricWarning`` when no sample shares an adjacency with it.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float
        In ``[0, 1]``; higher is better.

    Examples
    --------
    Every member of the true DAG's equivalence class scores 1; the collider does not belong to
    the chain's class and gets both (undirected) marks wrong:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_orientation_accuracy
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> fork = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]])   # 0 <- 1 -> 2, Markov equivalent
    >>> collider = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])  # 0 -> 1 <- 2
    >>> e_orientation_accuracy(chain, np.stack([fork, collider]))
    0.5
    """
    truth, unique, pooled = _distinct_samples(G_true, prediction, weights)
    true_cpdag = _cpdag(truth)
    upper = np.triu(~np.eye(truth.shape[0], dtype=bool), k=1)
    true_adjacent = (truth | truth.T) & upper
    correct, shared = np.zeros(len(unique)), np.zeros(len(unique))
    for k, graph in enumerate(unique):
        cpdag = _cpdag(graph)
        both = true_adjacent & (graph | graph.T)
        same_mark = (cpdag == true_cpdag) & (cpdag.T == true_cpdag.T)
        shared[k], correct[k] = both.sum(), (both & same_mark).sum()
    defined = shared > 0
    if not defined.any():
        warnings.warn("e_orientation_accuracy is undefined when no sample shares an adjacency with G_true; "
                      "returning nan", UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(pooled[defined] @ (correct[defined] / shared[defined]) / pooled[defined].sum())


def e_cpdag_shd(G_true, prediction, weights=None) -> float:
    """Expected structural Hamming distance between CPDAGs, ``sum_k w_k SHD(C(G_k), C(G_true))``.

    ``C(G)`` is the CPDAG of ``G`` (:func:`~skcausal_meta.graph_utils.dag_to_cpdag`). Per
    unordered pair, a mismatch counts 1: a missing or extra adjacency, or a different mark
    (``i -> j``, ``j -> i``, ``i - j``). Zero exactly for samples in the true Markov equivalence
    class, so a method is not charged for orientations that observational data cannot decide.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float
        Lower is better.

    Examples
    --------
    The reversed chain is Markov equivalent to the chain: SHD 2 between the DAGs, 0 between the
    CPDAGs.

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_cpdag_shd, e_shd
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> e_shd(chain, chain.T[None]), e_cpdag_shd(chain, chain.T[None])
    (2.0, 0.0)
    """
    truth, unique, pooled = _distinct_samples(G_true, prediction, weights)
    cpdags = np.stack([_cpdag(graph) for graph in unique])
    return float(pooled @ _shd_stack(_cpdag(truth), cpdags, reversal_cost=1))


def _v_structure_counts(G_true, prediction, weights):
    """Per distinct sample: its v-structures, the true ones among them; and the true count."""
    truth, unique, pooled = _distinct_samples(G_true, prediction, weights)
    true_v = _v_structure_tensor(truth)
    sampled_v = np.stack([_v_structure_tensor(graph) for graph in unique])
    found = sampled_v.sum(axis=(1, 2, 3))
    hits = (sampled_v & true_v).sum(axis=(1, 2, 3))
    return found, hits, int(true_v.sum()), pooled


def e_v_structure_precision(G_true, prediction, weights=None) -> float:
    """Expected precision of the sampled graphs' v-structures against the true ones.

    A v-structure is a triple ``i -> k <- j`` with ``i`` and ``j`` not adjacent
    (:func:`~skcausal_meta.graph_utils.v_structures`); the equivalence class is fixed by the
    skeleton and the v-structures. Per sample, precision is the fraction of its v-structures
    that the true graph has; a sample with none asserts nothing false and scores 1.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float
        In ``[0, 1]``; higher is better.

    Examples
    --------
    Of the three v-structures of a sample with a third parent of the collider, one is true:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_v_structure_precision
    >>> G = np.zeros((4, 4), dtype=int); G[[0, 1], 2] = 1           # 0 -> 2 <- 1
    >>> sample = np.zeros((4, 4), dtype=int); sample[[0, 1, 3], 2] = 1
    >>> e_v_structure_precision(G, sample[None])  # 0 -> 2 <- 1 true; 0 -> 2 <- 3, 1 -> 2 <- 3 not
    0.3333333333333333
    """
    found, hits, _, pooled = _v_structure_counts(G_true, prediction, weights)
    precision = np.divide(hits, found, out=np.ones(len(found)), where=found > 0)
    return float(pooled @ precision)


def e_v_structure_recall(G_true, prediction, weights=None) -> float:
    """Expected recall of the true v-structures by the sampled graphs.

    Per sample, recall is the fraction of the true graph's v-structures (see
    :func:`e_v_structure_precision`) that the sample has. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true graph has no v-structure.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float
        In ``[0, 1]``; higher is better.

    Examples
    --------
    Of two equally weighted samples, one has the true collider and one does not:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_v_structure_recall
    >>> collider = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])  # 0 -> 2 <- 1
    >>> chain = np.array([[0, 0, 1], [0, 0, 0], [0, 1, 0]])     # 0 -> 2 -> 1
    >>> e_v_structure_recall(collider, np.stack([collider, chain]))
    0.5
    """
    found, hits, n_true, pooled = _v_structure_counts(G_true, prediction, weights)
    if n_true == 0:
        warnings.warn("e_v_structure_recall is undefined when G_true has no v-structure; returning nan",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(pooled @ (hits / n_true))
