"""Tests for skcausal_meta.metrics: hand-worked values, agreement with sklearn/gadjid, errors."""

import itertools
import pickle
from types import SimpleNamespace

import gadjid
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import BaseEstimator
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import GridSearchCV

from skcausal_meta.metrics import (
    e_edge_f1,
    e_shd,
    e_sid,
    edge_auprc,
    edge_auroc,
    edge_ece,
    edge_entropy,
    graph_entropy,
    i_nil,
    log_prob_true_graph,
    make_graph_scorer,
    nil,
    shd,
    sid,
)

# Peters & Buehlmann (2015), "Structural intervention distance", the 5-node example (also the
# example of the R package SID): H1 adds 2 -> 3, H2 reverses 0 -> 1.
G_SID = np.array(
    [[0, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
)
H1_SID = G_SID.copy()
H1_SID[2, 3] = 1
H2_SID = G_SID.copy()
H2_SID[0, 1], H2_SID[1, 0] = 0, 1

# Chain 0 -> 1 -> 2.
CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])


def _posterior(samples, weights=None, edge_probs=None, log_prob=None):
    """A duck-typed GraphPosterior."""
    samples = np.asarray(samples)
    w = np.full(len(samples), 1 / len(samples)) if weights is None else np.asarray(weights)
    probs = np.tensordot(w, samples, axes=1) if edge_probs is None else edge_probs
    post = SimpleNamespace(samples=samples, log_weights=np.log(w), edge_probs=probs)
    if log_prob is not None:
        post.log_prob = log_prob
    return post


def _off_diagonal_loop(matrix):
    """Row-major off-diagonal entries, by explicit loops (independent of the module's masking)."""
    d = len(matrix)
    return np.array([matrix[i][j] for i in range(d) for j in range(d) if i != j])


def _random_dag(rng, d, p=0.4):
    perm = rng.permutation(d)
    upper = np.triu(rng.random((d, d)) < p, k=1).astype(np.int8)
    return upper[np.ix_(perm, perm)]


# ------------------------------------------------------------------------------------------------
# SHD
# ------------------------------------------------------------------------------------------------
def test_shd_hand_worked():
    pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    # pairs: {0,1} reversed, {0,2} extra, {1,2} missing -> 3 (4 when the reversal costs 2)
    assert shd(CHAIN, pred) == 3
    assert shd(CHAIN, pred, reversal_cost=2) == 4
    assert shd(CHAIN, CHAIN) == 0


def test_shd_reversal_counted_once_or_twice():
    reversed_chain = CHAIN.T
    assert shd(CHAIN, reversed_chain) == 2  # two reversed pairs
    assert shd(CHAIN, reversed_chain, reversal_cost=2) == 4
    assert shd(G_SID, H2_SID) == 1


def test_shd_two_cycle_is_one_mismatch_not_a_reversal():
    # true 0 -> 1, predicted 0 <-> 1: the pair differs once, and it is not a reversal
    true = np.array([[0, 1], [0, 0]])
    both = np.array([[0, 1], [1, 0]])
    assert shd(true, both) == 1
    assert shd(true, both, reversal_cost=2) == 1


def _shd_brute_force(a, b, reversal_cost):
    total = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            ta, tb = (a[i, j], a[j, i]), (b[i, j], b[j, i])
            if ta != tb:
                reversal = sum(ta) == 1 and sum(tb) == 1
                total += reversal_cost if reversal else 1
    return total


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    reversal_cost=st.sampled_from([1, 2]),
)
def test_shd_matches_brute_force_and_gadjid(d, seed, reversal_cost):
    rng = np.random.default_rng(seed)
    a = (rng.random((d, d)) < 0.4).astype(np.int8)
    b = (rng.random((d, d)) < 0.4).astype(np.int8)
    np.fill_diagonal(a, 0)
    np.fill_diagonal(b, 0)
    assert shd(a, b, reversal_cost) == _shd_brute_force(a, b, reversal_cost)
    dag_a, dag_b = _random_dag(rng, d), _random_dag(rng, d)
    assert shd(dag_a, dag_b) == gadjid.shd(dag_a, dag_b)[1]  # gadjid counts a reversal once


