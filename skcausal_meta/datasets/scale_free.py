"""Scale-free DAGs by preferential attachment (Barabási–Albert), drawn as networkx/numpy would.

The attachment step repeats numpy's weighted choice without replacement and its pairwise sum in
plain Python (:func:`_weighted_choice_without_replacement`, :func:`_numpy_sum`): the same floats,
so the same graphs for a seed, at a fraction of the cost for the few candidates of one step.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_float
from ._params import draw, validate_range
from .graph_base import GraphPrior

__all__ = ["ScaleFree"]


def _weighted_choice_without_replacement(p, size: int, rng: np.random.Generator) -> list[int]:
    """``size`` distinct indices drawn with probabilities ``p`` (a sequence of floats): the draws
    and the result of ``rng.choice(len(p), size, replace=False, p=p)``, without its validation and
    bookkeeping (which cost more than the draw for the handful of candidates a Barabási–Albert
    step has).

    Like numpy, each round draws one uniform per missing index, inverts the CDF of ``p`` with the
    indices found so far zeroed, and keeps the new distinct indices in the order drawn. The CDF is
    a running sum (as ``np.cumsum``), so the same floats come out; plain Python is faster for a
    few dozen entries.
    """
    if size == 0:
        return []
    found: list[int] = []
    p = list(p)
    while True:
        x = rng.random(size - len(found)).tolist()
        cdf = list(itertools.accumulate(p))
        cdf = list(map(operator.truediv, cdf, itertools.repeat(cdf[-1])))
        found.extend(dict.fromkeys(map(functools.partial(bisect.bisect_right, cdf), x)))
        if len(found) == size:
            return found
        # another round, possible only with enough indices of non-zero probability left (checked
        # here, off the usual path of one round)
        for i in found:
            p[i] = 0.0
        if size - len(found) > len(p) - p.count(0.0):
            raise ValueError(f"size={size} exceeds the {len(found) + len(p) - p.count(0.0)} indices "
                             "of non-zero probability")


def _numpy_sum(values: list[float]) -> float:
    """``np.sum`` of a float64 array holding ``values``, with numpy's float: its pairwise summation
    (a running sum below 8 values, 8 interleaved running sums up to 128, halves above), in plain
    Python, which is faster than building the array for a few dozen values."""
    n = len(values)
    if n < 8:
        return functools.reduce(operator.add, values, 0.0)
    if n <= 128:
        stop = n - n % 8
        partial = values[:8]
        for start in range(8, stop, 8):
            partial = list(map(operator.add, partial, values[start:start + 8]))
        r = partial
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        return functools.reduce(operator.add, values[stop:], total)
    half = n // 2
    half -= half % 8
    return _numpy_sum(values[:half]) + _numpy_sum(values[half:])


def _relabel(dag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply a uniformly random node relabelling to an already acyclic graph."""
    perm = rng.permutation(dag.shape[0])
    return dag[perm][:, perm].astype(np.int8, copy=False)


@dataclass
class ScaleFree(GraphPrior):
    """Barabási–Albert DAG: each new node attaches to ``edges_per_node`` earlier nodes.

    Attachment probability is proportional to ``degree ** power`` (plus one, so isolated nodes can
    be chosen). Edges point from the earlier node to the newer one, which gives a power law in the
    out-degree (hubs with many children); ``in_degree=True`` reverses every edge (a power law in
    the in-degree, hubs with many parents). Node labels are then permuted at random.
    ``cap_density=True`` lowers an infeasible ``edges_per_node`` to ``d - 1``.

    Examples
    --------
    On 20 nodes with 2 edges per new node, every node has at most 2 parents while a hub has
    many children; ``in_degree=True`` swaps the two:

    >>> from skcausal_meta.datasets import ScaleFree
    >>> A = ScaleFree(edges_per_node=2).sample(20, random_state=0)
    >>> int(A.sum()), int(A.sum(axis=0).max()), int(A.sum(axis=1).max())  # edges, max parents, max children
    (37, 2, 6)
    >>> B = ScaleFree(edges_per_node=2, in_degree=True).sample(20, random_state=0)
    >>> int(B.sum(axis=0).max()), int(B.sum(axis=1).max())
    (6, 2)
    """

    edges_per_node: int | list = 2
    power: float = 1.0
    in_degree: bool = False
    cap_density: bool = False
    kind = "sf"

    def __post_init__(self):
        validate_range(self.edges_per_node, "edges_per_node", low=0)
        check_positive_float(self.power, "power", inclusive=True)

    def _sample(self, d, rng):
        m = int(round(draw(self.edges_per_node, rng)))
        if self.cap_density:
            m = min(m, d - 1)
        if m > d - 1:
            raise ValueError(f"edges_per_node={m} is impossible for n_nodes={d}: at most d-1 parents")
        powers = self._powers(d)
        degree, sources, sinks = [0] * d, [], []
        weight = [powers[0]] * d  # weight[i] = powers[degree[i]], kept up to date
        for new in range(1, d):
            n_targets = min(m, new)
            targets = _weighted_choice_without_replacement(self._attachment(weight[:new]), n_targets, rng)
            for target in targets:
                degree[target] += 1
                weight[target] = powers[degree[target]]
            degree[new] = n_targets
            weight[new] = powers[n_targets]
            sources += targets
            sinks += [new] * n_targets
        a = np.zeros((d, d), dtype=np.int8)
        a[sources, sinks] = 1
        if self.in_degree:
            a = a.T.copy()
        return _relabel(a, rng)

    def _powers(self, d: int) -> list[float]:
        """``powers[k] = (k + 1) ** power`` for the degrees ``k < d`` a node can reach, computed
        once per graph by numpy: an element's power does not depend on where it stands in the
        array, so these are the floats ``(np.asarray(degree, float) + 1.0) ** power`` holds."""
        return (np.arange(1.0, d + 1.0) ** self.power).tolist()

    def _attachment(self, weights: list[float]) -> list[float]:
        """Attachment probabilities: the weights ``(degree + 1) ** power`` (from :meth:`_powers`)
        normalised as numpy normalises them (the sum by :func:`_numpy_sum`; with ``power == 1``
        the weights are integers, whose sum is exact in any order, so the builtin ``sum`` gives
        it)."""
        total = sum(weights) if self.power == 1.0 else _numpy_sum(weights)
        return list(map(operator.truediv, weights, itertools.repeat(total)))
