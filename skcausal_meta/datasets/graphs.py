"""Random DAG priors.

Every prior draws an undirected (or naturally ordered) skeleton and orients it along a random
node order, so every sample is a DAG and no node index is favoured. ``A[i, j] == 1`` means the
edge ``i -> j``.

Parameters that a family varies between instances (for example the expected number of edges
per node) may be given as a scalar or as a ``[low, high]`` range; a range is drawn uniformly
once per sampled graph (integers when both ends are integers).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import operator
import random
from dataclasses import asdict, dataclass, field

import networkx as nx
import numpy as np

from .._validation import check_adjacency, check_positive_float, check_positive_int, check_random_state
from ._params import build, draw, validate_range

__all__ = [
    "make_graph_prior",
    "GraphPrior",
    "ErdosRenyi",
    "ScaleFree",
    "WattsStrogatz",
    "StochasticBlock",
    "GeometricRandom",
    "FixedGraph",
    "GRAPH_PRIORS",
    "orient_by_random_order",
    "canonical_graph_hash",
    "graphs_isomorphic",
]


def orient_by_random_order(skeleton: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Orient a symmetric 0/1 skeleton into a DAG along a uniformly random node order."""
    d = skeleton.shape[0]
    rank = rng.permutation(d)
    upper = np.triu(np.asarray(skeleton, dtype=bool), k=1)
    upper = upper | upper.T
    return (upper & (rank[:, None] < rank[None, :])).astype(np.int8)


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


