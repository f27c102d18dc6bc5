"""Point estimates of a graph posterior: threshold, mode, CPDAG, and the estimators' ``graph_``."""

import numpy as np
import pandas as pd
import pytest

from skcausal_meta import GraphPosterior
from skcausal_meta.models.baselines import PCEstimator, RandomDAGEstimator
from skcausal_meta.graph_utils import dag_to_cpdag
from skcausal_meta.models.posterior import GraphEstimate


def _dag(d, edges):
    A = np.zeros((d, d), dtype=np.int8)
    for i, j in edges:
        A[i, j] = 1
    return A


def test_cpdag_is_the_class_of_the_acyclic_mode():
    # v-structure 0->2<-3 compels 2->1 (R1) and then 0->1 (R2); the mode outweighs the kite
    r2 = _dag(4, [(0, 1), (0, 2), (2, 1), (3, 2)])
    kite = _dag(4, [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)])
    posterior = GraphPosterior(np.stack([r2, r2, kite]), node_names=list("abcd"))
    cpdag = posterior.cpdag()
    np.testing.assert_array_equal(cpdag.adjacency, dag_to_cpdag(r2))
    assert cpdag.directed_edges() == [("a", "b"), ("a", "c"), ("c", "b"), ("d", "c")]
    assert cpdag.is_dag() and cpdag.probability == pytest.approx(2 / 3)
    # R3 orients a->d in the kite; a-b and a-c stay undirected
    kite_cpdag = GraphPosterior(kite[None], node_names=list("abcd")).cpdag()
    assert kite_cpdag.undirected_edges() == [("a", "b"), ("a", "c")]
    assert kite_cpdag.directed_edges() == [("a", "d"), ("b", "d"), ("c", "d")]


def test_threshold_keeps_edges_above_p_with_names():
    samples = np.array([_dag(3, [(0, 1)]), _dag(3, [(0, 1), (1, 2)]), _dag(3, [(2, 1)]), _dag(3, [(0, 1)])])
    posterior = GraphPosterior(samples, node_names=["a", "b", "c"])  # P(a->b) = .75, others .25
    assert posterior.threshold(0.5).directed_edges() == [("a", "b")]
    assert posterior.threshold(0.25).directed_edges() == [("a", "b")]  # strictly above p
    assert posterior.threshold(0.2).directed_edges() == [("a", "b"), ("b", "c"), ("c", "b")]
    frame = posterior.threshold(0.5).to_frame()
    assert list(frame.index) == list(frame.columns) == ["a", "b", "c"]
    assert frame.loc["a", "b"] == 1 and frame.to_numpy().sum() == 1
    assert posterior.threshold().probability is None
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="p must be a number"):
            posterior.threshold(bad)


def test_mode_sums_weights_of_identical_samples():
    g, h = _dag(3, [(0, 1)]), _dag(3, [(1, 0)])
    posterior = GraphPosterior(np.stack([h, g, g]), log_weights=np.log([0.4, 0.3, 0.3]))
    mode = posterior.mode()
    np.testing.assert_array_equal(mode.adjacency, g)
    assert mode.probability == pytest.approx(0.6)
    assert posterior.map_graph().directed_edges() == mode.directed_edges() == [("x0", "x1")]


def test_mode_ties_break_the_same_way_whatever_the_sample_order():
    graphs = [_dag(3, [(0, 1)]), _dag(3, [(1, 2)]), _dag(3, [(2, 0)])]
    modes = set()
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        # 1/3 each, once as three samples of weight 1/9 (sums that round differently)
        posterior = GraphPosterior(np.stack([graphs[k] for k in order for _ in range(3)]))
        modes.add(posterior.mode().adjacency.tobytes())
    assert len(modes) == 1


def test_acyclic_mode_and_cpdag_skip_cyclic_samples():
    cycle = _dag(3, [(0, 1), (1, 2), (2, 0)])
    chain = _dag(3, [(0, 1), (1, 2)])
    posterior = GraphPosterior(np.stack([cycle, cycle, chain]), node_names=["a", "b", "c"])
    np.testing.assert_array_equal(posterior.mode().adjacency, cycle)
    np.testing.assert_array_equal(posterior.mode(acyclic=True).adjacency, chain)
    cpdag = posterior.cpdag()
    assert cpdag.cpdag and cpdag.probability == pytest.approx(1 / 3)
    assert cpdag.undirected_edges() == [("a", "b"), ("b", "c")] and not cpdag.is_dag()
    with pytest.raises(ValueError, match="no sample of positive weight is a DAG"):
        GraphPosterior(cycle[None]).cpdag()


def test_estimate_to_networkx_marks_undirected_edges():
    collider_plus = GraphPosterior(_dag(4, [(0, 2), (1, 2), (3, 0)])[None], node_names=list("abcd")).cpdag()
    graph = collider_plus.to_networkx()
    assert list(graph.nodes) == list("abcd")
    assert {(u, v) for u, v, undirected in graph.edges(data="undirected") if undirected} == {("a", "d"), ("d", "a")}
    assert {(u, v) for u, v, undirected in graph.edges(data="undirected") if not undirected} == {("a", "c"), ("b", "c")}
    assert "undirected=1" in repr(collider_plus)
    with pytest.raises(ValueError, match="node_names must have 2 entries"):
        GraphEstimate(np.zeros((2, 2)), ["a"])


def test_estimators_expose_graph_after_fit_with_column_names():
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 4)), columns=["w", "x", "y", "z"])
    est = RandomDAGEstimator(random_state=3)
    assert not hasattr(est, "graph_")
    est.fit(X)
    expected = est.predict_graph_posterior().threshold(0.5)
    assert isinstance(est.graph_, GraphEstimate) and est.graph_.node_names == ["w", "x", "y", "z"]
    np.testing.assert_array_equal(est.graph_.adjacency, expected.adjacency)
    again = RandomDAGEstimator(random_state=3).fit(X)
    np.testing.assert_array_equal(again.graph_.adjacency, est.graph_.adjacency)


def test_pc_mode_is_deterministic_for_a_seed():
    pytest.importorskip("causallearn", reason="PC needs causal-learn (the 'baselines' extra)")
    from skcausal_meta import make_scm_family

    X, _, _ = make_scm_family("id", n_datasets=1, n_nodes=5, n_samples=200, random_state=0)
    modes = [PCEstimator(random_state=7).fit(X[0]).predict_graph_posterior().mode().adjacency for _ in range(2)]
    np.testing.assert_array_equal(*modes)
