"""Tests for the baselines: CPDAG extensions (against brute-force equivalence classes), PC/GES
point and bootstrap posteriors, the reference baselines, and scikit-learn compatibility."""

import importlib.util
import itertools
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcausal_meta._validation import is_dag
from skcausal_meta.metrics import e_shd, edge_auroc
from skcausal_meta.models.baselines import (
    EmptyGraphEstimator,
    GESEstimator,
    PCEstimator,
    RandomDAGEstimator,
    pdag_from_causallearn,
    sample_consistent_extension,
)
from skcausal_meta.models.baselines._empirical import _uniform_posterior

HAS_CAUSALLEARN = importlib.util.find_spec("causallearn") is not None
SKIP_REASON = "causal-learn is not installed: pip install skcausal-meta[baselines]"
needs_causallearn = pytest.mark.skipif(not HAS_CAUSALLEARN, reason=SKIP_REASON)
CAUSALLEARN_CLASSES = (PCEstimator, GESEstimator)


# ---------------------------------------------------------------- brute-force equivalence classes
def _v_structures(dag):
    dag = np.asarray(dag)
    skeleton = dag | dag.T
    return {
        (a, c, b)
        for c in range(len(dag))
        for a, b in itertools.combinations(np.flatnonzero(dag[:, c]), 2)
        if not skeleton[a, b]
    }


def _equivalence_class(dag):
    """Every DAG on the skeleton of ``dag`` with its v-structures (enumerating orientations)."""
    dag = np.asarray(dag, dtype=np.int8)
    pairs = list(zip(*np.nonzero(np.triu(dag | dag.T))))
    target = _v_structures(dag)
    members = []
    for flips in itertools.product((False, True), repeat=len(pairs)):
        g = np.zeros_like(dag)
        for (i, j), flip in zip(pairs, flips):
            g[(j, i) if flip else (i, j)] = 1
        if is_dag(g) and _v_structures(g) == target:
            members.append(g)
    return members


def _cpdag(members):
    """Directed edges shared by every member; the other adjacencies are undirected."""
    stack = np.stack(members).astype(bool)
    directed = stack.all(axis=0)
    skeleton = stack[0] | stack[0].T
    return directed, skeleton & ~(directed | directed.T)


def _random_dag(rng, d, p=0.5):
    perm = rng.permutation(d)
    return np.triu(rng.random((d, d)) < p, k=1).astype(np.int8)[np.ix_(perm, perm)]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_extensions_are_members_of_the_class(d, seed):
    rng = np.random.default_rng(seed)
    members = _equivalence_class(_random_dag(rng, d))
    directed, undirected = _cpdag(members)
    keys = {m.tobytes() for m in members}
    for _ in range(20):
        assert sample_consistent_extension(directed, undirected, rng).tobytes() in keys