class GraphPrior:
    """Base class: ``sample(d, random_state) -> (d, d) int8 DAG``."""

    kind: str = ""

    def sample(self, n_nodes: int, random_state=None) -> np.ndarray:
        """Draw one DAG over ``n_nodes`` nodes."""
        n_nodes = check_positive_int(n_nodes, "n_nodes")
        rng = check_random_state(random_state)
        return self._sample(n_nodes, rng)

    def _sample(self, d: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def to_dict(self) -> dict:
        """JSON-serialisable description; ``make_graph_prior(prior.to_dict())`` rebuilds it."""
        out = {"type": self.kind}
        out.update({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()})
        return out


def _check_density(k: float, d: int) -> float:
    """Edge probability over unordered pairs that gives ``k * d`` expected edges."""
    if d < 2:
        return 0.0
    if k < 0 or k > (d - 1) / 2:
        raise ValueError(
            f"edges_per_node={k!r} is impossible for n_nodes={d}: a DAG has at most d(d-1)/2 edges, "
            f"so edges_per_node must lie in [0, {(d - 1) / 2}]"
        )
    return 2.0 * k / (d - 1)


@dataclass
class ErdosRenyi(GraphPrior):
    """Erdős–Rényi DAG with ``edges_per_node * d`` expected edges (AVICI's and BCNP's "ER-k").

    Each unordered pair is joined with probability ``p = 2k / (d - 1)`` and oriented along a
    random order. ``cap_density=True`` lowers an infeasible ``k`` to ``(d - 1) / 2`` (the
    complete DAG) instead of raising, which families with small ``d`` rely on.
    """

    edges_per_node: float | list = 2.0
    cap_density: bool = False
    kind = "er"

    def __post_init__(self):
        validate_range(self.edges_per_node, "edges_per_node", low=0.0)

    def _sample(self, d, rng):
        k = draw(self.edges_per_node, rng)
        if self.cap_density:
            k = min(k, (d - 1) / 2)
        p = _check_density(k, d)
        skeleton = np.triu(rng.random((d, d)) < p, k=1)
        return orient_by_random_order(skeleton, rng)


@dataclass
class ScaleFree(GraphPrior):
    """Barabási–Albert DAG: each new node attaches to ``edges_per_node`` earlier nodes.

    Attachment probability is proportional to ``degree ** power`` (plus one, so isolated nodes can
    be chosen). Edges point from the earlier node to the newer one, which gives a power law in the
    out-degree (hubs with many children); ``in_degree=True`` reverses every edge (a power law in
    the in-degree, hubs with many parents). Node labels are then permuted at random.
    ``cap_density=True`` lowers an infeasible ``edges_per_node`` to ``d - 1``.
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


@dataclass
class WattsStrogatz(GraphPrior):
    """Watts–Strogatz small-world skeleton (ring lattice, ``neighbors`` each side, rewired with
    probability ``rewire_prob``), oriented along a random order."""

    neighbors: int | list = 2
    rewire_prob: float | list = 0.3
    kind = "ws"

    def __post_init__(self):
        validate_range(self.neighbors, "neighbors", low=1)
        validate_range(self.rewire_prob, "rewire_prob", low=0.0, high=1.0)

    def _sample(self, d, rng):
        k = int(round(draw(self.neighbors, rng)))
        if d < 3:
            return ErdosRenyi(edges_per_node=(d - 1) / 2)._sample(d, rng)
        k = min(2 * k, d - 1 - (d - 1) % 2) or 2
        seed = int(rng.integers(2**31 - 1))
        neighbours = _watts_strogatz(d, k, draw(self.rewire_prob, rng), random.Random(seed))
        skeleton = np.zeros((d, d), dtype=bool)
        skeleton[tuple(zip(*((u, v) for u, adjacent in enumerate(neighbours) for v in adjacent)))] = True
        return orient_by_random_order(skeleton, rng)


def _watts_strogatz(n: int, k: int, p: float, rnd: random.Random) -> list[set]:
    """Neighbour sets of a Watts–Strogatz graph: ``networkx.watts_strogatz_graph(n, k, p, seed)``
    (networkx 3.x) for an even ``2 <= k < n``, with the same draws from ``rnd`` (networkx makes
    ``random.Random(seed)``) and so the same graph, without building a networkx graph (which
    cost more than the rest of a data set).

    Each node is joined to its ``k / 2`` successors on a ring; then for each distance ``j`` and
    each node ``u`` in order, with probability ``p`` the edge ``(u, u + j)`` is moved to ``(u, w)``
    for a node ``w`` drawn uniformly until it is neither ``u`` nor already a neighbour (given up
    when ``u`` is joined to every other node).
    """
    nodes = list(range(n))
    neighbours = [set() for _ in nodes]
    for j in range(1, k // 2 + 1):
        for u in nodes:
            v = (u + j) % n
            neighbours[u].add(v)
            neighbours[v].add(u)
    for j in range(1, k // 2 + 1):
        for u in nodes:
            if rnd.random() < p:
                w = rnd.choice(nodes)
                while w == u or w in neighbours[u]:
                    w = rnd.choice(nodes)
                    if len(neighbours[u]) >= n - 1:
                        break
                else:
                    v = (u + j) % n
                    neighbours[u].discard(v)
                    neighbours[v].discard(u)
                    neighbours[u].add(w)
                    neighbours[w].add(u)
    return neighbours


@dataclass
class StochasticBlock(GraphPrior):
    """Stochastic block model: nodes fall into ``n_blocks`` random blocks; pairs across blocks
    are joined ``damping`` times as often as pairs within a block, with the within-block
    probability chosen so the expected edge count is ``edges_per_node * d``."""

    edges_per_node: float | list = 2.0
    n_blocks: int | tuple = (2, 4)
    damping: float = 0.1
    kind = "sbm"

    def __post_init__(self):
        validate_range(self.edges_per_node, "edges_per_node", low=0.0)
        validate_range(self.n_blocks, "n_blocks", low=1)
        validate_range(self.damping, "damping", low=0.0, high=1.0)

    def _sample(self, d, rng):
        k = min(draw(self.edges_per_node, rng), (d - 1) / 2)
        blocks = rng.integers(int(round(draw(self.n_blocks, rng))), size=d)
        same = blocks[:, None] == blocks[None, :]
        pairs_in = np.triu(same, 1).sum()
        pairs_out = np.triu(~same, 1).sum()
        p_in = k * d / max(pairs_in + self.damping * pairs_out, 1e-12)
        p = np.where(same, p_in, self.damping * p_in).clip(0.0, 1.0)
        skeleton = np.triu(rng.random((d, d)) < p, k=1)
        return orient_by_random_order(skeleton, rng)


@dataclass
class GeometricRandom(GraphPrior):
    """Random geometric graph: nodes uniform in the unit square, joined when closer than
    ``radius``; oriented along a random order."""

    radius: float | list = 0.3
    dim: int = 2
    kind = "geo"

    def __post_init__(self):
        validate_range(self.radius, "radius", low=0.0)
        check_positive_int(self.dim, "dim")

    def _sample(self, d, rng):
        points = rng.random((d, self.dim))
        dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        skeleton = np.triu(dist < draw(self.radius, rng), k=1)
        return orient_by_random_order(skeleton, rng)


@dataclass
class FixedGraph(GraphPrior):
    """A fixed, user-given DAG (``adjacency``, ``A[i, j] = 1`` for ``i -> j``)."""

    adjacency: np.ndarray | list = field(default_factory=lambda: np.zeros((2, 2), dtype=np.int8))
    kind = "fixed"

    def __post_init__(self):
        self.adjacency = check_adjacency(self.adjacency, "adjacency", require_dag=True)

    def _sample(self, d, rng):
        if d != self.adjacency.shape[0]:
            raise ValueError(f"n_nodes={d} does not match the fixed graph's {self.adjacency.shape[0]} nodes")
        return self.adjacency.copy()


GRAPH_PRIORS = {cls.kind: cls for cls in (ErdosRenyi, ScaleFree, WattsStrogatz, StochasticBlock, GeometricRandom, FixedGraph)}


def canonical_graph_hash(adjacency: np.ndarray, iterations: int = 3) -> str:
    """Hash that is equal for isomorphic DAGs (directed Weisfeiler–Lehman colour refinement).

    Each node starts with its (in-degree, out-degree) colour; each round replaces it by the
    colour together with the sorted colours of its parents and of its children. The hash is the
    sorted multiset of final colours, so relabelling the nodes cannot change it. Different hashes
    prove two graphs non-isomorphic; equal hashes are confirmed with :func:`graphs_isomorphic`
    where it matters.
    """
    a = np.asarray(adjacency) != 0
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square (d, d) matrix, got shape {a.shape}")
    parents = [np.flatnonzero(a[:, j]) for j in range(a.shape[0])]
    children = [np.flatnonzero(a[i]) for i in range(a.shape[0])]
    colours = [f"{len(p)},{len(c)}" for p, c in zip(parents, children)]
    for _ in range(iterations):
        colours = [
            hashlib.sha1(
                f"{colours[j]}|{sorted(colours[i] for i in parents[j])}|{sorted(colours[i] for i in children[j])}".encode()
            ).hexdigest()
            for j in range(a.shape[0])
        ]
    return hashlib.sha1(f"{a.shape[0]}:{sorted(colours)}".encode()).hexdigest()[:16]


def graphs_isomorphic(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact directed-graph isomorphism test (VF2)."""
    ga = nx.from_numpy_array(np.asarray(a), create_using=nx.DiGraph)
    gb = nx.from_numpy_array(np.asarray(b), create_using=nx.DiGraph)
    return nx.is_isomorphic(ga, gb)


def make_graph_prior(spec) -> GraphPrior:
    """A graph prior from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, GRAPH_PRIORS, GraphPrior, "graph prior")
