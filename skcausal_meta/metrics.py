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
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import logsumexp, xlogy
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array

from skcausal_meta._validation import (
    check_adjacency,
    check_adjacency_stack,
    check_interventions,
    check_positive_int,
    is_dag,
)

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
    "make_graph_scorer",
    # skeleton, CPDAG and v-structure metrics, defined in skcausal_meta.cpdag_metrics
    "skeleton_auroc",
    "skeleton_auprc",
    "e_skeleton_f1",
    "e_orientation_accuracy",
    "e_cpdag_shd",
    "e_v_structure_precision",
    "e_v_structure_recall",
]

_WEIGHT_SUM_TOL = 1e-4


# --------------------------------------------------------------------------------------------
# Shared input handling
# --------------------------------------------------------------------------------------------
def _is_posterior(prediction) -> bool:
    """True when ``prediction`` duck-types as a ``GraphPosterior`` (has samples and log weights)."""
    return hasattr(prediction, "samples") and hasattr(prediction, "log_weights")


def _check_weights(weights, n_samples: int, name: str = "weights") -> np.ndarray:
    """Validate weights ``(S,)``: finite, non-negative, summing to one; ``None`` gives uniform."""
    if weights is None:
        return np.full(n_samples, 1.0 / n_samples)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape ({n_samples},) to match the samples, got {w.shape}"
        )
    if not np.isfinite(w).all():
        raise ValueError(f"{name} must be finite, got {w[~np.isfinite(w)][:3]}")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative, got minimum {w.min()!r}")
    total = w.sum()
    if abs(total - 1.0) > _WEIGHT_SUM_TOL:
        raise ValueError(
            f"{name} must sum to 1 (normalised probabilities, not log weights), got sum {total!r}"
        )
    return w / total


def _graph_samples(prediction, weights=None, name: str = "prediction"):
    """Turn any prediction into ``(samples (S, d, d) int8, weights (S,))``.

    A posterior-like object supplies ``samples`` and ``exp(log_weights)``; passing ``weights``
    alongside it is ambiguous and rejected. An array is a stack of 0/1 graphs (a single
    ``(d, d)`` graph is a point mass).
    """
    if _is_posterior(prediction):
        if weights is not None:
            raise ValueError(
                f"weights must be None when {name} is a posterior (it carries its own log_weights)"
            )
        samples = check_adjacency_stack(prediction.samples, name=f"{name}.samples")
        log_w = np.asarray(prediction.log_weights, dtype=float)
        if np.isnan(log_w).any():
            raise ValueError(f"{name}.log_weights contains NaN")
        return samples, _check_weights(np.exp(log_w), samples.shape[0], f"exp({name}.log_weights)")
    arr = np.asarray(prediction)
    if arr.ndim in (2, 3) and not np.isin(arr, (0, 1)).all():
        raise ValueError(
            f"{name} must hold sampled 0/1 graphs (S, d, d) or (d, d); edge probabilities are "
            "accepted only as a (d, d) matrix, by the marginal metrics (edge_auroc, edge_auprc, "
            "edge_ece, edge_entropy, log_prob_true_graph)"
        )
    samples = check_adjacency_stack(arr, name=name)
    return samples, _check_weights(weights, samples.shape[0])


def _edge_marginals(prediction, weights=None, name: str = "prediction") -> np.ndarray:
    """Turn any prediction into edge marginals ``(d, d)`` in ``[0, 1]``.

    A posterior-like object gives its ``edge_probs``; a stack ``(S, d, d)`` of 0/1 graphs gives
    ``sum_k w_k G_k``; a ``(d, d)`` matrix is taken as edge probabilities.
    """
    if _is_posterior(prediction):
        if weights is not None:
            raise ValueError(
                f"weights must be None when {name} is a posterior (it carries its own log_weights)"
            )
        probs, label = np.asarray(prediction.edge_probs, dtype=float), f"{name}.edge_probs"
    else:
        arr = np.asarray(prediction)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a numeric (d, d) edge-probability matrix or (S, d, d) stack of graphs "
                             f"(or a posterior), got an array of dtype {arr.dtype}")
        if arr.ndim == 3:
            samples, w = _graph_samples(arr, weights, name)
            return np.tensordot(w, samples.astype(float), axes=1)
        if weights is not None:
            raise ValueError(
                f"weights must be None when {name} is a (d, d) edge-probability matrix"
            )
        probs, label = arr.astype(float), name
    if probs.ndim != 2 or probs.shape[0] != probs.shape[1]:
        raise ValueError(f"{label} must be a square (d, d) matrix, got shape {probs.shape}")
    off = _off_diagonal(probs)
    if np.isnan(off).any() or (off < 0).any() or (off > 1).any():
        raise ValueError(
            f"{label} must hold probabilities in [0, 1] off the diagonal, got {off[:5]}"
        )
    return probs


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    """The off-diagonal entries of a ``(..., d, d)`` array, flattened over the last two axes."""
    d = matrix.shape[-1]
    return matrix[..., ~np.eye(d, dtype=bool)]


