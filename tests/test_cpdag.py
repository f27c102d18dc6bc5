"""DAG -> CPDAG and v-structures, on hand-worked graphs and against causal-learn's dag2cpdag."""

import numpy as np
import pytest

from skcausal_meta.graph_utils import dag_to_cpdag, v_structures


def _graph(d, edges):
    g = np.zeros((d, d), dtype=np.int8)
    for i, j in edges:
        g[i, j] = 1
    return g


def _undirected(d, edges):
    g = _graph(d, edges)
    return g | g.T


@pytest.mark.parametrize(
    "dag, expected",
    [
        # chain and fork: one class with three members, all edges reversible
        (_graph(3, [(0, 1), (1, 2)]), _undirected(3, [(0, 1), (1, 2)])),
        (_graph(3, [(1, 0), (1, 2)]), _undirected(3, [(0, 1), (1, 2)])),
        # collider: its own class
        (_graph(3, [(0, 2), (1, 2)]), _graph(3, [(0, 2), (1, 2)])),
        # R1: the collider at 2 compels 2 -> 3 (else 0 -> 2 <- 3 would be a new v-structure)
        (_graph(4, [(0, 2), (1, 2), (2, 3)]), _graph(4, [(0, 2), (1, 2), (2, 3)])),
        # R2: 0 -> 2 <- 1 and 2 -> 3 compelled, then 0 -> 3 by 0 -> 2 -> 3 and 0 - 3
        (_graph(4, [(0, 2), (1, 2), (2, 3), (0, 3)]), _graph(4, [(0, 2), (1, 2), (2, 3), (0, 3)])),
        # R3: 1 -> 3 <- 2 with 0 - 1, 0 - 2, 0 - 3 gives 0 -> 3; 0 - 1 and 0 - 2 stay undirected
        (_graph(4, [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]),
         _undirected(4, [(0, 1), (0, 2)]) | _graph(4, [(1, 3), (2, 3), (0, 3)])),
        # a complete DAG has no v-structure: every edge reversible
        (np.triu(np.ones((4, 4), dtype=np.int8), 1), 1 - np.eye(4, dtype=np.int8)),
        # the empty graph
        (np.zeros((3, 3), dtype=np.int8), np.zeros((3, 3), dtype=np.int8)),
    ],
    ids=["chain", "fork", "collider", "meek_r1", "meek_r2", "meek_r3", "complete", "empty"],
)
def test_dag_to_cpdag_hand_worked(dag, expected):
    cpdag = dag_to_cpdag(dag)
    assert cpdag.dtype == np.int8
    np.testing.assert_array_equal(cpdag, expected)


def test_dag_to_cpdag_rejects_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        dag_to_cpdag(_graph(3, [(0, 1), (1, 2), (2, 0)]))


def test_equivalent_dags_share_their_cpdag():
    chain, reversed_chain, fork = (_graph(3, e) for e in ([(0, 1), (1, 2)], [(2, 1), (1, 0)], [(1, 0), (1, 2)]))
    assert (dag_to_cpdag(chain) == dag_to_cpdag(reversed_chain)).all()
    assert (dag_to_cpdag(chain) == dag_to_cpdag(fork)).all()


def _causallearn_cpdag(dag):
    from causallearn.graph.Dag import Dag
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.DAG2CPDAG import dag2cpdag

    from skcausal_meta.models.baselines import pdag_from_causallearn

    nodes = [GraphNode(f"X{i}") for i in range(dag.shape[0])]
    graph = Dag(nodes)
    for i, j in zip(*np.nonzero(dag)):
        graph.add_directed_edge(nodes[i], nodes[j])
    directed, undirected = pdag_from_causallearn(dag2cpdag(graph).graph)
    return (directed | undirected).astype(np.int8)


def _random_dag(d, p, rng):
    order = rng.permutation(d)
    upper = np.triu(rng.random((d, d)) < p, k=1)
    return upper[np.ix_(np.argsort(order), np.argsort(order))].astype(np.int8)


def test_dag_to_cpdag_matches_causallearn_on_random_dags():
    pytest.importorskip("causallearn")
    rng = np.random.default_rng(0)
    n_undirected = n_directed = 0
    for _ in range(150):
        d = int(rng.integers(2, 9))
        dag = _random_dag(d, rng.uniform(0.1, 0.7), rng)
        ours = dag_to_cpdag(dag)
        np.testing.assert_array_equal(ours, _causallearn_cpdag(dag))
        n_undirected += int((ours & ours.T).sum())
        n_directed += int((ours & ~ours.T.astype(bool)).sum())
    # the sample exercises both kinds of edge
    assert n_undirected > 50 and n_directed > 50


def test_v_structures():
    g = _graph(5, [(0, 2), (1, 2), (2, 3), (4, 3), (0, 1)])
    # 0 -> 2 <- 1 is shielded by 0 -> 1; 2 -> 3 <- 4 is a v-structure
    np.testing.assert_array_equal(v_structures(g), [[2, 3, 4]])
    assert v_structures(np.zeros((3, 3))).shape == (0, 3)
    # a reversed chain in place of the collider removes it
    assert v_structures(_graph(5, [(0, 2), (1, 2), (2, 3), (3, 4), (0, 1)])).shape == (0, 3)
