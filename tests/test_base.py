"""Tests of the estimator contract and GraphPosterior (skcausal_meta.models.base)."""

import os

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from scipy.stats import norm
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta.models.plugin_likelihood import PluginLikelihood
from skcausal_meta.models.base import BaseCausalEstimator
from skcausal_meta.models.devices import resolve_device
from skcausal_meta.models.posterior import GraphPosterior


class _FixedGraphEstimator(BaseCausalEstimator):
    """Minimal subclass: the posterior is one fixed graph (the empty one by default)."""

    def __init__(self, graph=None, standardize=True, device="auto", random_state=None):
        self.graph = graph
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _fit(self, X, mask):
        d = X.shape[1]
        self.fixed_graph_ = np.zeros((d, d), np.int8) if self.graph is None else np.asarray(self.graph)
        self.seen_mask_ = mask

    def _posterior(self, n_graphs, rng):
        return GraphPosterior(self.fixed_graph_[None])


CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.int8)
CYCLE = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.int8)


def _data(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1) + 5.0
    return X


# ----------------------------------------------------------------------------- GraphPosterior
def test_posterior_weights_and_marginals():
    samples = np.stack([CHAIN, CHAIN.T, np.zeros((3, 3), np.int8)])
    post = GraphPosterior(samples, log_weights=np.log([2.0, 1.0, 1.0]) + 7.0)
    np.testing.assert_allclose(post.weights, [0.5, 0.25, 0.25])
    np.testing.assert_allclose(post.edge_probs, 0.5 * CHAIN + 0.25 * CHAIN.T)
    assert post.is_dag.tolist() == [True, True, True]
    assert GraphPosterior(CYCLE).is_dag.tolist() == [False]
    assert post.samples.dtype == np.int8 and post.node_names == ["x0", "x1", "x2"]


def test_posterior_uniform_and_explicit_edge_probs():
    post = GraphPosterior(np.stack([CHAIN, CHAIN]))
    np.testing.assert_allclose(post.weights, [0.5, 0.5])
    probs = np.full((3, 3), 0.3)
    np.fill_diagonal(probs, 0)
    post = GraphPosterior(CHAIN[None], edge_probs=probs)
    np.testing.assert_allclose(post.edge_probs, probs)


def test_posterior_entropy_merges_duplicates():
    # Two distinct graphs with weights (0.5+0.25, 0.25): entropy of that distribution.
    samples = np.stack([CHAIN, CHAIN, CHAIN.T])
    post = GraphPosterior(samples, log_weights=np.log([0.5, 0.25, 0.25]))
    expected = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    assert post.entropy() == pytest.approx(expected)
    assert GraphPosterior(np.stack([CHAIN, CHAIN])).entropy() == pytest.approx(0.0)


def test_posterior_log_prob():
    post = GraphPosterior(CHAIN[None])
    assert not post.has_log_prob
    with pytest.raises(NotImplementedError):
        post.log_prob(CHAIN)
    post = GraphPosterior(CHAIN[None], log_prob=lambda g: -float(g.sum()))
    assert post.log_prob(CHAIN) == -2.0


def test_posterior_to_networkx_uses_names_and_weights():
    post = GraphPosterior(np.stack([CHAIN, np.zeros((3, 3), np.int8)]), node_names=["a", "b", "c"])
    graph = post.to_networkx()
    assert list(graph.nodes) == ["a", "b", "c"]
    assert sorted(graph.edges) == [("a", "b"), ("b", "c")]
    assert graph["a"]["b"]["weight"] == pytest.approx(0.5)


def test_posterior_save_load_roundtrip(tmp_path):
    post = GraphPosterior(
        np.stack([CHAIN, CYCLE]), log_weights=[0.0, -1.0], node_names=["a", "b", "c"]
    )
    path = tmp_path / "post.npz"
    post.save(path)
    assert os.listdir(tmp_path) == ["post.npz"]  # no temp file left behind
    back = GraphPosterior.load(path)
    np.testing.assert_array_equal(back.samples, post.samples)
    np.testing.assert_allclose(back.log_weights, post.log_weights)
    np.testing.assert_allclose(back.edge_probs, post.edge_probs)
    assert back.node_names == ["a", "b", "c"]
    probs = np.full((3, 3), 0.25)
    np.fill_diagonal(probs, 0)
    GraphPosterior(CHAIN[None], edge_probs=probs).save(path)
    np.testing.assert_allclose(GraphPosterior.load(path).edge_probs, probs)