def _true_graph(G_true, d: int, require_dag: bool = False) -> np.ndarray:
    """Validate the true graph and check it has the prediction's ``d`` nodes."""
    g = check_adjacency(G_true, name="G_true", require_dag=require_dag)
    if g.shape[0] != d:
        raise ValueError(f"G_true has {g.shape[0]} nodes but the prediction has {d}")
    return g


def _marginal_inputs(G_true, prediction, weights):
    """Off-diagonal true labels and predicted edge probabilities, as flat vectors."""
    probs = _edge_marginals(prediction, weights)
    if probs.shape[0] < 2:
        raise ValueError(f"edge metrics need at least 2 nodes, got a graph with {probs.shape[0]}")
    truth = _true_graph(G_true, probs.shape[0])
    return _off_diagonal(truth), _off_diagonal(probs)


# --------------------------------------------------------------------------------------------
# Structural distances
# --------------------------------------------------------------------------------------------
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


def shd(G_true, G_pred, reversal_cost: int = 1) -> int:
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
    """
    pred = check_adjacency(G_pred, name="G_pred")
    truth = _true_graph(G_true, pred.shape[0])
    return int(_shd_stack(truth, pred[None], reversal_cost)[0])


def e_shd(G_true, prediction, weights=None, reversal_cost: int = 1) -> float:
    """Expected structural Hamming distance, ``sum_k w_k SHD(G_k, G_true)``.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None; must be None for a posterior).
    reversal_cost : {1, 2}, default=1
        What a reversed edge costs (see :func:`shd`).

    Returns
    -------
    float
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _true_graph(G_true, samples.shape[1])
    return float(w @ _shd_stack(truth, samples, reversal_cost))


def sid(G_true, G_pred) -> int:
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
    """
    pred = check_adjacency(G_pred, name="G_pred", require_dag=True)
    truth = _true_graph(G_true, pred.shape[0], require_dag=True)
    return _gadjid_sid(truth, pred)


def _gadjid_sid(truth: np.ndarray, pred: np.ndarray) -> int:
    """Call gadjid on validated int8 DAGs; our convention is row -> column."""
    import gadjid  # Rust extension; imported lazily so ``import skcausal_meta.metrics`` stays light

    _, count = gadjid.sid(truth, pred, edge_direction="from row to column")
    return int(count)


def e_sid(G_true, prediction, weights=None) -> float:
    """Expected structural intervention distance, ``sum_k w_k SID(G_true, G_k)``.

    Every sampled graph must be a DAG (SID is not defined for cyclic graphs). Repeated samples are
    scored once.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True DAG.
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled DAGs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).

    Returns
    -------
    float
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


