"""Edge metrics: ranking and calibration of the edge marginals, expected edge F1, and the
log-probability of the true graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.special import xlogy

from skcausal_meta._validation import check_adjacency, check_positive_int

from ._docs import fill_doc
from ._inputs import _auprc, _auroc, _graph_samples, _is_posterior, _marginal_inputs, _off_diagonal, _true_graph

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from skcausal_meta.models.posterior import GraphPosterior

__all__ = ["edge_auroc", "edge_auprc", "e_edge_f1", "edge_ece", "log_prob_true_graph"]


@fill_doc
def edge_auroc(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Area under the ROC curve of the edge marginals against the true edges (off-diagonal).

    Equal to ``sklearn.metrics.roc_auc_score`` on the off-diagonal entries. Undefined when the
    true graph has no edge or all ``d * (d - 1)`` edges: then ``nan`` is returned with an
    ``UndefinedMetricWarning``.

    Parameters
    ----------
    %(G_true_marginal_prediction)s

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import edge_auroc
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> probs = np.array([[0, .9, .3], [.2, 0, .8], [.1, .1, 0]])
    >>> edge_auroc(G, probs)
    1.0
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])  # marginals of two graphs
    >>> edge_auroc(G, samples)
    0.875
    """
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    return _auroc(truth, probs, "edge_auroc is undefined when G_true has no edge or every edge")