def test_posterior_sample_follows_weights():
    post = GraphPosterior(np.stack([CHAIN, CHAIN.T]), log_weights=np.log([0.9, 0.1]))
    draws = post.sample(2000, random_state=0)
    frac = (draws == CHAIN).all(axis=(1, 2)).mean()
    assert abs(frac - 0.9) < 0.03
    np.testing.assert_array_equal(draws, post.sample(2000, random_state=0))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"samples": np.ones((1, 3, 3))}, "diagonal"),
        ({"samples": CHAIN[None], "log_weights": [np.nan]}, "log_weights"),
        ({"samples": CHAIN[None], "log_weights": [0.0, 0.0]}, "log_weights"),
        ({"samples": CHAIN[None], "edge_probs": np.full((3, 3), 2.0)}, "edge_probs"),
        ({"samples": CHAIN[None], "edge_probs": np.full((3, 3), 0.5)}, "edge_probs must have a zero diagonal"),
        ({"samples": CHAIN[None], "node_names": ["a"]}, "node_names"),
        ({"samples": np.zeros((0, 3, 3))}, "at least one"),
    ],
)
def test_posterior_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GraphPosterior(**kwargs)


# ----------------------------------------------------------------------------- estimator
def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        resolve_device("banana")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")


def test_score_matches_independent_gaussian_density():
    """Empty graph + plug-in likelihood = independent Gaussians fitted by maximum likelihood.

    Checked against scipy in the original units, with and without standardisation (the
    log-Jacobian must make both identical).
    """
    X, X_test = _data(seed=0), _data(n=30, seed=1)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    expected = norm.logpdf(X_test, mu, sd).sum(axis=1).mean()
    for standardize in (True, False):
        est = _FixedGraphEstimator(standardize=standardize).fit(X)
        assert est.score(X_test) == pytest.approx(expected, rel=1e-9)


def test_score_drops_intervened_terms():
    X, X_test = _data(seed=0), _data(n=30, seed=1)
    mask = np.zeros(X_test.shape, bool)
    mask[:, 0] = True
    mu, sd = X.mean(axis=0), X.std(axis=0)
    expected = norm.logpdf(X_test[:, 1:], mu[1:], sd[1:]).sum(axis=1).mean()
    est = _FixedGraphEstimator().fit(X)
    assert est.score(X_test, interventions=mask) == pytest.approx(expected)


def test_score_sample_weight_is_a_weighted_mean():
    X, X_test = _data(seed=0), _data(n=30, seed=1)
    weights = np.linspace(0.0, 2.0, 30)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    per_row = norm.logpdf(X_test, mu, sd).sum(axis=1)
    est = _FixedGraphEstimator().fit(X)
    assert est.score(X_test, sample_weight=weights) == pytest.approx(np.average(per_row, weights=weights))


def test_score_reuses_the_plugin_fit_until_refit(monkeypatch):
    """Scoring groups of rows one at a time (I-NIL) fits the plug-in likelihood once; a refit on
    other rows fits it anew, so the score follows the new training data."""
    fits = []
    original = PluginLikelihood.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PluginLikelihood, "fit", counting_fit)
    X, X_test = _data(seed=0), _data(n=30, seed=1)
    est = _FixedGraphEstimator().fit(X)
    first = [est.score(X_test[:10]), est.score(X_test[10:])]
    assert len(fits) == 1
    est.fit(_data(seed=2))
    refitted = est.score(X_test[:10])
    assert len(fits) == 2 and refitted != first[0]
    est.fit(X)
    assert est.score(X_test[:10]) == first[0]


def test_default_plugin_likelihood_matches_ols_for_chain():
    rng = np.random.default_rng(3)
    n = 200
    x0 = rng.normal(size=n)
    x1 = 2 * x0 + rng.normal(size=n)
    x2 = -x1 + 0.5 * rng.normal(size=n)
    X = np.column_stack([x0, x1, x2])
    mask = np.zeros_like(X, dtype=bool)
    ll = PluginLikelihood().fit(CHAIN[None], X, mask).log_likelihood(X, mask)
    # Independent: statsmodels-free OLS through numpy.polyfit per node.
    expected = norm.logpdf(x0, x0.mean(), x0.std())
    for child, parent in ((x1, x0), (x2, x1)):
        slope, icpt = np.polyfit(parent, child, 1)
        resid = child - (icpt + slope * parent)
        expected = expected + norm.logpdf(resid, 0, np.sqrt(np.mean(resid**2)))
    np.testing.assert_allclose(ll[0], expected, rtol=1e-8)