def test_e_shd_point_mass_and_weights():
    assert e_shd(G_SID, H1_SID) == shd(G_SID, H1_SID)
    assert e_shd(G_SID, H1_SID[None]) == shd(G_SID, H1_SID)
    stack = np.stack([G_SID, H1_SID, H2_SID.T])
    expected = np.dot([0.2, 0.5, 0.3], [shd(G_SID, g) for g in stack])
    assert e_shd(G_SID, stack, weights=[0.2, 0.5, 0.3]) == pytest.approx(expected)
    assert e_shd(G_SID, stack) == pytest.approx(np.mean([shd(G_SID, g) for g in stack]))
    post = _posterior(stack, [0.2, 0.5, 0.3])
    assert e_shd(G_SID, post) == pytest.approx(expected)
    assert e_shd(CHAIN, [CHAIN, CHAIN.T], reversal_cost=2) == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------------
# SID
# ------------------------------------------------------------------------------------------------
def test_sid_textbook_values():
    # Peters & Buehlmann (2015): SID(G, H1) = 0 and SID(G, H2) = 8 although SHD is small for both
    assert sid(G_SID, H1_SID) == 0
    assert sid(G_SID, H2_SID) == 8
    # a wrong edge-direction convention would give gadjid's column->row answer, 2, instead
    assert gadjid.sid(G_SID.astype(np.int8), H2_SID.astype(np.int8), "from column to row")[1] == 2


def test_sid_two_node_hand_worked():
    # true 0 -> 1; empty guess: p(x1 | do x0) wrong, p(x0 | do x1) = p(x0) right -> 1
    true = np.array([[0, 1], [0, 0]])
    assert sid(true, np.zeros((2, 2))) == 1
    # reversed guess gets both effects wrong -> 2
    assert sid(true, true.T) == 2


def test_e_sid_weights_and_cycles():
    stack = np.stack([G_SID, H2_SID])
    assert e_sid(G_SID, stack, weights=[0.25, 0.75]) == pytest.approx(6.0)  # 0.75 * 8
    assert e_sid(G_SID, _posterior(stack)) == pytest.approx(4.0)
    cyclic = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="sample 1 has a directed cycle"):
        e_sid(np.array([[0, 1], [0, 0]]), np.stack([np.zeros((2, 2)), cyclic]))
    # a cyclic sample of weight zero (DiBS+ keeps cyclic particles at log weight -inf) adds nothing
    true = np.array([[0, 1], [0, 0]])
    assert e_sid(true, np.stack([true, cyclic]), weights=[1.0, 0.0]) == 0.0
    from skcausal_meta.models.posterior import GraphPosterior

    assert e_sid(true, GraphPosterior(np.stack([cyclic, np.zeros((2, 2))]), log_weights=[-np.inf, 0.0])) == 1.0
    with pytest.raises(ValueError, match="G_pred must be a DAG"):
        sid(np.array([[0, 1], [0, 0]]), cyclic)
    with pytest.raises(ValueError, match="G_true must be a DAG"):
        sid(cyclic, np.zeros((2, 2)))


# ------------------------------------------------------------------------------------------------
# Edge marginal metrics
# ------------------------------------------------------------------------------------------------
# off-diagonal (row-major) labels 1,0,0,1,0,0 for the chain; probabilities 0.9,0.5,0.1,0.4,0.2,0.3
PROBS = np.array([[0.99, 0.9, 0.5], [0.1, 0.99, 0.4], [0.2, 0.3, 0.99]])