@fill_doc
def edge_auprc(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Area under the precision-recall curve (average precision) of the edge marginals.

    Equal to ``sklearn.metrics.average_precision_score`` on the off-diagonal entries. Undefined
    when the true graph has no edge (recall is 0/0): ``nan`` with an ``UndefinedMetricWarning``.

    Parameters
    ----------
    %(G_true_marginal_prediction)s

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import edge_auprc
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> edge_auprc(G, np.array([[0, .9, .3], [.2, 0, .8], [.1, .1, 0]]))
    1.0
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])
    >>> edge_auprc(G, samples), edge_auprc(G, samples, weights=[0.9, 0.1])
    (0.75, 1.0)
    """
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    return _auprc(truth, probs, "edge_auprc is undefined when G_true has no edge")


@fill_doc
def e_edge_f1(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Expected edge F1 score, ``sum_k w_k F1(G_k, G_true)`` over off-diagonal directed edges.

    ``F1 = 2 TP / (2 TP + FP + FN)``; a sample with no edge scores 1 against a true graph with no
    edge (it is exactly right) rather than the 0/0 of the formula.

    Parameters
    ----------
    %(G_true_sample_prediction)s

    Returns
    -------
    float

    Examples
    --------
    The true graph (F1 = 1) and a graph with one of its two edges and two wrong ones
    (F1 = 2 / (2 + 3) = 0.4):

    >>> import numpy as np
    >>> from skcausal_meta.metrics import e_edge_f1
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])
    >>> e_edge_f1(G, samples), round(e_edge_f1(G, samples, weights=[0.25, 0.75]), 2)
    (0.7, 0.55)
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _off_diagonal(_true_graph(G_true, samples.shape[1])).astype(bool)
    pred = _off_diagonal(samples).astype(bool)
    return float(w @ _f1_scores(pred, truth))


def _f1_scores(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """F1 of each row of ``pred (S, m) bool`` against ``truth (m,) bool``; 1 where both are empty
    (exactly right) rather than the 0/0 of ``2 TP / (2 TP + FP + FN)``."""
    tp = (pred & truth).sum(axis=1)
    errors = (pred != truth).sum(axis=1)  # FP + FN
    denominator = 2 * tp + errors
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)


@fill_doc
def edge_ece(
    G_true: ArrayLike, prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None, n_bins: int = 10
) -> float:
    """Expected calibration error of the edge marginals, with equal-width bins on [0, 1].

    ``ECE = sum_b (n_b / n) |mean(G_true in b) - mean(p in b)|`` over the off-diagonal entries;
    bin ``b`` holds ``b / n_bins <= p < (b + 1) / n_bins`` (the last bin includes 1).

    Parameters
    ----------
    %(G_true_marginal_prediction)s
    n_bins : int, default=10
        Number of equal-width bins.

    Returns
    -------
    float
        In ``[0, 1]``; lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import edge_ece
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> probs = np.array([[0, .9, .3], [.2, 0, .8], [.1, .1, 0]])
    >>> round(edge_ece(G, probs), 3), round(edge_ece(G, probs, n_bins=2), 3)
    (0.167, 0.167)
    >>> edge_ece(G, G)  # a point mass on the truth is perfectly calibrated
    0.0
    """
    n_bins = check_positive_int(n_bins, "n_bins")
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    # bin b holds b/n <= p < (b+1)/n (the last also p = 1), with the edges as floats compare them
    bins = np.minimum(np.searchsorted(np.arange(n_bins + 1) / n_bins, probs, side="right") - 1, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=truth - probs, minlength=n_bins)  # n_b * (acc_b - conf_b)
    return float(np.abs(gap).sum() / counts.sum())


@fill_doc
def log_prob_true_graph(
    G_true: ArrayLike,
    prediction: GraphPosterior | ArrayLike,
    weights: ArrayLike | None = None,
    return_source: bool = False,
) -> float | tuple[float, Literal["exact", "marginals"]]:
    """Log-probability the prediction assigns to the true graph.

    Exact when ``prediction`` has a ``log_prob(G)`` method (a ``GraphPosterior`` whose model
    defines one); otherwise (no such method, or it raises ``NotImplementedError``, or the
    prediction is an array) the product of independent Bernoulli edge marginals,
    ``sum_{i != j} G_ij log p_ij + (1 - G_ij) log(1 - p_ij)``, which ignores edge correlations
    and acyclicity. Pass ``return_source=True`` to learn which one was used.

    Parameters
    ----------
    %(G_true_marginal_prediction)s
    return_source : bool, default=False
        Also return ``"exact"`` or ``"marginals"``.

    Returns
    -------
    log_prob : float
        May be ``-inf`` when a marginal is exactly 0 or 1 and the true graph disagrees.
    source : {"exact", "marginals"}
        Only when ``return_source`` is True.

    Examples
    --------
    From edge marginals the value is the independent-edge approximation; a posterior's own
    ``log_prob`` is used where it has one. Two equally weighted graphs give every edge where
    they disagree probability 1/2, so the marginals put ``3 log(1/2)`` on the true graph, while the
    posterior gives it its weight, 1/2:

    >>> import numpy as np
    >>> from skcausal_meta import GraphPosterior
    >>> from skcausal_meta.metrics import log_prob_true_graph
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> probs = np.array([[0, .9, .3], [.2, 0, .8], [.1, .1, 0]])
    >>> round(log_prob_true_graph(G, probs), 3)
    -1.119
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])
    >>> value, source = log_prob_true_graph(G, samples, return_source=True)
    >>> round(value, 3), source
    (-2.079, 'marginals')
    >>> exact = lambda graph: np.log(0.5) if any((graph == s).all() for s in samples) else -np.inf
    >>> value, source = log_prob_true_graph(G, GraphPosterior(samples, log_prob=exact), return_source=True)
    >>> round(value, 3), source
    (-0.693, 'exact')
    """
    value, source = None, "exact"
    if callable(getattr(prediction, "log_prob", None)):
        if weights is not None:
            raise ValueError("weights must be None when prediction is a posterior")
        d = np.shape(prediction.samples)[-1] if _is_posterior(prediction) else None
        truth = check_adjacency(G_true, name="G_true") if d is None else _true_graph(G_true, d)
        try:
            value = float(prediction.log_prob(truth))
        except NotImplementedError:
            value = None
    if value is None:
        source = "marginals"
        truth, probs = _marginal_inputs(G_true, prediction, weights)
        with np.errstate(divide="ignore"):
            value = float((xlogy(truth, probs) + xlogy(1 - truth, 1 - probs)).sum())
    return (value, source) if return_source else value


