"""Skeleton, CPDAG and v-structure metrics: hand-worked values and independent references
(sklearn's ranking metrics, causal-learn's dag2cpdag and SHD, brute-force loops)."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score

from skcausal_meta.metrics import (
    e_cpdag_shd,
    e_orientation_accuracy,
    e_shd,
    e_skeleton_f1,
    e_v_structure_precision,
    e_v_structure_recall,
    make_graph_scorer,
    skeleton_auprc,
    skeleton_auroc,
)
from skcausal_meta.models.baselines import EmptyGraphEstimator, sample_consistent_extension

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
FORK = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]])  # 0 <- 1 -> 2
COLLIDER = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])  # 0 -> 1 <- 2


def _random_dag(d, p, rng):
    perm = rng.permutation(d)
    upper = np.triu(rng.random((d, d)) < p, k=1)
    return upper[np.ix_(perm, perm)].astype(np.int8)


def _posterior(samples, weights):
    samples = np.asarray(samples)
    return SimpleNamespace(samples=samples, log_weights=np.log(weights),
                           edge_probs=np.tensordot(weights, samples, axes=1))


def _causallearn(dag):
    """causal-learn's CPDAG of ``dag`` as a GeneralGraph (an independent construction)."""
    from causallearn.graph.Dag import Dag
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.DAG2CPDAG import dag2cpdag

    nodes = [GraphNode(f"X{i}") for i in range(dag.shape[0])]
    graph = Dag(nodes)
    for i, j in zip(*np.nonzero(dag)):
        graph.add_directed_edge(nodes[i], nodes[j])
    return dag2cpdag(graph)


def _brute_v_structures(g):
    d = g.shape[0]
    return {(i, k, j) for i, j in itertools.combinations(range(d), 2) for k in range(d)
            if g[i, k] and g[j, k] and not g[i, j] and not g[j, i]}


# --- skeleton ------------------------------------------------------------------------------------
def test_skeleton_curves_ignore_direction():
    # every edge reversed: no directed edge right, the skeleton exactly right
    rng = np.random.default_rng(0)
    G = _random_dag(6, 0.4, rng)
    assert skeleton_auroc(G, G.T.astype(float)) == 1.0
    assert skeleton_auprc(G, G.T[None]) == 1.0
    assert e_skeleton_f1(G, G.T[None]) == 1.0
    assert e_shd(G, G.T[None]) == G.sum()


@pytest.mark.parametrize("seed", range(5))
def test_skeleton_curves_agree_with_sklearn_on_pair_sums(seed):
    rng = np.random.default_rng(seed)
    d = 7
    G = _random_dag(d, 0.4, rng)
    probs = rng.random((d, d)) * (1 - np.eye(d))
    truth, scores = [], []
    for i in range(d):
        for j in range(i + 1, d):
            truth.append(G[i, j] or G[j, i])
            scores.append(probs[i, j] + probs[j, i])
    assert skeleton_auroc(G, probs) == pytest.approx(roc_auc_score(truth, scores))
    assert skeleton_auprc(G, probs) == pytest.approx(average_precision_score(truth, scores))


def test_skeleton_curves_degenerate():
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(skeleton_auroc(np.zeros((3, 3)), np.full((3, 3), 0.5)))
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(skeleton_auprc(np.zeros((3, 3)), np.full((3, 3), 0.5)))
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(skeleton_auroc(np.triu(np.ones((3, 3)), 1), np.full((3, 3), 0.5)))


def test_e_skeleton_f1_weighted_by_hand():
    # sample 1: skeleton {01, 12} right; sample 2: {01, 02}: TP 1, FP 1, FN 1 -> F1 1/2
    samples = np.stack([FORK, np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]])])
    assert e_skeleton_f1(CHAIN, samples, weights=[0.25, 0.75]) == pytest.approx(0.25 + 0.75 * 0.5)
    assert e_skeleton_f1(np.zeros((3, 3)), np.zeros((1, 3, 3))) == 1.0


# --- CPDAG SHD -----------------------------------------------------------------------------------
def test_e_cpdag_shd_is_zero_on_the_equivalence_class():
    rng = np.random.default_rng(1)
    from skcausal_meta.graph_utils import dag_to_cpdag

    for _ in range(20):
        G = _random_dag(7, 0.4, rng)
        C = dag_to_cpdag(G).astype(bool)
        members = np.stack([sample_consistent_extension(C & ~C.T, C & C.T, rng) for _ in range(10)])
        assert e_cpdag_shd(G, members) == 0.0


def test_e_cpdag_shd_hand_worked():
    assert e_cpdag_shd(CHAIN, CHAIN.T[None]) == 0.0  # Markov equivalent
    # the collider's CPDAG 0 -> 1 <- 2 vs the chain's 0 - 1 - 2: two marks differ
    assert e_cpdag_shd(CHAIN, COLLIDER[None]) == 2.0
    assert e_cpdag_shd(CHAIN, np.stack([FORK, COLLIDER]), weights=[0.5, 0.5]) == 1.0


def test_e_cpdag_shd_matches_causallearn():
    pytest.importorskip("causallearn")
    from causallearn.graph.SHD import SHD

    rng = np.random.default_rng(2)
    distances = []
    for _ in range(40):
        d = int(rng.integers(3, 8))
        G, H = _random_dag(d, 0.4, rng), _random_dag(d, 0.4, rng)
        expected = SHD(_causallearn(G), _causallearn(H)).get_shd()
        assert e_cpdag_shd(G, H[None]) == expected
        distances.append(expected)
    assert max(distances) > 3