def test_auroc_auprc_hand_worked():
    # AUROC: positive 0.9 beats all 4 negatives, 0.4 beats 3 of them -> 7/8
    assert edge_auroc(CHAIN, PROBS) == pytest.approx(7 / 8)
    # AP: ranks 0.9(+) 0.5(-) 0.4(+) ... -> (1/1 + 2/3) / 2 = 5/6
    assert edge_auprc(CHAIN, PROBS) == pytest.approx(5 / 6)
    # the diagonal is ignored
    assert edge_auroc(CHAIN, PROBS - np.diag(np.diag(PROBS))) == pytest.approx(7 / 8)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(2, 6), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_auroc_auprc_agree_with_sklearn(d, seed, data):
    rng = np.random.default_rng(seed)
    truth = (rng.random((d, d)) < 0.4).astype(np.int8)
    np.fill_diagonal(truth, 0)
    labels = _off_diagonal_loop(truth)
    assume(0 < labels.sum() < len(labels))
    probs = data.draw(arrays(np.float64, (d, d), elements=st.floats(0, 1)))
    scores = _off_diagonal_loop(probs)
    assert edge_auroc(truth, probs) == pytest.approx(roc_auc_score(labels, scores))
    assert edge_auprc(truth, probs) == pytest.approx(average_precision_score(labels, scores))


def test_marginals_from_weighted_samples():
    rng = np.random.default_rng(3)
    samples = (rng.random((7, 4, 4)) < 0.5).astype(np.int8) * (1 - np.eye(4, dtype=np.int8))
    weights = rng.dirichlet(np.ones(7))
    truth = _random_dag(rng, 4, p=0.6)
    marginal = sum(w * g for w, g in zip(weights, samples))
    labels, scores = _off_diagonal_loop(truth), _off_diagonal_loop(marginal)
    assert edge_auroc(truth, samples, weights) == pytest.approx(roc_auc_score(labels, scores))
    expected_ap = average_precision_score(labels, scores)
    assert edge_auprc(truth, samples, weights) == pytest.approx(expected_ap)
    # a posterior's own edge_probs are used as given
    post = _posterior(samples, weights, edge_probs=PROBS[:3, :3])
    assert edge_auroc(CHAIN, post) == pytest.approx(7 / 8)


def test_auroc_auprc_degenerate_graphs_return_nan_with_warning():
    empty, full = np.zeros((3, 3)), 1 - np.eye(3)
    with pytest.warns(UndefinedMetricWarning, match="edge_auroc is undefined"):
        assert np.isnan(edge_auroc(empty, PROBS))
    with pytest.warns(UndefinedMetricWarning, match="edge_auroc is undefined"):
        assert np.isnan(edge_auroc(full, PROBS))
    with pytest.warns(UndefinedMetricWarning, match="edge_auprc is undefined"):
        assert np.isnan(edge_auprc(empty, PROBS))
    assert edge_auprc(full, PROBS) == pytest.approx(1.0)  # every prediction is a true edge


