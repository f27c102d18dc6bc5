"""Tests for the baselines: CPDAG extensions (against brute-force equivalence classes), PC/GES
point and bootstrap posteriors, the reference and trivial baselines, and scikit-learn
compatibility."""

import importlib.util
import itertools
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcausal_meta import metrics as M
from skcausal_meta._validation import is_dag
from skcausal_meta.datasets import r2_sortability, varsortability
from skcausal_meta.metrics import e_shd, edge_auroc
from skcausal_meta.models.baselines import (
    CorrelationEstimator,
    EmptyGraphEstimator,
    GESEstimator,
    PartialCorrelationEstimator,
    PCEstimator,
    R2SortnRegressEstimator,
    RandomDAGEstimator,
    VarSortnRegressEstimator,
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
    assert posterior.n_graphs == 10
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
    assert posterior.n_graphs == B * E and posterior.is_dag.all()
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


def _refused(estimator, name, accepted, got):
    """The message of scikit-learn's InvalidParameterError as a regex (``accepted``, ``got``: regexes)."""
    return rf"^The '{name}' parameter of {estimator} must be {accepted}\. Got {got} instead\.$"


@pytest.mark.parametrize(
    "est, message",
    [
        (PCEstimator(alpha=1.5), _refused("PCEstimator", "alpha", r"a float in the range \(0\.0, 1\.0\)", "1.5")),
        (PCEstimator(indep_test="t"), _refused("PCEstimator", "indep_test", "a str among {.*'fisherz'.*}", "'t'")),
        (PCEstimator(n_bootstrap=-1), _refused("PCEstimator", "n_bootstrap", r"an int in the range \[0, inf\)", "-1")),
        (GESEstimator(n_extensions=0),
         _refused("GESEstimator", "n_extensions", r"an int in the range \[1, inf\)", "0")),
        (GESEstimator(score_func="bdeu"),
         _refused("GESEstimator", "score_func", "a str among {.*'local_score_BIC'.*}", "'bdeu'")),
        (GESEstimator(max_parents=0),
         _refused("GESEstimator", "max_parents", r"an int in the range \[1, inf\) or None", "0")),
        (RandomDAGEstimator(edges_per_node=-1.0),
         _refused("RandomDAGEstimator", "edges_per_node", r"a float in the range \[0\.0, inf\)", "-1.0")),
        (RandomDAGEstimator(n_graphs=0),
         _refused("RandomDAGEstimator", "n_graphs", r"an int in the range \[1, inf\)", "0")),
    ],
)
def test_bad_parameters(est, message):
    with pytest.raises(InvalidParameterError, match=message):
        est.fit(_collider(n=50))


# ---------------------------------------------------------------- reference baselines
def test_empty_graph():
    posterior = EmptyGraphEstimator().fit(_collider(n=50)).predict_graph_posterior()
    assert posterior.n_graphs == 1 and not posterior.samples.any()
    assert e_shd(COLLIDER, posterior) == 2 and edge_auroc(COLLIDER, posterior) == 0.5


def test_random_dags_follow_the_prior_density():
    d, k = 12, 1.5
    est = RandomDAGEstimator(edges_per_node=k, n_graphs=400, random_state=0).fit(np.random.default_rng(0).
                                                                                    standard_normal((30, d)))
    posterior = est.predict_graph_posterior()
    assert posterior.is_dag.all() and posterior.n_graphs == 400
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


# ---------------------------------------------------------------- trivial baselines
TRIVIAL = (CorrelationEstimator, PartialCorrelationEstimator, VarSortnRegressEstimator, R2SortnRegressEstimator)


def _linear_sem(graph, n, rng, low=0.5, high=2.0):
    """Raw (not standardised) linear-Gaussian data with unit noise along the column order of a
    DAG given in topological order."""
    d = graph.shape[0]
    weights = graph * rng.uniform(low, high, size=graph.shape) * rng.choice([-1, 1], size=graph.shape)
    X = np.zeros((n, d))
    for j in range(d):
        X[:, j] = X @ weights[:, j] + rng.standard_normal(n)
    return X


def test_correlation_scores_match_scipy():
    from scipy.stats import pearsonr

    X = _collider(n=200)
    scores = CorrelationEstimator(random_state=0).fit(X).predict_graph_posterior().edge_probs
    for i, j in itertools.permutations(range(3), 2):
        assert scores[i, j] == pytest.approx(abs(pearsonr(X[:, i], X[:, j]).statistic))
    assert not np.diag(scores).any()


def test_partial_correlation_matches_residual_correlation():
    """With many rows the Ledoit-Wolf shrinkage is small: the scores match the correlation of
    the least-squares residuals of each pair given the rest (an independent construction)."""
    rng = np.random.default_rng(0)
    graph = np.triu(rng.random((5, 5)) < 0.5, k=1).astype(int)
    X = _linear_sem(graph, 20000, rng)
    est = PartialCorrelationEstimator(random_state=0).fit(X)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    for i, j in itertools.combinations(range(5), 2):
        rest = [k for k in range(5) if k not in (i, j)]
        residual = [Z[:, a] - Z[:, rest] @ np.linalg.lstsq(Z[:, rest], Z[:, a], rcond=None)[0] for a in (i, j)]
        expected = abs(np.corrcoef(*residual)[0, 1])
        assert est.scores_[i, j] == pytest.approx(expected, abs=0.02)
    assert 0 <= est.shrinkage_ < 0.05


@pytest.mark.parametrize("cls", [CorrelationEstimator, PartialCorrelationEstimator])
def test_dependence_test_level_under_independence(cls):
    rejected = 0
    for seed in range(20):
        X = np.random.default_rng(seed).standard_normal((200, 10))
        est = cls(alpha=0.05, n_graphs=1, random_state=seed).fit(X)
        rejected += int(np.triu(est.scores_ > est.threshold_, 1).sum())
    # 900 independent-pair tests at level 0.05: 45 expected, sd ~6.5. The Fisher z-test of the
    # correlation is exact; shrinkage lowers partial correlations, so that test is conservative.
    if cls is CorrelationEstimator:
        assert 25 < rejected < 65, rejected
    else:
        assert rejected < 65, rejected


def test_dependence_samples_are_randomly_oriented_dags_on_the_significant_pairs():
    est = PartialCorrelationEstimator(n_graphs=200, random_state=0).fit(_collider(n=500))
    posterior = est.predict_graph_posterior()
    assert posterior.is_dag.all()
    skeletons = posterior.samples | posterior.samples.transpose(0, 2, 1)
    np.testing.assert_array_equal(skeletons, np.broadcast_to(est.scores_ > est.threshold_, skeletons.shape))
    # every adjacency appears in both directions across samples, about half the time each
    frequency = posterior.samples.mean(axis=0)[skeletons[0].astype(bool)]
    assert ((frequency > 0.35) & (frequency < 0.65)).all()
    # the posterior's marginals are the scores; resampling keeps them
    np.testing.assert_array_equal(est.predict_graph_posterior(n_graphs=7).edge_probs, est.scores_)


def test_partial_correlation_ranks_the_moral_graph():
    rng = np.random.default_rng(1)
    d = 8
    graph = np.triu(rng.random((d, d)) < 0.3, k=1).astype(int)
    X = _linear_sem(graph, 2000, rng)
    scores = PartialCorrelationEstimator(random_state=0).fit(X).scores_
    moral = graph | graph.T | ((graph @ graph.T) > 0)
    np.fill_diagonal(moral, 0)
    # every pair of the moral graph outranks every pair outside it
    off = ~np.eye(d, dtype=bool)
    assert scores[moral.astype(bool)].min() > scores[off & ~moral.astype(bool)].max()


def test_var_sortnregress_recovers_a_varsortable_dag():
    rng = np.random.default_rng(2)
    d = 6
    graph = np.triu(rng.random((d, d)) < 0.5, k=1).astype(np.int8)
    X = _linear_sem(graph, 3000, rng, low=1.0, high=2.0)
    perm = rng.permutation(d)
    X, graph = X[:, perm], graph[np.ix_(perm, perm)]
    assert varsortability(X, graph) == 1.0
    est = VarSortnRegressEstimator().fit(X)
    np.testing.assert_array_equal(est.predict_graph_posterior().samples[0], graph)


def test_r2_sortnregress_is_scale_invariant_and_follows_r2_order():
    rng = np.random.default_rng(3)
    d = 6
    graph = np.triu(rng.random((d, d)) < 0.5, k=1).astype(np.int8)
    X = _linear_sem(graph, 3000, rng)
    est = R2SortnRegressEstimator().fit(X)
    rescaled = R2SortnRegressEstimator().fit(X * rng.uniform(0.01, 100, size=d))
    np.testing.assert_array_equal(est.order_, rescaled.order_)
    np.testing.assert_array_equal(est.graphs_, rescaled.graphs_)
    # the order is by increasing R^2 of each node given the others (from normal equations)
    corr = np.corrcoef(X, rowvar=False)
    r2 = 1 - 1 / np.diag(np.linalg.inv(corr))
    np.testing.assert_array_equal(est.order_, np.argsort(r2))
    # edges only point forward in the order; a DAG
    rank = np.argsort(est.order_)
    assert (est.coef_[rank[:, None] >= rank[None, :]] == 0).all() and is_dag(est.graphs_[0])
    if r2_sortability(X, graph) == 1.0:
        assert M.e_shd(graph, est.graphs_) == 0


def test_sortnregress_needs_more_rows_than_columns():
    with pytest.raises(ValueError, match="more rows than columns"):
        R2SortnRegressEstimator().fit(np.random.default_rng(0).standard_normal((4, 4)))


@pytest.mark.parametrize("alpha", [0.0, 1.0, "0.1", True])
def test_dependence_bad_alpha(alpha):
    accepted = r"a float in the range \(0\.0, 1\.0\)"
    with pytest.raises(InvalidParameterError, match=_refused("CorrelationEstimator", "alpha", accepted, repr(alpha))):
        CorrelationEstimator(alpha=alpha).fit(_collider(n=50))


@pytest.mark.parametrize("cls", TRIVIAL)
def test_trivial_posteriors_feed_every_metric(cls):
    X = _collider(n=300)
    posterior = cls(random_state=0).fit(X).predict_graph_posterior()
    assert ((posterior.edge_probs >= 0) & (posterior.edge_probs <= 1)).all() and posterior.is_dag.all()
    for name in ("e_shd", "e_sid", "edge_auroc", "edge_auprc", "e_edge_f1", "edge_ece", "skeleton_auroc",
                 "skeleton_auprc", "e_skeleton_f1", "e_orientation_accuracy", "e_cpdag_shd",
                 "e_v_structure_precision", "e_v_structure_recall", "log_prob_true_graph"):
        value = getattr(M, name)(COLLIDER, posterior)
        assert np.isfinite(value) or (name == "log_prob_true_graph" and value == -np.inf), name
    assert np.isfinite(M.graph_entropy(posterior)) and np.isfinite(M.edge_entropy(posterior))
