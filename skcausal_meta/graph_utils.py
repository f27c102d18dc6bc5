"""Markov equivalence of DAGs: CPDAGs and v-structures, in numpy.

Two DAGs are Markov equivalent (they imply the same conditional independences, so no amount of
observational data can tell them apart) exactly when they have the same skeleton and the same
v-structures (Verma & Pearl, 1990). The class is represented by its *completed partially directed
acyclic graph* (CPDAG, also called the essential graph): an edge is directed when every member of
the class orients it the same way (it is *compelled*) and undirected otherwise.

Encoding (DESIGN section 2): a CPDAG is a ``(d, d)`` int8 matrix with ``C[i, j] == 1`` and
``C[j, i] == 0`` for a directed edge ``i -> j``, and ``C[i, j] == C[j, i] == 1`` for an undirected
edge ``i - j``. A DAG with no undirected edge in its class is its own CPDAG.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._validation import check_adjacency

__all__ = ["dag_to_cpdag", "enumerate_dags", "v_structures"]

_MAX_ENUMERATED_NODES = 5


def dag_to_cpdag(adjacency) -> np.ndarray:
    """The CPDAG (essential graph) of the Markov equivalence class of a DAG.

    The edges of the DAG's v-structures ``i -> k <- j`` (``i`` and ``j`` not adjacent) are
    compelled; every other edge starts undirected, and Meek's (1995) rules R1-R3 orient the
    undirected edges whose orientation follows (R1: ``a -> b - c`` with ``a``, ``c`` not adjacent
    gives ``b -> c``; R2: ``a -> b -> c`` with ``a - c`` gives ``a -> c``; R3: ``a - c1 -> b``,
    ``a - c2 -> b``, ``a - b`` with ``c1``, ``c2`` not adjacent gives ``a -> b``), applied until
    nothing changes. Starting from the v-structures of a DAG, R1-R3 orient exactly the compelled
    edges (Meek, 1995, Theorem 2), so the result equals Chickering's (1995) edge labelling.

    Parameters
    ----------
    adjacency : array-like of shape (d, d)
        A 0/1 DAG, ``adjacency[i, j] == 1`` for ``i -> j``.

    Returns
    -------
    ndarray of shape (d, d), dtype int8
        The CPDAG: ``C[i, j] = 1, C[j, i] = 0`` for ``i -> j``; ``C[i, j] = C[j, i] = 1`` for
        ``i - j``.

    Raises
    ------
    ValueError
        If ``adjacency`` is not a 0/1 square matrix with zero diagonal, or has a directed cycle.

    Examples
    --------
    A collider keeps its orientation, because reversing either edge removes the v-structure;
    a chain's class also holds its reversal and the fork, so its edges become undirected:

    >>> import numpy as np
    >>> from skcausal_meta.graph_utils import dag_to_cpdag
    >>> collider = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])  # 0 -> 2 <- 1
    >>> dag_to_cpdag(collider)
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 0]], dtype=int8)
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
    >>> dag_to_cpdag(chain)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    dag = check_adjacency(adjacency, name="adjacency", require_dag=True)
    return _cpdag(dag.astype(bool)).astype(np.int8)


def enumerate_dags(n_nodes: int) -> np.ndarray:
    """Every labelled DAG on ``n_nodes`` nodes.

    Each unordered pair is absent or oriented one of two ways (``3^(d(d-1)/2)`` graphs); a
    graph is kept when it is acyclic, i.e. its adjacency matrix is nilpotent (``A^d = 0``). The
    counts are 1, 3, 25, 543 and 29,281 for ``d = 1, ..., 5`` (OEIS A003024); larger ``d`` are
    refused (3,781,503 DAGs at ``d = 6`` out of 14 million candidates).

    Parameters
    ----------
    n_nodes : int
        Number of nodes ``d``, from 1 to 5.

    Returns
    -------
    ndarray of shape (n_dags, d, d), dtype int8
        The DAGs, the empty graph first.

    Examples
    --------
    Exact posteriors over graphs are sums over this list; at three nodes it has 25 members:

    >>> from skcausal_meta.graph_utils import enumerate_dags
    >>> dags = enumerate_dags(3)
    >>> dags.shape
    (25, 3, 3)
    >>> int(dags[0].sum())
    0
    """
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) \
            or not 1 <= n_nodes <= _MAX_ENUMERATED_NODES:
        raise ValueError(f"n_nodes must be an int from 1 to {_MAX_ENUMERATED_NODES}, got {n_nodes!r}")
    d = int(n_nodes)
    rows, cols = np.triu_indices(d, k=1)
    # state of each pair: 0 absent, 1 i -> j, 2 j -> i, for every combination
    states = np.array(list(itertools.product(range(3), repeat=rows.size)), dtype=np.int8).reshape(3**rows.size, rows.size)
    graphs = np.zeros((states.shape[0], d, d), dtype=np.int64)
    graphs[:, rows, cols] = states == 1
    graphs[:, cols, rows] = states == 2
    power = graphs.copy()
    for _ in range(d - 1):
        power = np.minimum(power @ graphs, 1)  # reachability in one more step, kept 0/1
    return graphs[~power.any(axis=(1, 2))].astype(np.int8)


