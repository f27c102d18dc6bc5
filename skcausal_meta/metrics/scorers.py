"""The registry of graph metrics with their direction, and scikit-learn scorers built on it.

Examples
--------
:data:`GRAPH_METRICS` maps each metric's name to the function and whether greater is better:

>>> from skcausal_meta.metrics import GRAPH_METRICS, e_shd
>>> metric, greater_is_better = GRAPH_METRICS["e_shd"]
>>> metric is e_shd, greater_is_better
(True, False)
>>> sorted(name for name, (_, greater) in GRAPH_METRICS.items() if not greater)
['e_cpdag_shd', 'e_shd', 'e_sid', 'edge_ece']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from skcausal_meta._validation import check_adjacency

from .cpdag import e_cpdag_shd, e_orientation_accuracy, e_v_structure_precision, e_v_structure_recall
from .edges import e_edge_f1, edge_auprc, edge_auroc, edge_ece, log_prob_true_graph
from .skeleton import e_skeleton_f1, skeleton_auprc, skeleton_auroc
from .structural import e_sid, e_shd

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = ["GRAPH_METRICS", "make_graph_scorer"]


#: The graph metrics by name: ``name -> (function(G_true, posterior), greater_is_better)``.
#: The one place their direction is stated: :func:`make_graph_scorer` signs scores by it and
#: the benchmark pipeline's metric registry (:data:`skcausal_meta.pipeline.scoring.METRICS`)
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


def make_graph_scorer(
    metric: str | Callable[..., float],
    true_graph: ArrayLike,
    *,
    greater_is_better: bool | None = None,
    **kwargs: Any,
) -> _GraphScorer:
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

    Examples
    --------
    Scored against the true graph of the data, the empty graph's score is minus its number of
    edges (E-SHD, negated so that greater is better):

    >>> from sklearn.model_selection import GridSearchCV
    >>> from skcausal_meta import EmptyGraphEstimator, RandomDAGEstimator, make_scm_family
    >>> from skcausal_meta.metrics import make_graph_scorer
    >>> X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50,
    ...                                n_interventional=0, random_state=0)
    >>> scorer = make_graph_scorer("e_shd", graphs[0])
    >>> scorer
    make_graph_scorer(e_shd, sign=-1)
    >>> int(graphs[0].sum()), scorer(EmptyGraphEstimator().fit(X[0]))
    (3, -3.0)

    As ``scoring`` of a grid search (``X`` is split into folds, the true graph stays the same):

    >>> search = GridSearchCV(RandomDAGEstimator(n_graphs=20, random_state=0),
    ...                       {"edges_per_node": [0.5, 1.5]}, scoring=scorer, cv=2).fit(X[0])
    >>> search.best_params_
    {'edges_per_node': 0.5}

    A callable metric receives the true graph and the posterior:

    >>> mean_true_edge_prob = lambda G, posterior: float(posterior.edge_probs[G == 1].mean())
    >>> make_graph_scorer(mean_true_edge_prob, graphs[0])(EmptyGraphEstimator().fit(X[0]))
    0.0
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
