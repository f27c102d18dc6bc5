"""From the partially directed graphs that PC and GES return to DAG samples.

PC and GES estimate a Markov equivalence class, represented by a CPDAG: directed edges shared by
every member of the class and undirected edges whose orientation the data cannot decide. A graph
posterior needs DAGs, so each estimated CPDAG is turned into random *consistent extensions*: DAGs
that keep every directed edge, orient every undirected one, and add no new v-structure (so they
are members of the class).

The sampler is the algorithm of Dor & Tarsi (1992) with uniformly random choices: repeatedly pick,
among the remaining nodes, one that is a sink of the remaining directed edges and whose
undirected neighbours are each adjacent to all its other neighbours; orient all its remaining
edges towards it and remove it. For a valid CPDAG every draw is a member of the class and every
member can be drawn, but not with equal probability (the chain ``a - b - c`` gives
``a <- b -> c`` with probability 1/2 and each directed chain with 1/4).

On finite data PC can return a graph that is not a valid CPDAG (conflicting orientations,
bidirected edges, directed cycles). Bidirected edges are treated as undirected; when no node
meets both conditions the sampler drops the neighbour condition (the draw may then gain a
v-structure), and when no node is a sink (a directed cycle remains) it picks any remaining node,
which reverses that node's remaining outgoing edges. Every draw is a DAG on the same skeleton.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pdag_from_causallearn", "sample_consistent_extension"]


def pdag_from_causallearn(endpoints) -> tuple[np.ndarray, np.ndarray]:
    """Split a causal-learn graph matrix into directed and undirected edges.

    causal-learn encodes ``i -> j`` as ``G[j, i] == 1`` and ``G[i, j] == -1``, ``i - j`` as
    ``G[i, j] == G[j, i] == -1`` and ``i <-> j`` as ``G[i, j] == G[j, i] == 1``.

    Returns
    -------
    directed : ndarray of shape (d, d), dtype bool
        ``directed[i, j]`` for ``i -> j``.
    undirected : ndarray of shape (d, d), dtype bool
        Symmetric; undirected and bidirected edges.
    """
    G = np.asarray(endpoints)
    directed = (G == -1) & (G.T == 1)
    undirected = ((G == -1) & (G.T == -1)) | ((G == 1) & (G.T == 1))
    np.fill_diagonal(undirected, False)
    return directed, undirected


def sample_consistent_extension(directed, undirected, rng: np.random.Generator) -> np.ndarray:
    """Draw one DAG from a partially directed graph (see the module docstring).

    Parameters
    ----------
    directed : array-like of shape (d, d), dtype bool
        ``directed[i, j]`` for a directed edge ``i -> j``.
    undirected : array-like of shape (d, d), dtype bool
        Symmetric matrix of undirected edges.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (d, d), dtype int8
        A DAG with the skeleton of the input.
    """
    D = np.asarray(directed, dtype=bool)
    U = np.asarray(undirected, dtype=bool)
    U = U | U.T
    adjacent = D | D.T | U
    d = D.shape[0]
    dag = np.zeros((d, d), dtype=np.int8)
    remaining = np.ones(d, dtype=bool)
    while remaining.any():
        nodes = np.flatnonzero(remaining)
        sub_D, sub_U, sub_adj = (M[np.ix_(nodes, nodes)] for M in (D, U, adjacent))
        sink = ~sub_D.any(axis=1)
        eligible = sink & np.array([_neighbours_adjacent(k, sub_U, sub_adj) for k in range(nodes.size)])
        # fall back to any sink, then to any node, when the input is not a valid CPDAG
        candidates = next(c for c in (eligible, sink, np.ones_like(sink)) if c.any())
        x = nodes[rng.choice(np.flatnonzero(candidates))]
        dag[adjacent[:, x] & remaining, x] = 1
        remaining[x] = False
    return dag


def _neighbours_adjacent(k: int, U: np.ndarray, adjacent: np.ndarray) -> bool:
    """Whether every undirected neighbour of ``k`` is adjacent to all other neighbours of ``k``."""
    neighbours = np.flatnonzero(adjacent[k])
    for y in np.flatnonzero(U[k]):
        others = neighbours[neighbours != y]
        if not adjacent[y, others].all():
            return False
    return True