def test_e_edge_f1_hand_worked_and_sklearn():
    other = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]])
    # other: TP 1 (0->1), FP 1 (0->2), FN 1 (1->2) -> 2 / (2 + 2) = 0.5; the chain scores 1
    assert e_edge_f1(CHAIN, np.stack([CHAIN, other])) == pytest.approx(0.75)
    assert e_edge_f1(CHAIN, np.stack([CHAIN, other]), weights=[0.2, 0.8]) == pytest.approx(0.6)
    assert e_edge_f1(CHAIN, other) == pytest.approx(
        f1_score(_off_diagonal_loop(CHAIN), _off_diagonal_loop(other))
    )
    # an empty prediction of an empty graph is exactly right; of the chain it scores 0
    assert e_edge_f1(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0
    assert e_edge_f1(CHAIN, np.zeros((3, 3))) == 0.0


def test_edge_ece_hand_worked():
    true = np.array([[0, 1], [0, 0]])
    # 2 bins: 0.75 in the upper bin (label 1, gap 0.25), 0.25 in the lower (label 0, gap 0.25)
    assert edge_ece(true, np.array([[0, 0.75], [0.25, 0]]), n_bins=2) == pytest.approx(0.25)
    # same bin: mean label 0.5, mean prob 0.5 -> 0
    assert edge_ece(true, np.array([[0, 0.6], [0.4, 0]]), n_bins=1) == pytest.approx(0.0)
    # p = 1 and p = 0 fall in the end bins; a confident correct prediction is calibrated
    assert edge_ece(true, true.astype(float)) == pytest.approx(0.0)
    assert edge_ece(true, true.T.astype(float)) == pytest.approx(1.0)
    # ten bins on the chain: six singleton bins, |label - p| averaged = (0.1+0.5+0.1+0.6+0.2+0.3)/6
    assert edge_ece(CHAIN, PROBS) == pytest.approx(1.8 / 6)
    # a probability on a bin edge goes to the bin it opens (0.57 to [0.57, 0.58), though
    # 0.57 * 100 = 56.99... in floats), so 0.565 and 0.57 are in different bins: (0.43 + 0.565) / 2
    assert edge_ece(true, np.array([[0, 0.57], [0.565, 0]]), n_bins=100) == pytest.approx(0.4975)


# ------------------------------------------------------------------------------------------------
# Entropies and log-probability of the true graph
# ------------------------------------------------------------------------------------------------
def test_graph_entropy_closed_forms():
    four = np.stack([np.zeros((2, 2)), [[0, 1], [0, 0]], [[0, 0], [1, 0]], [[0, 1], [1, 0]]])
    assert graph_entropy(four) == pytest.approx(np.log(4))
    # duplicates are pooled: two graphs, two copies each -> log 2
    assert graph_entropy(four[[0, 0, 1, 1]]) == pytest.approx(np.log(2))
    assert graph_entropy(four, weights=[0.5, 0.5, 0, 0]) == pytest.approx(np.log(2))
    assert graph_entropy(four, weights=[0.1, 0.2, 0.3, 0.4]) == pytest.approx(
        -sum(p * np.log(p) for p in (0.1, 0.2, 0.3, 0.4))
    )
    assert graph_entropy(four[:1]) == 0.0


def test_graph_entropy_matches_graph_posterior():
    from skcausal_meta.models.posterior import GraphPosterior

    rng = np.random.default_rng(0)
    samples = (rng.random((9, 2, 2)) < 0.5).astype(np.int8) * np.array([[0, 1], [1, 0]], np.int8)
    post = GraphPosterior(samples, log_weights=np.log(rng.dirichlet(np.ones(9))))
    assert graph_entropy(post) == pytest.approx(post.entropy())


def test_graph_entropy_exact_for_independent_edges_and_flags_the_cap():
    from skcausal_meta.models.posterior import GraphPosterior

    d = 4
    rng = np.random.default_rng(1)
    probs = rng.uniform(0.05, 0.95, (d, d)) * (1 - np.eye(d))
    off = ~np.eye(d, dtype=bool)
    samples = (rng.random((50, d, d)) < probs).astype(np.int8)

    def bernoulli(G):
        return float(np.log(np.where(G, probs, 1 - probs))[off].sum())

    # brute force over all 2^12 graphs of the product distribution
    graphs = np.array(list(itertools.product((0, 1), repeat=d * (d - 1))), dtype=np.int8)
    full = np.zeros((len(graphs), d, d), dtype=np.int8)
    full[:, off] = graphs
    log_q = np.array([bernoulli(g) for g in full])
    assert np.exp(log_q).sum() == pytest.approx(1.0)
    expected = -(np.exp(log_q) * log_q).sum()
    exact = GraphPosterior(samples, edge_probs=probs, log_prob=bernoulli)
    value, source = graph_entropy(exact, return_source=True)
    assert source == "independent_edges" and value == pytest.approx(expected)
    # a log_prob that is not the product (here: shifted) is not mistaken for it
    other = GraphPosterior(samples, edge_probs=probs, log_prob=lambda G: bernoulli(G) - 0.1)
    assert graph_entropy(other, return_source=True)[1] in ("plugin", "plugin_cap")
    # the plug-in estimate of S distinct uniform samples is its cap, log S
    distinct = np.unique(samples, axis=0)
    assert graph_entropy(distinct, return_source=True) == (pytest.approx(np.log(len(distinct))), "plugin_cap")
    assert graph_entropy(distinct[[0, 0, 1]], return_source=True)[1] == "plugin"


def test_edge_entropy_closed_forms():
    assert edge_entropy(np.full((3, 3), 0.5)) == pytest.approx(np.log(2))
    assert edge_entropy(CHAIN) == 0.0
    expected = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert edge_entropy(np.full((4, 4), 0.25)) == pytest.approx(expected)
    # from samples: two graphs disagreeing on one of the 2 edges -> (log 2 + 0) / 2
    two = np.stack([[[0, 1], [0, 0]], np.zeros((2, 2))])
    assert edge_entropy(two) == pytest.approx(np.log(2) / 2)


def test_log_prob_true_graph_marginals_and_exact():
    true = np.array([[0, 1], [0, 0]])
    probs = np.array([[0, 0.8], [0.3, 0]])
    # product of marginals: log 0.8 + log(1 - 0.3)
    value, source = log_prob_true_graph(true, probs, return_source=True)
    assert value == pytest.approx(np.log(0.8) + np.log(0.7)) and source == "marginals"
    # exact log_prob is used when present
    post = _posterior([true], edge_probs=probs, log_prob=lambda g: -1.25)
    assert log_prob_true_graph(true, post, return_source=True) == (-1.25, "exact")
    # a posterior whose log_prob is not implemented falls back to its marginals
    def not_implemented(graph):
        raise NotImplementedError

    post = _posterior([true], edge_probs=probs, log_prob=not_implemented)
    assert log_prob_true_graph(true, post, return_source=True)[1] == "marginals"
    # a marginal of exactly 0 for a true edge gives -inf, not an error
    assert log_prob_true_graph(true, np.zeros((2, 2))) == -np.inf
    # the exact path checks the true graph's size like the marginal one (numpy would broadcast 1 x 1)
    post = _posterior([true], edge_probs=probs, log_prob=lambda g: float(np.log(0.5) * g.size))
    for wrong in (np.zeros((1, 1)), np.zeros((3, 3))):
        with pytest.raises(ValueError, match=f"G_true has {len(wrong)} nodes but the prediction has 2"):
            log_prob_true_graph(wrong, post)


def test_log_prob_true_graph_with_graph_posterior():
    from skcausal_meta.models.posterior import GraphPosterior

    true = np.array([[0, 1], [0, 0]])
    post = GraphPosterior(np.stack([true, np.zeros((2, 2))]))
    value, source = log_prob_true_graph(true, post, return_source=True)
    assert value == pytest.approx(np.log(0.5)) and source == "marginals"


# ------------------------------------------------------------------------------------------------
# NIL and I-NIL
# ------------------------------------------------------------------------------------------------
def _normal_logpdf(x, mean, sd):
    return -0.5 * np.log(2 * np.pi * sd**2) - 0.5 * ((x - mean) / sd) ** 2


def test_nil_hand_worked_mixture_and_stability():
    # two rows, densities (0.2, 0.6) under graph 1 and 2 for both rows -> -log(0.5*0.2 + 0.5*0.6)
    ll = np.log([[0.2, 0.2], [0.6, 0.6]])
    X = np.zeros((2, 3))
    assert nil(ll, X) == pytest.approx(-np.log(0.4))
    assert nil(ll, X, weights=[1.0, 0.0]) == pytest.approx(-np.log(0.2))
    # log-sum-exp keeps very small densities finite
    assert nil(np.full((3, 2), -1000.0), X) == pytest.approx(1000.0)


def test_nil_correct_likelihood_beats_wrong_one():
    # linear-Gaussian SCM: x0 ~ N(0,1), x1 = 2 x0 + N(0,1), x2 = -x1 + N(0, 0.5^2)
    rng = np.random.default_rng(0)
    n = 2000
    x0 = rng.normal(size=n)
    x1 = 2 * x0 + rng.normal(size=n)
    x2 = -x1 + 0.5 * rng.normal(size=n)
    X = np.c_[x0, x1, x2]

    def correct(X):  # true conditionals
        return (
            _normal_logpdf(X[:, 0], 0, 1)
            + _normal_logpdf(X[:, 1], 2 * X[:, 0], 1)
            + _normal_logpdf(X[:, 2], -X[:, 1], 0.5)
        )[None]

    def wrong(X):  # empty graph with the true marginal variances 1, 5, 5.25
        return (
            _normal_logpdf(X[:, 0], 0, 1)
            + _normal_logpdf(X[:, 1], 0, np.sqrt(5))
            + _normal_logpdf(X[:, 2], 0, np.sqrt(5.25))
        )[None]

    assert nil(correct, X) < nil(wrong, X) - 1.0
    assert nil(correct, X) == pytest.approx(-correct(X).mean())
    # a mixture putting most weight on the correct model sits in between
    both = lambda X: np.vstack([correct(X), wrong(X)])  # noqa: E731
    assert nil(correct, X) < nil(both, X, weights=[0.9, 0.1]) < nil(wrong, X)


def test_i_nil_groups_by_target():
    mask = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=bool)
    X = np.zeros((4, 2))
    ll = -np.array([[1.0, 2.0, 3.0, 10.0]])
    # group {0}: mean nll 2; group {1}: 10 -> (2 + 10) / 2 = 6 (the row mean would be 4)
    assert i_nil(ll, X, mask) == pytest.approx(6.0)

    seen = {}

    def f(X, interventions):
        seen["mask"] = interventions
        return ll

    assert i_nil(f, X, mask.astype(int)) == pytest.approx(6.0)
    assert seen["mask"].dtype == bool and (seen["mask"] == mask).all()