# --------------------------------------------------------------------------------------------
# Edge-marginal and sample-based edge metrics
# --------------------------------------------------------------------------------------------
def edge_auroc(G_true, prediction, weights=None) -> float:
    """Area under the ROC curve of the edge marginals against the true edges (off-diagonal).

    Equal to ``sklearn.metrics.roc_auc_score`` on the off-diagonal entries. Undefined when the
    true graph has no edge or all ``d * (d - 1)`` edges: then ``nan`` is returned with an
    ``UndefinedMetricWarning``.

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
    """
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    if truth.min() == truth.max():
        warnings.warn(
            "edge_auroc is undefined when G_true has no edge or every edge; returning nan",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(roc_auc_score(truth, probs))


def edge_auprc(G_true, prediction, weights=None) -> float:
    """Area under the precision-recall curve (average precision) of the edge marginals.

    Equal to ``sklearn.metrics.average_precision_score`` on the off-diagonal entries. Undefined
    when the true graph has no edge (recall is 0/0): ``nan`` with an ``UndefinedMetricWarning``.

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
    """
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    if not truth.any():
        warnings.warn(
            "edge_auprc is undefined when G_true has no edge; returning nan",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(average_precision_score(truth, probs))


def e_edge_f1(G_true, prediction, weights=None) -> float:
    """Expected edge F1 score, ``sum_k w_k F1(G_k, G_true)`` over off-diagonal directed edges.

    ``F1 = 2 TP / (2 TP + FP + FN)``; a sample with no edge scores 1 against a true graph with no
    edge (it is exactly right) rather than the 0/0 of the formula.

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
    """
    samples, w = _graph_samples(prediction, weights)
    truth = _off_diagonal(_true_graph(G_true, samples.shape[1])).astype(bool)
    pred = _off_diagonal(samples).astype(bool)
    tp = (pred & truth).sum(axis=1)
    errors = (pred != truth).sum(axis=1)  # FP + FN
    denominator = 2 * tp + errors
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)
    return float(w @ f1)


def edge_ece(G_true, prediction, weights=None, n_bins: int = 10) -> float:
    """Expected calibration error of the edge marginals, with equal-width bins on [0, 1].

    ``ECE = sum_b (n_b / n) |mean(G_true in b) - mean(p in b)|`` over the off-diagonal entries;
    bin ``b`` holds ``b / n_bins <= p < (b + 1) / n_bins`` (the last bin includes 1).

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
        Posterior, stack of sampled graphs, or edge probabilities.
    weights : array-like of shape (S,), default=None
        Weights of a sample stack.
    n_bins : int, default=10
        Number of equal-width bins.

    Returns
    -------
    float
        In ``[0, 1]``; lower is better.
    """
    n_bins = check_positive_int(n_bins, "n_bins")
    truth, probs = _marginal_inputs(G_true, prediction, weights)
    # bin b holds b/n <= p < (b+1)/n (the last also p = 1), with the edges as floats compare them
    bins = np.minimum(np.searchsorted(np.arange(n_bins + 1) / n_bins, probs, side="right") - 1, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=truth - probs, minlength=n_bins)  # n_b * (acc_b - conf_b)
    return float(np.abs(gap).sum() / counts.sum())


# --------------------------------------------------------------------------------------------
# Uncertainty summaries
# --------------------------------------------------------------------------------------------
def graph_entropy(prediction, weights=None, return_source: bool = False):
    """Entropy (nats) of the posterior over graphs: exact for independent edges, else plug-in.

    * ``"independent_edges"`` (exact): when ``prediction`` is a posterior whose ``log_prob`` is
      the product of independent Bernoulli edges with its ``edge_probs`` (AVICI's posterior; it
      is recognised by comparing ``log_prob`` with that product on the first samples), the
      entropy has the closed form ``sum_{i != j} h(p_ij)``, the sum of the edges' binary
      entropies (``d (d - 1)`` times :func:`edge_entropy`).
    * ``"plugin"``: otherwise, the entropy of the (weighted) empirical distribution of the
      samples. The weights of identical samples are pooled, ``p_u = sum_{k: G_k = G_u} w_k``, and
      ``H = -sum_u p_u log p_u``. It cannot exceed ``log S`` for ``S`` samples: for a posterior
      that spreads over more graphs than it has samples every sample is distinct and the value
      is exactly ``log S`` (4.61 for 100 samples) whatever the true spread, so it is then a
      lower bound (the estimator's cap), not a measurement. Weighted particle posteriors (DiBS)
      are their weighted samples, for which the value is exact.

    Parameters
    ----------
    prediction : GraphPosterior-like or array-like of shape (S, d, d)
        Posterior or stack of sampled 0/1 graphs.
    weights : array-like of shape (S,), default=None
        Sample weights summing to one (uniform when None).
    return_source : bool, default=False
        Also return which estimate was used: ``"independent_edges"``, ``"plugin"`` or
        ``"plugin_cap"`` (the plug-in estimate equals its cap ``log S`` with uniform weights and
        all samples distinct).

    Returns
    -------
    entropy : float
    source : {"independent_edges", "plugin", "plugin_cap"}
        Only when ``return_source`` is True.

    Examples
    --------
    Twenty independent edges with probability 1/2 have ``2^20`` equally likely graphs, so the
    entropy is ``20 log 2 = 13.86``; 100 samples of them are all distinct, and their plug-in
    entropy stops at ``log 100 = 4.61``:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import graph_entropy
    >>> from skcausal_meta.models.posterior import GraphPosterior
    >>> probs = np.full((5, 5), 0.5) - 0.5 * np.eye(5)
    >>> samples = (np.random.default_rng(0).random((100, 5, 5)) < probs).astype(np.int8)
    >>> bernoulli = lambda G: float(np.sum(np.log(np.where(G, probs, 1 - probs))[~np.eye(5, dtype=bool)]))
    >>> exact = GraphPosterior(samples, edge_probs=probs, log_prob=bernoulli)
    >>> [round(v, 2) if isinstance(v, float) else v for v in graph_entropy(exact, return_source=True)]
    [13.86, 'independent_edges']
    >>> [round(v, 2) if isinstance(v, float) else v for v in graph_entropy(samples, return_source=True)]
    [4.61, 'plugin_cap']
    """
    samples, w = _graph_samples(prediction, weights)
    if _has_independent_edges(prediction, samples):
        p = _off_diagonal(np.asarray(prediction.edge_probs, dtype=float))
        value, source = float((-xlogy(p, p) - xlogy(1 - p, 1 - p)).sum()), "independent_edges"
    else:
        _, inverse = np.unique(samples.reshape(samples.shape[0], -1), axis=0, return_inverse=True)
        pooled = np.bincount(inverse.ravel(), weights=w)
        value = float(-xlogy(pooled, pooled).sum())
        capped = pooled.size == samples.shape[0] > 1 and np.allclose(w, w[0])
        source = "plugin_cap" if capped else "plugin"
    return (value, source) if return_source else value


def _has_independent_edges(prediction, samples, n_checked: int = 3) -> bool:
    """Whether a posterior's ``log_prob`` is the independent-Bernoulli product of its marginals,
    checked on its first ``n_checked`` samples (a posterior with another ``log_prob``, such as a
    mixture over orders, differs from the product on almost every graph)."""
    if not (_is_posterior(prediction) and callable(getattr(prediction, "log_prob", None))):
        return False
    probs = _off_diagonal(np.asarray(prediction.edge_probs, dtype=float))
    for graph in samples[:n_checked]:
        edges = _off_diagonal(graph)
        with np.errstate(divide="ignore"):
            product = float((xlogy(edges, probs) + xlogy(1 - edges, 1 - probs)).sum())
        try:
            value = float(prediction.log_prob(graph))
        except NotImplementedError:
            return False
        if not np.isclose(value, product, rtol=1e-6, atol=1e-6):
            return False
    return True


def edge_entropy(prediction, weights=None) -> float:
    """Mean binary entropy (nats) of the off-diagonal edge marginals.

    ``mean_{i != j} -[p_ij log p_ij + (1 - p_ij) log(1 - p_ij)]``; 0 for a point mass, ``log 2``
    when every edge has probability 1/2.

    Parameters
    ----------
    prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
        Posterior, stack of sampled graphs, or edge probabilities.
    weights : array-like of shape (S,), default=None
        Weights of a sample stack.

    Returns
    -------
    float
    """
    probs = _edge_marginals(prediction, weights)
    if probs.shape[0] < 2:
        raise ValueError(f"edge_entropy needs at least 2 nodes, got a graph with {probs.shape[0]}")
    p = _off_diagonal(probs)
    return float(np.mean(-xlogy(p, p) - xlogy(1 - p, 1 - p)))


def log_prob_true_graph(G_true, prediction, weights=None, return_source: bool = False):
    """Log-probability the prediction assigns to the true graph.

    Exact when ``prediction`` has a ``log_prob(G)`` method (a ``GraphPosterior`` whose model
    defines one); otherwise (no such method, or it raises ``NotImplementedError``, or the
    prediction is an array) the product of independent Bernoulli edge marginals,
    ``sum_{i != j} G_ij log p_ij + (1 - G_ij) log(1 - p_ij)``, which ignores edge correlations
    and acyclicity. Pass ``return_source=True`` to learn which one was used.

    Parameters
    ----------
    G_true : array-like of shape (d, d)
        True 0/1 adjacency.
    prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
        Posterior, stack of sampled graphs, or edge probabilities.
    weights : array-like of shape (S,), default=None
        Weights of a sample stack.
    return_source : bool, default=False
        Also return ``"exact"`` or ``"marginals"``.

    Returns
    -------
    log_prob : float
        May be ``-inf`` when a marginal is exactly 0 or 1 and the true graph disagrees.
    source : {"exact", "marginals"}
        Only when ``return_source`` is True.
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


# --------------------------------------------------------------------------------------------
# Held-out likelihood
# --------------------------------------------------------------------------------------------
def _per_row_nll(log_likelihood, args, n_rows: int, weights) -> np.ndarray:
    """``-log sum_k w_k p(x_n | G_k)`` per row from a ``(K, N)`` array or a callable."""
    ll = log_likelihood(*args) if callable(log_likelihood) else log_likelihood
    ll = np.asarray(ll, dtype=float)
    if ll.ndim != 2 or ll.shape[1] != n_rows:
        raise ValueError(
            f"log_likelihood must have shape (K, N) with N = {n_rows} rows, got {ll.shape}"
        )
    if np.isnan(ll).any() or (ll == np.inf).any():
        raise ValueError("log_likelihood contains NaN or +inf")
    w = _check_weights(weights, ll.shape[0])
    with np.errstate(divide="ignore"):
        return -logsumexp(ll, axis=0, b=w[:, None])


def nil(log_likelihood, X_test, weights=None) -> float:
    """Negative log-likelihood (NIL) of the posterior predictive on held-out observational rows.

    ``NIL = -(1/N) sum_n log sum_k w_k p(x_n | G_k, theta_k)``: the per-row posterior-predictive
    mixture over the ``K`` samples, computed with log-sum-exp. Lower is better.

    For graph-only posteriors (no mechanism parameters), obtain ``p(x | G_k)`` from the plug-in
    likelihood :class:`skcausal_meta.models.plugin_likelihood.PluginLikelihood`: each sampled
    graph's node mechanisms are fitted on the training data (linear-Gaussian OLS by default, a
    nonlinear scikit-learn regressor as an option) and the Gaussian node terms are summed.

    Parameters
    ----------
    log_likelihood : array-like of shape (K, N) or callable
        Per-sample, per-row log densities, or ``f(X) -> (K, N)``.
    X_test : array-like of shape (N, d)
        Held-out observational rows.
    weights : array-like of shape (K,), default=None
        Posterior weights summing to one (uniform when None), e.g.
        ``np.exp(posterior.log_weights)``.

    Returns
    -------
    float
    """
    X = check_array(X_test, dtype=np.float64, input_name="X_test")
    return float(np.mean(_per_row_nll(log_likelihood, (X,), X.shape[0], weights)))


def i_nil(log_likelihood, X_int, interventions, weights=None) -> float:
    """Interventional NIL: the NIL on interventional rows, averaged over intervention targets.

    ``log_likelihood(X, interventions)`` must drop the intervened nodes' terms (the truncated
    factorisation). Rows are grouped by their mask row (each distinct target set, including the
    all-observational one if present, is one group); the NIL of each group is computed as in
    :func:`nil` and the groups' NILs are averaged with equal weight, so frequent targets do not
    dominate. Lower is better.

    Parameters
    ----------
    log_likelihood : array-like of shape (K, N) or callable
        Per-sample, per-row log densities, or ``f(X, interventions) -> (K, N)``.
    X_int : array-like of shape (N, d)
        Held-out interventional rows.
    interventions : array-like of shape (N, d)
        Boolean mask, ``interventions[r, j]`` True when node ``j`` was intervened on in row ``r``.
    weights : array-like of shape (K,), default=None
        Posterior weights summing to one (uniform when None).

    Returns
    -------
    float
    """
    X = check_array(X_int, dtype=np.float64, input_name="X_int")
    mask = check_interventions(interventions, *X.shape)
    per_row = _per_row_nll(log_likelihood, (X, mask), X.shape[0], weights)
    _, group = np.unique(mask, axis=0, return_inverse=True)
    group = group.ravel()
    group_nil = np.bincount(group, weights=per_row) / np.bincount(group)
    return float(group_nil.mean())


# --------------------------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------------------------
# defined there on the helpers above; importing them here makes them part of this module's API
from .cpdag_metrics import (  # noqa: E402
    e_cpdag_shd,
    e_orientation_accuracy,
    e_skeleton_f1,
    e_v_structure_precision,
    e_v_structure_recall,
    skeleton_auprc,
    skeleton_auroc,
)

#: The graph metrics by name: ``name -> (function(G_true, posterior), greater_is_better)``.
#: The one place their direction is stated: :func:`make_graph_scorer` signs scores by it and
#: the benchmark pipeline's metric registry (:data:`skcausal_meta.pipeline.evaluate.METRICS`)
#: reads it, so that a scorer and a report never disagree on which way is better.
GRAPH_METRICS = {
    "e_shd": (e_shd, False),
    "e_sid": (e_sid, False),
    "edge_auroc": (edge_auroc, True),
    "edge_auprc": (edge_auprc, True),
    "e_edge_f1": (e_edge_f1, True),
    "edge_ece": (edge_ece, False),
    "log_prob_true_graph": (log_prob_true_graph, True),
    "skeleton_auroc": (skeleton_auroc, True),
    "skeleton_auprc": (skeleton_auprc, True),
    "e_skeleton_f1": (e_skeleton_f1, True),
    "e_orientation_accuracy": (e_orientation_accuracy, True),
    "e_cpdag_shd": (e_cpdag_shd, False),
    "e_v_structure_precision": (e_v_structure_precision, True),
    "e_v_structure_recall": (e_v_structure_recall, True),
}


class _GraphScorer:
    """Callable ``scorer(estimator, X, y=None)`` scoring ``estimator.predict_graph_posterior()``.

    A class rather than a closure so that it pickles for parallel grid searches.
    """

    def __init__(self, metric, true_graph, sign: int, kwargs: dict):
        self.metric = metric
        self.true_graph = true_graph
        self.sign = sign
        self.kwargs = kwargs

    def __call__(self, estimator, X=None, y=None) -> float:
        if isinstance(estimator, Pipeline):  # the graph is the final step's
            estimator = estimator[-1]
        posterior = estimator.predict_graph_posterior()
        return self.sign * float(self.metric(self.true_graph, posterior, **self.kwargs))

    def __repr__(self) -> str:
        name = getattr(self.metric, "__name__", repr(self.metric))
        return f"make_graph_scorer({name}, sign={self.sign:+d})"


def make_graph_scorer(metric, true_graph, *, greater_is_better=None, **kwargs):
    """Make a scikit-learn scorer that compares an estimator's graph posterior with a true graph.

    The scorer, ``scorer(estimator, X, y=None)``, ignores ``X`` and ``y`` and returns
    ``sign * metric(true_graph, estimator.predict_graph_posterior(), **kwargs)`` (for a
    :class:`~sklearn.pipeline.Pipeline`, its final step's posterior), with the sign
    chosen so that greater is better (E-SHD, E-SID, ECE and CPDAG E-SHD are negated), as
    ``GridSearchCV`` expects.

    Parameters
    ----------
    metric : str or callable
        One of ``"e_shd"``, ``"e_sid"``, ``"edge_auroc"``, ``"edge_auprc"``, ``"e_edge_f1"``,
        ``"edge_ece"``, ``"log_prob_true_graph"``, one of the CPDAG-aware metrics
        (``"skeleton_auroc"``, ``"skeleton_auprc"``, ``"e_skeleton_f1"``,
        ``"e_orientation_accuracy"``, ``"e_cpdag_shd"``, ``"e_v_structure_precision"``,
        ``"e_v_structure_recall"``), or a callable ``f(G_true, posterior, **kwargs)``.
    true_graph : array-like of shape (d, d)
        The true 0/1 adjacency.
    greater_is_better : bool, default=None
        Only for a callable ``metric`` (default True there); the named metrics know their sign.
    **kwargs
        Passed to the metric (e.g. ``reversal_cost=2``).

    Returns
    -------
    callable
    """
    truth = check_adjacency(true_graph, name="true_graph")
    if callable(metric):
        sign = -1 if greater_is_better is False else 1
    elif isinstance(metric, str) and metric in GRAPH_METRICS:
        if greater_is_better is not None:
            raise ValueError(
                f"greater_is_better must be None for the named metric {metric!r}; "
                "it is only for callables"
            )
        metric, greater = GRAPH_METRICS[metric]
        sign = 1 if greater else -1
    else:
        raise ValueError(f"metric must be a callable or one of {sorted(GRAPH_METRICS)}, got {metric!r}")
    return _GraphScorer(metric, truth, sign, kwargs)
