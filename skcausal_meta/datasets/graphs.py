"""Random DAG priors.

Every prior draws an undirected (or naturally ordered) skeleton and orients it along a random
node order, so every sample is a DAG and no node index is favoured. ``A[i, j] == 1`` means the
edge ``i -> j``.

Parameters that a family varies between instances (for example the expected number of edges
per node) may be given as a scalar or as a ``[low, high]`` range; a range is drawn uniformly
once per sampled graph (integers when both ends are integers).

This module holds the priors built on a skeleton, the registry of kinds (:data:`GRAPH_PRIORS`,
:func:`make_graph_prior`), and re-exports the base class
(:mod:`~skcausal_meta.datasets.graph_base`), :class:`ScaleFree`
(:mod:`~skcausal_meta.datasets.scale_free`) and the graph hash
(:mod:`~skcausal_meta.datasets.graph_hash`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_adjacency, check_positive_int
from ._params import build, draw, validate_range
from .graph_base import GraphPrior, orient_by_random_order
from .graph_hash import canonical_graph_hash, graphs_isomorphic
from .scale_free import ScaleFree

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

    Examples
    --------
    With 1.5 edges per node, graphs on 10 nodes have about 15 edges on average:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import ErdosRenyi
    >>> prior = ErdosRenyi(edges_per_node=1.5)
    >>> float(np.mean([prior.sample(10, random_state=s).sum() for s in range(200)]))
    15.125

    Three edges per node is impossible on 4 nodes; ``cap_density=True`` gives the complete DAG
    (6 edges) instead of an error:

    >>> int(ErdosRenyi(edges_per_node=3.0, cap_density=True).sample(4, random_state=0).sum())
    6
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
class WattsStrogatz(GraphPrior):
    """Watts–Strogatz small-world skeleton (ring lattice, ``neighbors`` each side, rewired with
    probability ``rewire_prob``), oriented along a random order.

    Examples
    --------
    Without rewiring, each of 8 nodes on the ring is joined to 2 neighbours on each side (total
    degree 4, 16 edges); rewiring moves edges, so the degrees vary but the edge count stays:

    >>> from skcausal_meta.datasets import WattsStrogatz
    >>> ring = WattsStrogatz(neighbors=2, rewire_prob=0.0).sample(8, random_state=0)
    >>> int(ring.sum()), sorted(set((ring + ring.T).sum(axis=0).tolist()))
    (16, [4])
    >>> rewired = WattsStrogatz(neighbors=2, rewire_prob=0.5).sample(8, random_state=0)
    >>> int(rewired.sum()), sorted(set((rewired + rewired.T).sum(axis=0).tolist()))
    (16, [3, 4, 5, 6])
    """

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
    probability chosen so the expected edge count is ``edges_per_node * d``.

    Examples
    --------
    Three blocks with no edges between them (``damping=0``); the expected edge count is still
    ``edges_per_node * d``, here 12:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import StochasticBlock
    >>> prior = StochasticBlock(edges_per_node=1.0, n_blocks=3, damping=0.0)
    >>> float(np.mean([prior.sample(12, random_state=s).sum() for s in range(200)]))
    12.03
    """

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
    ``radius``; oriented along a random order.

    Examples
    --------
    A larger radius joins more pairs; a radius above the square's diagonal joins every pair
    (15 edges on 6 nodes):

    >>> import numpy as np
    >>> from skcausal_meta.datasets import GeometricRandom
    >>> [float(np.mean([GeometricRandom(radius=r).sample(10, random_state=s).sum() for s in range(100)]))
    ...  for r in (0.2, 0.4)]
    [4.73, 14.6]
    >>> int(GeometricRandom(radius=1.5).sample(6, random_state=0).sum())
    15
    """

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
    """A fixed, user-given DAG (``adjacency``, ``A[i, j] = 1`` for ``i -> j``).

    Use it for a family whose instances share one known graph and differ only in mechanisms
    and noises.

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.datasets import FixedGraph
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> prior = FixedGraph(adjacency=chain)
    >>> all((prior.sample(3, random_state=s) == chain).all() for s in range(5))
    True
    >>> prior.to_dict()
    {'type': 'fixed', 'adjacency': [[0, 1, 0], [0, 0, 1], [0, 0, 0]]}
    """

    adjacency: np.ndarray | list = field(default_factory=lambda: np.zeros((2, 2), dtype=np.int8))
    kind = "fixed"

    def __post_init__(self):
        self.adjacency = check_adjacency(self.adjacency, "adjacency", require_dag=True)

    def _sample(self, d, rng):
        if d != self.adjacency.shape[0]:
            raise ValueError(f"n_nodes={d} does not match the fixed graph's {self.adjacency.shape[0]} nodes")
        return self.adjacency.copy()


GRAPH_PRIORS = {cls.kind: cls for cls in (ErdosRenyi, ScaleFree, WattsStrogatz, StochasticBlock, GeometricRandom, FixedGraph)}


def make_graph_prior(spec) -> GraphPrior:
    """A graph prior from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, GRAPH_PRIORS, GraphPrior, "graph prior")
