"""The benchmark's metric registry: every metric a config may name, how a worker computes it
from a fitted task, and which way is better.

Config validation, the worker, reports, plots and rank tables all read :data:`METRICS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import metrics as M

__all__ = ["Metric", "METRICS", "LOWER_IS_BETTER", "NO_DIRECTION", "metric_caption", "interventional_nil"]


def interventional_nil(estimator, X, mask) -> float:
    """I-NIL: mean over distinct intervention targets of ``-estimator.score`` on their rows.

    Rows are grouped by their mask row, each group is scored with its mask (the estimator drops
    the intervened nodes' terms), and the groups' NILs are averaged with equal weight: the
    definition of :func:`skcausal_meta.metrics.i_nil`, computed through the public ``score``.
    """
    _, group = np.unique(mask, axis=0, return_inverse=True)
    group = group.ravel()
    return float(np.mean([-estimator.score(X[group == g], interventions=mask[group == g])
                          for g in np.unique(group)]))


@dataclass(frozen=True)
class Metric:
    """A benchmark metric: how to compute it from a task's context, and which way is better.

    The context is what the worker has after fitting (``truth``, ``posterior``, ``estimator``,
    ``data``, ``inference_s``; :func:`skcausal_meta.pipeline.evaluate.run_task` builds it).

    ``greater_is_better`` is True or False, or None for a metric that describes the posterior
    without a better direction (the entropies). Reports caption, colour and rank by it.
    """

    compute: Callable[[object], float]
    greater_is_better: bool | None


def _graph_metric(function) -> Callable[[object], float]:
    return lambda c: function(c.truth, c.posterior)


#: The registry of the metrics a benchmark config may name, ``name -> Metric``, in report order.
#: The graph metrics and their directions come from :data:`skcausal_meta.metrics.GRAPH_METRICS`
#: (the scorers' registry); the metrics of the posterior itself, of held-out data and of time
#: are added here. Config validation, reports, plots and rank tables all read this one table.
METRICS = {
    **{name: Metric(_graph_metric(function), greater) for name, (function, greater) in M.GRAPH_METRICS.items()},
    "graph_entropy": Metric(lambda c: M.graph_entropy(c.posterior), None),
    "edge_entropy": Metric(lambda c: M.edge_entropy(c.posterior), None),
    "nil": Metric(lambda c: -c.estimator.score(c.data.X_test, interventions=np.zeros(c.data.X_test.shape, dtype=bool)),
                  False),
    "i_nil": Metric(lambda c: interventional_nil(c.estimator, c.data.X_int, c.data.mask_int), False),
    "time": Metric(lambda c: c.inference_s, False),
}
LOWER_IS_BETTER = frozenset(name for name, metric in METRICS.items() if metric.greater_is_better is False)
NO_DIRECTION = frozenset(name for name, metric in METRICS.items() if metric.greater_is_better is None)


def metric_caption(metric: str) -> str:
    """``"e_shd (lower is better)"``, ``"edge_auroc (higher is better)"``, ``"graph_entropy"``."""
    if metric in NO_DIRECTION:
        return metric
    return f"{metric} ({'lower' if metric in LOWER_IS_BETTER else 'higher'} is better)"
