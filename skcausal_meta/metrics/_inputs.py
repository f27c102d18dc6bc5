"""Input handling shared by the metrics: predictions to samples or marginals, weights, true graphs."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score

from skcausal_meta._validation import check_adjacency, check_adjacency_stack

_WEIGHT_SUM_TOL = 1e-4


# --------------------------------------------------------------------------------------------
# Shared input handling
# --------------------------------------------------------------------------------------------
def _is_posterior(prediction) -> bool:
    """True when ``prediction`` duck-types as a ``GraphPosterior`` (has samples and log weights)."""
    return hasattr(prediction, "samples") and hasattr(prediction, "log_weights")


def _check_weights(weights, n_graphs: int, name: str = "weights") -> np.ndarray:
    """Validate weights ``(S,)``: finite, non-negative, summing to one; ``None`` gives uniform."""
    if weights is None:
        return np.full(n_graphs, 1.0 / n_graphs)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_graphs,):
        raise ValueError(
            f"{name} must have shape ({n_graphs},) to match the samples, got {w.shape}"
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




def _undefined(message: str, stacklevel: int = 3) -> float:
    """Warn ``message`` as an ``UndefinedMetricWarning`` pointing at the metric's caller (the
    frame ``stacklevel`` up) and return ``nan``, so that one degenerate data set does not abort a
    benchmark."""
    warnings.warn(f"{message}; returning nan", UndefinedMetricWarning, stacklevel=stacklevel)
    return float("nan")


def _auroc(truth: np.ndarray, scores: np.ndarray, undefined: str) -> float:
    """ROC AUC of ``scores`` against the 0/1 labels ``truth``; ``nan`` with the warning
    ``undefined`` when the labels are all equal."""
    if truth.min() == truth.max():
        return _undefined(undefined, stacklevel=4)
    return float(roc_auc_score(truth, scores))


def _auprc(truth: np.ndarray, scores: np.ndarray, undefined: str) -> float:
    """Average precision of ``scores`` against the 0/1 labels ``truth``; ``nan`` with the warning
    ``undefined`` when no label is positive."""
    if not truth.any():
        return _undefined(undefined, stacklevel=4)
    return float(average_precision_score(truth, scores))
