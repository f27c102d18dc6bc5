"""Graph and likelihood metrics for posteriors over causal graphs, and scikit-learn scorers.

Every graph metric follows scikit-learn's argument order: the true graph comes first, then the
prediction. A prediction is one of

* a ``GraphPosterior``-like object (duck-typed: ``.samples`` ``(S, d, d)``, normalised
  ``.log_weights`` ``(S,)`` and ``.edge_probs`` ``(d, d)``; ``.log_prob(G)`` is used where it
  exists),
* a stack of sampled 0/1 graphs ``(S, d, d)`` (or one graph ``(d, d)``) with optional
  ``weights`` ``(S,)``, uniform when omitted,
* for the metrics that only need edge marginals (``edge_auroc``, ``edge_auprc``, ``edge_ece``,
  ``edge_entropy``, ``log_prob_true_graph``), a matrix of edge probabilities ``(d, d)``.

Conventions (DESIGN sections 2 and 6): ``A[i, j] == 1`` means the edge ``i -> j``; sampled
graphs must have zero diagonals, and of edge-probability matrices only the off-diagonal entries
are scored; entropies are in nats. Weights must be finite, non-negative and
sum to one within ``1e-4`` (a sum further from one usually means unnormalised or log weights were
passed, so it is an error rather than silently rescaled); inside that tolerance they are divided
by their sum so every metric sees exactly normalised weights.

Edge cases: ``edge_auroc`` is undefined when the true graph has no edge or every off-diagonal
edge, and ``edge_auprc`` when it has no edge; both then return ``nan`` with an
``UndefinedMetricWarning`` (rather than raising) so that one degenerate dataset does not abort a
benchmark; aggregate with ``numpy.nanmean``.

The metrics live in modules by what they measure: :mod:`.structural` (SHD, SID), :mod:`.edges`
(edge marginals and edge F1, the true graph's log-probability), :mod:`.skeleton` and
:mod:`.cpdag` (what observational data identify), :mod:`.entropy`, :mod:`.likelihood` (NIL,
I-NIL) and :mod:`.scorers` (``GRAPH_METRICS``, :func:`make_graph_scorer`); all are imported here.

Examples
--------
A posterior that puts 3/4 of its mass on the chain ``0 -> 1 -> 2`` and 1/4 on the reversed
chain, which is Markov equivalent to it: the directed metrics count the reversal, the
CPDAG-aware ones do not.

>>> import numpy as np
>>> from skcausal_meta import GraphPosterior, metrics
>>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
>>> posterior = GraphPosterior(np.stack([G, G.T]), log_weights=np.log([0.75, 0.25]))
>>> metrics.e_shd(G, posterior), metrics.e_edge_f1(G, posterior), metrics.edge_auroc(G, posterior)
(0.5, 0.75, 1.0)
>>> metrics.e_cpdag_shd(G, posterior), metrics.e_skeleton_f1(G, posterior)
(0.0, 1.0)
"""

from .cpdag import e_cpdag_shd, e_orientation_accuracy, e_v_structure_precision, e_v_structure_recall
from .edges import e_edge_f1, edge_auprc, edge_auroc, edge_ece, log_prob_true_graph
from .entropy import edge_entropy, graph_entropy
from .likelihood import i_nil, nil
from .scorers import GRAPH_METRICS, make_graph_scorer
from .skeleton import e_skeleton_f1, skeleton_auprc, skeleton_auroc
from .structural import e_sid, e_shd, shd, sid

__all__ = [
    "shd",
    "e_shd",
    "sid",
    "e_sid",
    "edge_auroc",
    "edge_auprc",
    "e_edge_f1",
    "edge_ece",
    "edge_entropy",
    "graph_entropy",
    "log_prob_true_graph",
    "nil",
    "i_nil",
    "GRAPH_METRICS",
    "make_graph_scorer",
    "skeleton_auroc",
    "skeleton_auprc",
    "e_skeleton_f1",
    "e_orientation_accuracy",
    "e_cpdag_shd",
    "e_v_structure_precision",
    "e_v_structure_recall",
]