# ------------------------------------------------------------------------------------------------
# Scorers
# ------------------------------------------------------------------------------------------------
class _FixedPosteriorEstimator(BaseEstimator):
    """Returns the chain with `n_wrong` of its edges reversed, whatever the data."""

    def __init__(self, n_wrong=0):
        self.n_wrong = n_wrong

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict_graph_posterior(self):
        graph = CHAIN.copy()
        for i, j in [(0, 1), (1, 2)][: self.n_wrong]:
            graph[i, j], graph[j, i] = 0, 1
        return _posterior(np.stack([graph, CHAIN]), [0.75, 0.25])


def test_scorer_signs():
    est = _FixedPosteriorEstimator(n_wrong=2)
    post = est.predict_graph_posterior()
    X = np.zeros((4, 3))
    assert make_graph_scorer("e_shd", CHAIN)(est, X) == pytest.approx(-e_shd(CHAIN, post)) == -1.5
    assert make_graph_scorer("e_sid", CHAIN)(est, X) == pytest.approx(-e_sid(CHAIN, post))
    assert make_graph_scorer("edge_ece", CHAIN)(est, X) == pytest.approx(-edge_ece(CHAIN, post))
    assert make_graph_scorer("edge_auroc", CHAIN)(est, X) == pytest.approx(edge_auroc(CHAIN, post))
    assert make_graph_scorer("e_shd", CHAIN, reversal_cost=2)(est, X) == pytest.approx(-3.0)
    assert make_graph_scorer(e_shd, CHAIN, greater_is_better=False)(est, X) == pytest.approx(-1.5)
    assert make_graph_scorer(e_shd, CHAIN)(est, X) == pytest.approx(1.5)
    assert pickle.loads(pickle.dumps(make_graph_scorer("e_shd", CHAIN)))(est, X) == -1.5