def v_structures(adjacency) -> np.ndarray:
    """The v-structures ``i -> k <- j`` (``i < j`` not adjacent) of a directed graph.

    Parameters
    ----------
    adjacency : array-like of shape (d, d)
        A 0/1 directed graph, ``adjacency[i, j] == 1`` for ``i -> j`` (cycles allowed; a pair with
        edges both ways counts as adjacent).

    Returns
    -------
    ndarray of shape (m, 3), dtype int64
        One row ``(i, k, j)`` per v-structure, with ``i < j``, sorted lexicographically.

    Examples
    --------
    Markov-equivalent DAGs share their v-structures; here only the collider at node 2 is one:

    >>> import numpy as np
    >>> from skcausal_meta.graph_utils import v_structures
    >>> g = np.array([[0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])  # 0 -> 2 <- 1, 2 -> 3
    >>> v_structures(g)
    array([[0, 2, 1]])
    """
    graph = check_adjacency(adjacency, name="adjacency").astype(bool)
    i, k, j = np.nonzero(_v_structure_tensor(graph))
    return np.stack([i, k, j], axis=1).astype(np.int64)


def _v_structure_tensor(graph: np.ndarray) -> np.ndarray:
    """Boolean ``(d, d, d)`` tensor ``V[i, k, j]``: ``i -> k <- j``, ``i < j`` not adjacent."""
    d = graph.shape[0]
    non_adjacent = ~(graph | graph.T) & ~np.eye(d, dtype=bool)
    upper = np.triu(non_adjacent, k=1)
    return graph[:, :, None] & graph.T[None, :, :] & upper[:, None, :]


def _cpdag(graph: np.ndarray) -> np.ndarray:
    """CPDAG of a boolean ``(d, d)`` graph by v-structures and Meek's rules R1-R3, unvalidated.

    For a DAG this is its CPDAG. For a graph with cycles (which has no equivalence class) the same
    construction still terminates and returns a partially directed graph on its skeleton; the
    CPDAG metrics apply it to cyclic posterior samples and document that.
    """
    d = graph.shape[0]
    skeleton = graph | graph.T
    non_adjacent = ~skeleton & ~np.eye(d, dtype=bool)
    # i -> k is in a v-structure when some other parent j of k is not adjacent to i
    directed = graph & ((non_adjacent.astype(np.int64) @ graph.astype(np.int64)) > 0)
    while True:
        undirected = skeleton & ~(directed | directed.T)
        if not undirected.any():
            break
        D, U, N = (m.astype(np.int64) for m in (directed, undirected, non_adjacent))
        # R1: a -> b - c, a and c not adjacent  =>  b -> c
        r1 = (D.T @ N) > 0
        # R2: a -> b -> c and a - c  =>  a -> c
        r2 = (D @ D) > 0
        # R3: a - c1 -> b, a - c2 -> b, c1 and c2 not adjacent, a - b  =>  a -> b
        W = U[:, None, :] * D.T[None, :, :]  # W[a, b, c] = (a - c) and (c -> b)
        r3 = np.einsum("abc,cx,abx->ab", W, N, W) > 0
        orient = undirected & (r1 | r2 | r3)
        if not orient.any():
            break
        directed = directed | orient
    return directed | (skeleton & ~(directed | directed.T))