def test_pandas_names_flow_into_posterior():
    X = pd.DataFrame(_data(), columns=["rain", "wet", "slip"])
    est = _FixedGraphEstimator(graph=CHAIN).fit(X)
    assert list(est.feature_names_in_) == ["rain", "wet", "slip"]
    post = est.predict_graph_posterior()
    assert post.node_names == ["rain", "wet", "slip"]
    assert ("rain", "wet") in post.to_networkx().edges
    assert est.sample_graphs(4, random_state=0).shape == (4, 3, 3)


@pytest.mark.parametrize(
    "X, interventions, match",
    [
        (np.column_stack([np.ones(20), np.arange(20.0)]), None, "constant"),
        (np.where(np.eye(20, 3) == 1, np.nan, 1.0) + np.arange(20.0)[:, None], None, "NaN"),
        (np.arange(20.0)[:, None], None, "feature"),
        (_data(n=1), None, "sample"),
        (_data(n=20), np.ones((20, 3), bool), "every node"),
        (_data(n=20), np.zeros((20, 2), bool), "shape"),
        (_data(n=20), np.zeros((20, 3), float), "dtype"),
    ],
)
def test_fit_rejects_bad_input(X, interventions, match):
    with pytest.raises(ValueError, match=match):
        _FixedGraphEstimator().fit(X, interventions=interventions)


def test_min_samples_hook_names_n_and_the_reason():
    class _Batched(_FixedGraphEstimator):
        def _min_samples(self):
            return 8, "one mini-batch holds 8 rows"

    with pytest.raises(ValueError, match=r"n_samples=5 is too few: _Batched needs at least 8 rows \(one mini-batch"):
        _Batched().fit(_data(n=5))
    assert _Batched().fit(_data(n=8)).fixed_graph_.shape == (3, 3)


def test_fit_rejects_values_too_large_to_standardise():
    X = _data()
    X[:, 1] *= 1e307  # finite, but the variance overflows
    with pytest.raises(ValueError, match=r"column 1 \(index 1\) is too large to standardise"):
        _FixedGraphEstimator().fit(X)


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    est = _FixedGraphEstimator(graph=CHAIN).fit(_data())
    before = {k: v for k, v in vars(est).items()}
    with pytest.raises(ValueError, match="constant"):
        est.fit(np.column_stack([np.ones(20), np.arange(20.0)]))
    assert vars(est).keys() == before.keys() and est.n_features_in_ == 3
    assert est.score(_data(n=10, seed=1)) == _FixedGraphEstimator(graph=CHAIN).fit(_data()).score(_data(n=10, seed=1))


@pytest.mark.parametrize("weights", [-np.ones(30), np.ones(5), np.zeros(30), np.full(30, np.nan)])
def test_score_rejects_bad_sample_weight(weights):
    est = _FixedGraphEstimator().fit(_data())
    with pytest.raises(ValueError, match=r"sample_weight must hold 30 finite non-negative weights"):
        est.score(_data(n=30, seed=1), sample_weight=weights)


def test_fit_rejects_an_unknown_device_for_every_model():
    with pytest.raises(InvalidParameterError, match="The 'device' parameter of _FixedGraphEstimator must be 'auto', "
                                                    "a device name .* Got 'foo' instead"):
        _FixedGraphEstimator(device="foo").fit(_data())
    if not torch.cuda.is_available():  # a device torch names but this machine lacks
        with pytest.raises(ValueError, match="device='cuda' was requested but no CUDA device is available"):
            _FixedGraphEstimator(device="cuda").fit(_data())


def test_fit_rejects_bad_standardize():
    with pytest.raises(InvalidParameterError, match="The 'standardize' parameter of _FixedGraphEstimator must be an "
                                                    "instance of 'bool' or an instance of 'numpy.bool'. Got 'yes'"):
        _FixedGraphEstimator(standardize="yes").fit(_data())


def test_trainable_tag():
    assert get_tags(_FixedGraphEstimator()).trainable is False

    class _Trainable(_FixedGraphEstimator):
        _trainable = True

    assert get_tags(_Trainable()).trainable is True


def test_interventions_routed_through_pipeline():
    X = _data(n=40)
    mask = np.zeros(X.shape, bool)
    mask[:10, 1] = True
    with sklearn.config_context(enable_metadata_routing=True):
        est = _FixedGraphEstimator().set_fit_request(interventions=True)
        est.set_score_request(interventions=True)
        pipe = make_pipeline(StandardScaler(), est).fit(X, interventions=mask)
        np.testing.assert_array_equal(pipe[-1].seen_mask_, mask)
        assert np.isfinite(pipe.score(X, interventions=mask))


def test_infer_mechanism_posterior_not_defined():
    with pytest.raises(NotImplementedError, match="_FixedGraphEstimator"):
        _FixedGraphEstimator().fit(_data()).infer_mechanism_posterior()