# --- orientation ---------------------------------------------------------------------------------
def test_e_orientation_accuracy_hand_worked():
    # the fork is in the chain's class (both marks right); the collider gets both marks wrong
    assert e_orientation_accuracy(CHAIN, FORK[None]) == 1.0
    assert e_orientation_accuracy(CHAIN, COLLIDER[None]) == 0.0
    # a sample finding only 0 -> 1: its CPDAG has 0 - 1, as the chain's, so 1 of 1 right
    only = np.zeros((3, 3), dtype=int)
    only[0, 1] = 1
    assert e_orientation_accuracy(CHAIN, only[None]) == 1.0
    # against the collider's compelled edges the same sample is wrong (undirected vs 0 -> 1);
    # the empty sample shares no adjacency and is left out of the expectation
    assert e_orientation_accuracy(COLLIDER, np.stack([only, np.zeros((3, 3), int)]), weights=[0.3, 0.7]) == 0.0
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(e_orientation_accuracy(CHAIN, np.zeros((1, 3, 3), int)))


def test_e_orientation_accuracy_matches_a_loop_over_causallearn_cpdags():
    pytest.importorskip("causallearn")
    rng = np.random.default_rng(3)
    for _ in range(20):
        d = int(rng.integers(3, 8))
        G = _random_dag(d, 0.5, rng)
        samples = np.stack([_random_dag(d, 0.5, rng) for _ in range(3)])
        weights = rng.dirichlet(np.ones(3))
        true_cpdag = _causallearn(G).graph
        per_sample, defined = [], []
        for H in samples:
            sample_cpdag = _causallearn(H).graph
            pairs = [(i, j) for i, j in itertools.combinations(range(d), 2)
                     if (G[i, j] or G[j, i]) and (H[i, j] or H[j, i])]
            right = [(true_cpdag[i, j], true_cpdag[j, i]) == (sample_cpdag[i, j], sample_cpdag[j, i])
                     for i, j in pairs]
            defined.append(bool(pairs))
            per_sample.append(np.mean(right) if pairs else 0.0)
        defined = np.array(defined)
        if not defined.any():
            continue
        expected = weights[defined] @ np.array(per_sample)[defined] / weights[defined].sum()
        assert e_orientation_accuracy(G, samples, weights) == pytest.approx(expected)


# --- v-structures --------------------------------------------------------------------------------
def test_v_structure_precision_recall_match_brute_force():
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(30):
        d = int(rng.integers(3, 8))
        G = _random_dag(d, 0.4, rng)
        samples = np.stack([_random_dag(d, 0.4, rng) for _ in range(4)])
        weights = rng.dirichlet(np.ones(4))
        true_v = _brute_v_structures(G)
        found = [_brute_v_structures(H) for H in samples]
        precision = [len(v & true_v) / len(v) if v else 1.0 for v in found]
        assert e_v_structure_precision(G, samples, weights) == pytest.approx(weights @ precision)
        if true_v:
            recall = [len(v & true_v) / len(true_v) for v in found]
            assert e_v_structure_recall(G, samples, weights) == pytest.approx(weights @ recall)
            checked += 1
    assert checked > 5


def test_v_structure_hand_worked_and_undefined():
    assert e_v_structure_recall(COLLIDER, np.stack([COLLIDER, CHAIN])) == 0.5
    assert e_v_structure_precision(CHAIN, COLLIDER[None]) == 0.0
    assert e_v_structure_precision(CHAIN, CHAIN[None]) == 1.0  # no v-structure asserted
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(e_v_structure_recall(CHAIN, CHAIN[None]))


# --- shared behaviour ----------------------------------------------------------------------------
SAMPLE_METRICS = [e_skeleton_f1, e_orientation_accuracy, e_cpdag_shd, e_v_structure_precision,
                  e_v_structure_recall]


@pytest.mark.parametrize("metric", SAMPLE_METRICS)
def test_posterior_equals_weighted_stack_and_repeats_pool(metric):
    rng = np.random.default_rng(5)
    G = np.zeros((5, 5), dtype=np.int8)
    G[[0, 1], 2] = 1
    G[2, 3] = G[3, 4] = 1
    samples = np.stack([_random_dag(5, 0.5, rng) for _ in range(3)] + [G])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    value = metric(G, samples, weights)
    assert metric(G, _posterior(samples, weights)) == pytest.approx(value)
    # a sample repeated with its weight split scores the same
    doubled = np.concatenate([samples, samples[:1]])
    assert metric(G, doubled, np.r_[0.05, weights[1:], 0.05]) == pytest.approx(value)
    # the true graph alone is perfect
    assert metric(G, G[None]) == (0.0 if metric is e_cpdag_shd else 1.0)


@pytest.mark.parametrize("metric", SAMPLE_METRICS)
def test_cyclic_samples_are_scored(metric):
    cycle = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert np.isfinite(metric(COLLIDER, np.stack([cycle, COLLIDER])))


@pytest.mark.parametrize("metric", SAMPLE_METRICS[1:])  # the skeleton F1 needs no orientation
def test_true_graph_must_be_a_dag(metric):
    cycle = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="DAG"):
        metric(cycle, CHAIN[None])


def test_scorers_know_their_direction():
    X = np.random.default_rng(0).normal(size=(20, 3))
    est = EmptyGraphEstimator().fit(X)
    assert make_graph_scorer("e_cpdag_shd", CHAIN)(est, X) == -2.0
    assert make_graph_scorer("e_skeleton_f1", CHAIN)(est, X) == 0.0
    assert make_graph_scorer("e_v_structure_precision", COLLIDER)(est, X) == 1.0
    for name in ("skeleton_auroc", "skeleton_auprc", "e_orientation_accuracy", "e_v_structure_recall"):
        assert callable(make_graph_scorer(name, COLLIDER))
