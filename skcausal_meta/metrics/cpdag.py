"""Metrics of the Markov equivalence class: CPDAG orientation, CPDAG SHD and v-structures.

From observational data a causal DAG is identifiable only up to its Markov equivalence class, the
set of DAGs with the same skeleton and v-structures, represented by the CPDAG
(:func:`skcausal_meta.graph_utils.dag_to_cpdag`). The directed-edge metrics charge a method for
orienting an edge the other way even when no observational method could tell; these score the
identifiable parts: the orientation of the adjacencies a sample gets right, read from its CPDAG
(:func:`e_orientation_accuracy`), the CPDAG as a whole (:func:`e_cpdag_shd`) and its
v-structures (:func:`e_v_structure_precision`, :func:`e_v_structure_recall`). They are posterior
expectations ``sum_k w_k m(G_k)``, computed once per distinct sample.

A sampled graph with a directed cycle (an independent-edge posterior such as AVICI's can draw
one) has no equivalence class. Its "CPDAG" is then the same construction as for a DAG: the edges
of its v-structures stay directed and Meek's rules orient the rest where they apply; its
v-structures are read from the graph as drawn. Such a sample is scored, not dropped, so these
metrics stay defined for every posterior; ``GraphPosterior.is_dag`` tells how many samples are
cyclic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from skcausal_meta.graph_utils import _cpdag, _v_structure_tensor

from ._docs import fill_doc
from ._inputs import _graph_samples, _true_graph, _undefined
from .structural import _shd_stack

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from skcausal_meta.models.posterior import GraphPosterior

__all__ = [
    "e_orientation_accuracy",
    "e_cpdag_shd",
    "e_v_structure_precision",
    "e_v_structure_recall",
]


def _distinct_samples(G_true, prediction, weights):
    """Validated ``truth (d, d) bool``, distinct samples ``(U, d, d) bool`` and pooled weights."""
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1], require_dag=True).astype(bool)
    support = w > 0
    unique, inverse = np.unique(samples[support], axis=0, return_inverse=True)
    pooled = np.bincount(inverse.ravel(), weights=w[support], minlength=unique.shape[0])
    return truth, unique.astype(bool), pooled


@fill_doc
def e_orientation_accuracy(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
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
    %(G_true_dag_sample_prediction)s

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
        return _undefined("e_orientation_accuracy is undefined when no sample shares an adjacency with G_true")
    return float(pooled[defined] @ (correct[defined] / shared[defined]) / pooled[defined].sum())


@fill_doc
def e_cpdag_shd(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected structural Hamming distance between CPDAGs, ``sum_k w_k SHD(C(G_k), C(G_true))``.

    ``C(G)`` is the CPDAG of ``G`` (:func:`~skcausal_meta.graph_utils.dag_to_cpdag`). Per
    unordered pair, a mismatch counts 1: a missing or extra adjacency, or a different mark
    (``i -> j``, ``j -> i``, ``i - j``). Zero exactly for samples in the true Markov equivalence
    class, so a method is not charged for orientations that observational data cannot decide.

    Parameters
    ----------
    %(G_true_dag_sample_prediction)s

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


@fill_doc
def e_v_structure_precision(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected precision of the sampled graphs' v-structures against the true ones.

    A v-structure is a triple ``i -> k <- j`` with ``i`` and ``j`` not adjacent
    (:func:`~skcausal_meta.graph_utils.v_structures`); the equivalence class is fixed by the
    skeleton and the v-structures. Per sample, precision is the fraction of its v-structures
    that the true graph has; a sample with none asserts nothing false and scores 1.

    Parameters
    ----------
    %(G_true_dag_sample_prediction)s

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


@fill_doc
def e_v_structure_recall(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected recall of the true v-structures by the sampled graphs.

    Per sample, recall is the fraction of the true graph's v-structures (see
    :func:`e_v_structure_precision`) that the sample has. Undefined (``nan`` with an
    ``UndefinedMetricWarning``) when the true graph has no v-structure.

    Parameters
    ----------
    %(G_true_dag_sample_prediction)s

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
        return _undefined("e_v_structure_recall is undefined when G_true has no v-structure")
    return float(pooled @ (hits / n_true))