def test_scorer_in_grid_search_picks_the_true_graph():
    X = np.random.default_rng(0).normal(size=(20, 3))
    for metric in ("e_shd", "edge_auroc", "e_edge_f1"):
        search = GridSearchCV(
            _FixedPosteriorEstimator(),
            {"n_wrong": [2, 0, 1]},
            scoring=make_graph_scorer(metric, CHAIN),
            cv=2,
        ).fit(X)
        assert search.best_params_ == {"n_wrong": 0}, metric


def test_scorer_in_grid_search_over_a_pipeline_scores_its_final_step():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(20, 3))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _FixedPosteriorEstimator()),
        {"_fixedposteriorestimator__n_wrong": [2, 0, 1]},
        scoring=make_graph_scorer("e_shd", CHAIN),
        cv=2,
        error_score="raise",
    ).fit(X)
    assert search.best_params_ == {"_fixedposteriorestimator__n_wrong": 0}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_scorer_bad_metric():
    with pytest.raises(ValueError, match="one of .*'e_edge_f1'.*'e_shd'.*'skeleton_auroc'"):
        make_graph_scorer("shd_typo", CHAIN)
    with pytest.raises(ValueError, match="greater_is_better must be None"):
        make_graph_scorer("e_shd", CHAIN, greater_is_better=True)
    with pytest.raises(ValueError, match="true_graph"):
        make_graph_scorer("e_shd", np.ones((2, 3)))