def test_extensions_cover_the_chain_class_with_documented_frequencies():
    undirected = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], bool)
    rng = np.random.default_rng(0)
    draws = [sample_consistent_extension(np.zeros((3, 3), bool), undirected, rng) for _ in range(4000)]
    _, counts = np.unique(np.stack(draws).reshape(4000, -1), axis=0, return_counts=True)
    members = _equivalence_class(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]))
    assert len(counts) == len(members) == 3
    np.testing.assert_allclose(np.sort(counts) / 4000, [0.25, 0.25, 0.5], atol=0.03)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_extension_of_any_pdag_is_a_dag_on_its_skeleton(d, seed):
    """Invalid inputs (new v-structures forced, directed cycles) still give a DAG."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((d, d)) < 0.6, k=1)
    kind = rng.integers(0, 3, size=(d, d))  # 0: i -> j, 1: j -> i, 2: undirected
    directed = (upper & (kind == 0)) | (upper & (kind == 1)).T
    undirected = upper & (kind == 2)
    undirected = undirected | undirected.T
    dag = sample_consistent_extension(directed, undirected, rng)
    assert is_dag(dag)
    np.testing.assert_array_equal(dag | dag.T, (directed | directed.T | undirected).astype(np.int8))
    if is_dag(directed):
        assert (dag[directed] == 1).all()  # acyclic directed edges are kept


def test_pdag_from_causallearn_encoding():
    G = np.zeros((4, 4), int)
    G[1, 0], G[0, 1] = 1, -1  # 0 -> 1
    G[1, 2] = G[2, 1] = -1  # 1 - 2
    G[2, 3] = G[3, 2] = 1  # 2 <-> 3, treated as undirected
    directed, undirected = pdag_from_causallearn(G)
    assert {tuple(e) for e in np.argwhere(directed)} == {(0, 1)}
    assert {tuple(e) for e in np.argwhere(undirected)} == {(1, 2), (2, 1), (2, 3), (3, 2)}


# ---------------------------------------------------------------- PC and GES
def _collider(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x0, x1 = rng.standard_normal((2, n))
    return np.column_stack([x0, x1, x0 - x1 + 0.5 * rng.standard_normal(n)])


def _chain(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((n, 3)), axis=1)


COLLIDER = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])


@needs_causallearn
@pytest.mark.parametrize("cls", CAUSALLEARN_CLASSES)
def test_point_estimate_finds_a_collider(cls):
    posterior = cls(random_state=0).fit(_collider()).predict_graph_posterior()
    assert posterior.n_samples == 10
    assert (posterior.samples == COLLIDER).all()
    assert e_shd(COLLIDER, posterior) == 0 and edge_auroc(COLLIDER, posterior) == 1.0


@needs_causallearn
@pytest.mark.parametrize("cls", CAUSALLEARN_CLASSES)
def test_undirected_chain_gives_class_members(cls):
    est = cls(n_extensions=200, random_state=0).fit(_chain())
    assert est.cpdag_undirected_[0].sum() == 4 and not est.cpdag_directed_.any()
    members = {m.tobytes() for m in _equivalence_class(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], np.int8))}
    assert {g.tobytes() for g in est.graphs_} == members
    probs = est.predict_graph_posterior().edge_probs
    assert probs[0, 1] + probs[1, 0] == pytest.approx(1.0) and probs[0, 2] == probs[2, 0] == 0


@needs_causallearn
@pytest.mark.parametrize("cls", CAUSALLEARN_CLASSES)
def test_bootstrap_posterior_marginals_are_frequencies(cls):
    X = _chain(n=60, seed=3)
    B, E = 12, 3
    est = cls(n_bootstrap=B, n_extensions=E, random_state=1).fit(X)
    posterior = est.predict_graph_posterior()
    assert posterior.n_samples == B * E and posterior.is_dag.all()
    np.testing.assert_allclose(posterior.weights, 1 / (B * E))
    probs = posterior.edge_probs
    assert ((probs >= 0) & (probs <= 1)).all()
    np.testing.assert_allclose(probs * B * E, np.round(probs * B * E), atol=1e-9)  # counts
    # extensions keep each bootstrap fit's skeleton, so adjacency frequencies are the fits'
    fit_skeletons = (est.cpdag_directed_ | est.cpdag_directed_.transpose(0, 2, 1)) | est.cpdag_undirected_
    np.testing.assert_allclose(probs + probs.T, fit_skeletons.mean(axis=0))
    assert probs.sum() == pytest.approx(posterior.samples.sum() / (B * E))
    # the same seed gives the same posterior; resampling actually varies the fits
    np.testing.assert_array_equal(clone(est).fit(X).graphs_, est.graphs_)
    assert len({s.tobytes() for s in est.cpdag_undirected_ | est.cpdag_directed_}) > 1


@needs_causallearn
def test_interventions_are_pooled_not_rejected():
    X = _collider()
    mask = np.zeros(X.shape, bool)
    mask[:100, 0] = True
    est = PCEstimator(random_state=0).fit(X, interventions=mask)
    assert np.isfinite(est.score(X, interventions=mask))


@pytest.mark.parametrize("cls", CAUSALLEARN_CLASSES)
def test_missing_causallearn_names_the_extra(cls, monkeypatch):
    for module in ("causallearn.search.ConstraintBased.PC", "causallearn.search.ScoreBased.GES"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install skcausal-meta\[baselines\]"):
        cls().fit(_collider(n=50))


@pytest.mark.parametrize(
    "est, message",
    [
        (PCEstimator(alpha=1.5), "alpha must be"),
        (PCEstimator(indep_test="t"), "indep_test must be"),
        (PCEstimator(n_bootstrap=-1), "n_bootstrap must be"),
        (GESEstimator(n_extensions=0), "n_extensions must be"),
        (GESEstimator(score_func="bdeu"), "score_func must be"),
        (GESEstimator(max_parents=0), "max_parents must be"),
        (RandomDAGEstimator(edges_per_node=-1.0), "edges_per_node must be"),
        (RandomDAGEstimator(n_graphs=0), "n_graphs must be"),
    ],
)
def test_bad_parameters(est, message):
    with pytest.raises(ValueError, match=message):
        est.fit(_collider(n=50))


# ---------------------------------------------------------------- reference baselines
def test_empty_graph():
    posterior = EmptyGraphEstimator().fit(_collider(n=50)).predict_graph_posterior()
    assert posterior.n_samples == 1 and not posterior.samples.any()
    assert e_shd(COLLIDER, posterior) == 2 and edge_auroc(COLLIDER, posterior) == 0.5


def test_random_dags_follow_the_prior_density():
    d, k = 12, 1.5
    est = RandomDAGEstimator(edges_per_node=k, n_graphs=400, random_state=0).fit(np.random.default_rng(0).
                                                                                    standard_normal((30, d)))
    posterior = est.predict_graph_posterior()
    assert posterior.is_dag.all() and posterior.n_samples == 400
    edges = posterior.samples.sum(axis=(1, 2))
    assert abs(edges.mean() - k * d) < 4 * edges.std() / np.sqrt(400)
    # a density above the complete DAG is capped, not an error
    dense = RandomDAGEstimator(edges_per_node=10.0, n_graphs=2, random_state=0).fit(np.ones((5, 3)) + np.eye(5, 3))
    assert (dense.graphs_.sum(axis=(1, 2)) == 3).all()


# ---------------------------------------------------------------- scikit-learn compatibility
CHECKED = [
    EmptyGraphEstimator(),
    RandomDAGEstimator(n_graphs=5, random_state=0),
    PCEstimator(n_extensions=2, random_state=0),
    GESEstimator(n_extensions=2, random_state=0),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    if isinstance(estimator, CAUSALLEARN_CLASSES) and not HAS_CAUSALLEARN:
        pytest.skip(SKIP_REASON)
    check(estimator)


def test_marginals_of_many_equal_graphs_stay_in_unit_interval():
    """49 copies of a graph: summing 49 weights of 1/49 rounds above 1; frequencies do not."""
    posterior = _uniform_posterior(np.repeat(COLLIDER[None].astype(np.int8), 49, axis=0))
    np.testing.assert_array_equal(posterior.edge_probs, COLLIDER)
    assert edge_auroc(COLLIDER, posterior) == 1.0