# ------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "weights, match",
    [
        ([0.5, 0.6], "must sum to 1"),
        ([1.5, -0.5], "non-negative"),
        ([1.0], r"shape \(2,\)"),
        ([np.nan, 1.0], "finite"),
        (np.log([0.5, 0.5]), "non-negative"),
    ],
)
def test_bad_weights(weights, match):
    with pytest.raises(ValueError, match="weights.*" + match):
        e_shd(CHAIN, np.stack([CHAIN, CHAIN.T]), weights=weights)


def test_bad_graph_and_prediction_inputs():
    with pytest.raises(ValueError, match="G_true has 2 nodes but the prediction has 3"):
        e_shd(np.zeros((2, 2)), CHAIN)
    with pytest.raises(ValueError, match="G_true must be a square"):
        shd(np.zeros((2, 3)), CHAIN)
    with pytest.raises(ValueError, match="reversal_cost must be 1 or 2"):
        shd(CHAIN, CHAIN, reversal_cost=3)
    with pytest.raises(ValueError, match="edge probabilities are accepted only as a"):
        e_shd(CHAIN, PROBS)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        edge_auroc(CHAIN, np.where(np.eye(3) == 1, 0, np.nan))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        edge_auroc(CHAIN, PROBS + 0.5)
    with pytest.raises(ValueError, match="weights must be None when prediction is a posterior"):
        e_shd(CHAIN, _posterior([CHAIN]), weights=[1.0])
    with pytest.raises(ValueError, match="weights must be None when prediction is a"):
        edge_auroc(CHAIN, PROBS, weights=[1.0])
    with pytest.raises(ValueError, match="at least 2 nodes"):
        edge_auroc(np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="n_bins"):
        edge_ece(CHAIN, PROBS, n_bins=0)
    # a sampled graph with a self loop, and an empty stack, are errors for every sample-based metric
    looped = CHAIN + np.eye(3, dtype=int)
    for metric in (e_shd, e_edge_f1, graph_entropy):
        args = (looped[None],) if metric is graph_entropy else (CHAIN, looped[None])
        with pytest.raises(ValueError, match=r"prediction must have zero diagonals.*graph 0 has one"):
            metric(*args)
        with pytest.raises(ValueError, match=r"prediction.samples must have zero diagonals"):
            metric(*args[:-1], _posterior(np.stack([CHAIN, looped])))
        args = (np.zeros((0, 3, 3)),) if metric is graph_entropy else (CHAIN, np.zeros((0, 3, 3)))
        with pytest.raises(ValueError, match="prediction must hold at least one graph, got S=0"):
            metric(*args)


def test_bad_likelihood_inputs():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"log_likelihood must have shape \(K, N\) with N = 3"):
        nil(np.zeros((2, 4)), X)
    with pytest.raises(ValueError, match="log_likelihood contains NaN"):
        nil(np.array([[0.0, np.nan, 0.0]]), X)
    with pytest.raises(ValueError, match="X_test"):
        nil(np.zeros((1, 3)), np.array([[0.0, np.nan]] * 3))
    with pytest.raises(ValueError, match=r"weights must have shape \(1,\)"):
        nil(np.zeros((1, 3)), X, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"interventions must have shape"):
        i_nil(np.zeros((1, 3)), X, np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="X_int contains infinity"):
        i_nil(np.zeros((1, 3)), np.full((3, 2), np.inf), np.zeros((3, 2), dtype=bool))
    with pytest.raises(ValueError, match="Expected 2D array"):
        i_nil(np.zeros((1, 3)), np.zeros(3), np.zeros((3, 1), dtype=bool))
