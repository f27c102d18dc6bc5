"""Tests for the plug-in likelihood of graph-only posteriors (numpy/scipy only)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import NotFittedError
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta.metrics import i_nil, nil
from skcausal_meta.models.plugin_likelihood import PluginLikelihood

# 0 -> 1 -> 3, 0 -> 2, 2 -> 3, with weights B[i, j] for i -> j
WEIGHTS = np.array(
    [[0.0, 1.5, -1.0, 0.0], [0.0, 0.0, 0.0, 0.8], [0.0, 0.0, 0.0, 1.2], [0.0, 0.0, 0.0, 0.0]]
)
GRAPH = (WEIGHTS != 0).astype(np.int8)
NOISE_SD = np.array([1.0, 0.5, 0.8, 0.6])


def _sample_linear_gaussian(n, rng, do=None):
    """Rows x = x B + e in topological order 0, 1, 2, 3; ``do = (node, value)`` fixes one node."""
    X = np.zeros((n, 4))
    for j in range(4):
        X[:, j] = X @ WEIGHTS[:, j] + NOISE_SD[j] * rng.normal(size=n)
        if do is not None and do[0] == j:
            X[:, j] = do[1]
    return X


def _implied_covariance():
    # x = e (I - B)^{-1}  =>  Cov = (I - B)^{-T} diag(s^2) (I - B)^{-1}
    inv = np.linalg.inv(np.eye(4) - WEIGHTS)
    return inv.T @ np.diag(NOISE_SD**2) @ inv


def test_converges_to_true_multivariate_normal():
    rng = np.random.default_rng(0)
    X_train, X_test = _sample_linear_gaussian(50_000, rng), _sample_linear_gaussian(300, rng)
    ll = PluginLikelihood().fit(GRAPH, X_train).log_likelihood(X_test)
    exact = multivariate_normal(np.zeros(4), _implied_covariance()).logpdf(X_test)
    assert ll.shape == (1, 300)
    assert np.abs(ll[0] - exact).mean() < 0.01
    assert np.abs(ll[0] - exact).max() < 0.1
    # a graph in the same Markov equivalence class implies the same Gaussian (OLS is exact):
    # reversing 0 -> 2 keeps the skeleton and the v-structure 1 -> 3 <- 2
    equivalent = GRAPH.copy()
    equivalent[0, 2], equivalent[2, 0] = 0, 1
    ll_eq = PluginLikelihood().fit(equivalent, X_train)(X_test)
    assert np.abs(ll_eq[0] - exact).mean() < 0.01
    # the empty graph is far off
    empty = PluginLikelihood().fit(np.zeros((4, 4)), X_train)(X_test)
    assert np.abs(empty[0] - exact).mean() > 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ols_fit_equals_lstsq_with_training_interventions(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 4)) @ rng.normal(size=(4, 4))
    mask = rng.random((80, 4)) < 0.2
    mask[mask.all(axis=1), 0] = False
    model = PluginLikelihood().fit(GRAPH, X, interventions=mask)
    X_new = rng.normal(size=(5, 4))
    expected = np.zeros(5)
    for j in range(4):
        parents = tuple(np.flatnonzero(GRAPH[:, j]).tolist())
        rows = ~mask[:, j]
        design = np.c_[np.ones(rows.sum()), X[rows][:, list(parents)]]
        coef, *_ = np.linalg.lstsq(design, X[rows, j], rcond=None)
        variance = np.mean((X[rows, j] - design @ coef) ** 2)
        fitted = model.mechanisms_[(j, parents)]
        np.testing.assert_allclose(fitted.predictor.intercept, coef[0], atol=1e-10)
        np.testing.assert_allclose(fitted.predictor.coef, coef[1:], atol=1e-10)
        np.testing.assert_allclose(fitted.variance, variance, rtol=1e-10)
        mean = np.c_[np.ones(5), X_new[:, list(parents)]] @ coef
        expected += -0.5 * np.log(2 * np.pi * variance) - 0.5 * (X_new[:, j] - mean) ** 2 / variance
    np.testing.assert_allclose(model(X_new)[0], expected, rtol=1e-9)


def test_intervened_terms_are_dropped_and_intervened_rows_excluded():
    rng = np.random.default_rng(1)
    X_obs = _sample_linear_gaussian(400, rng)
    X_do = _sample_linear_gaussian(100, rng, do=(2, 25.0))
    X_train = np.vstack([X_obs, X_do])
    mask = np.zeros((500, 4), dtype=bool)
    mask[400:, 2] = True
    model = PluginLikelihood().fit(GRAPH, X_train, interventions=mask)
    # node 2's mechanism sees only the observational rows; node 3 uses all rows
    only_obs = PluginLikelihood().fit(GRAPH, X_obs)
    fitted, reference = model.mechanisms_[(2, (0,))], only_obs.mechanisms_[(2, (0,))]
    np.testing.assert_allclose(fitted.predictor.coef, reference.predictor.coef, rtol=1e-10)
    assert fitted.predictor.intercept == pytest.approx(reference.predictor.intercept, rel=1e-10)
    assert fitted.variance == pytest.approx(reference.variance, rel=1e-10)
    # without the mask the do(x2 = 25) rows would pull node 2's intercept far up
    unmasked = PluginLikelihood().fit(GRAPH, X_train).mechanisms_[(2, (0,))]
    assert unmasked.predictor.intercept > 3.0 > abs(fitted.predictor.intercept)
    # evaluation: the masked log-likelihood is the full one minus node 2's term
    X_test = _sample_linear_gaussian(7, rng, do=(2, 3.0))
    test_mask = np.zeros((7, 4), dtype=bool)
    test_mask[:, 2] = True
    node2 = model.mechanisms_[(2, (0,))]
    residual = X_test[:, 2] - node2.predictor.predict(X_test[:, [0]])
    term = -0.5 * np.log(2 * np.pi * node2.variance) - 0.5 * residual**2 / node2.variance
    np.testing.assert_allclose(model(X_test, test_mask), model(X_test) - term, rtol=1e-12)


def test_repeated_graphs_are_fitted_once():
    calls = []

    class CountingRegression(LinearRegression):
        def fit(self, X, y):
            calls.append(X.shape[1])
            return super().fit(X, y)

    rng = np.random.default_rng(2)
    X = _sample_linear_gaussian(100, rng)
    other = GRAPH.copy()
    other[1, 3] = 0  # node 3 now has parents (2,) only
    graphs = np.stack([GRAPH] * 5 + [other] * 3)
    model = PluginLikelihood(regressor=CountingRegression()).fit(graphs, X)
    # unique (node, parents): 0:(), 1:(0,), 2:(0,), 3:(1,2), 3:(2,) -> regressors only for the
    # 4 non-empty parent sets (roots are intercept-only)
    assert len(model.mechanisms_) == 5
    assert sorted(calls) == [1, 1, 1, 2]
    ll = model(X)
    assert ll.shape == (8, 100)
    np.testing.assert_array_equal(ll[:5], np.broadcast_to(ll[0], (5, 100)))
    np.testing.assert_array_equal(ll[5:], np.broadcast_to(ll[5], (3, 100)))
    # a LinearRegression gives the same likelihood as the moment-based OLS
    np.testing.assert_allclose(ll, PluginLikelihood().fit(graphs, X)(X), rtol=1e-9)


def test_nonlinear_regressor_beats_ols_on_nonlinear_data():
    rng = np.random.default_rng(3)

    def sample(n):
        x0 = rng.uniform(-3, 3, size=n)
        return np.c_[x0, np.sin(2 * x0) + 0.1 * rng.normal(size=n)]

    X_train, X_test = sample(300), sample(200)
    graph = np.array([[0, 1], [0, 0]])
    kernel = KernelRidge(kernel="rbf", alpha=0.1, gamma=1.0)
    nonlinear = PluginLikelihood(regressor=kernel).fit(graph, X_train)
    linear = PluginLikelihood().fit(graph, X_train)
    assert nil(nonlinear, X_test) < nil(linear, X_test) - 1.0
    assert not hasattr(kernel, "dual_coef_")  # the given regressor is cloned, not fitted


def test_nil_prefers_true_graph_and_accepts_dataframe():
    rng = np.random.default_rng(4)
    X_train = pd.DataFrame(_sample_linear_gaussian(500, rng), columns=list("abcd"))
    X_test = _sample_linear_gaussian(300, rng)
    graphs = np.stack([GRAPH, np.zeros((4, 4), dtype=np.int8)])
    model = PluginLikelihood().fit(graphs, X_train)
    assert nil(model, X_test, weights=[1.0, 0.0]) < nil(model, X_test, weights=[0.0, 1.0])


def test_bad_input():
    X = np.random.default_rng(5).normal(size=(10, 2))
    cyclic = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"graphs\[1\] has a directed cycle"):
        PluginLikelihood().fit(np.stack([np.zeros((2, 2)), cyclic]), X)
    with pytest.raises(ValueError, match="X_train has 2 columns but graphs have 4 nodes"):
        PluginLikelihood().fit(GRAPH, X)
    with pytest.raises(ValueError, match="X_train contains NaN"):
        PluginLikelihood().fit(np.zeros((2, 2)), np.where(np.eye(10, 2) == 1, np.nan, X))
    must = "parameter of PluginLikelihood must be"
    with pytest.raises(InvalidParameterError, match=f"'regressor' {must} a str among {{'ols'}} .* Got 'kernel'"):
        PluginLikelihood(regressor="kernel").fit(np.zeros((2, 2)), X)
    with pytest.raises(InvalidParameterError, match=f"'regressor' {must} .*implementing 'fit' and 'predict'. Got 3"):
        PluginLikelihood(regressor=3).fit(np.zeros((2, 2)), X)
    with pytest.raises(InvalidParameterError, match=rf"'min_variance' {must} a float in the range \(0.0, inf\). Got 0 "):
        PluginLikelihood(min_variance=0).fit(np.zeros((2, 2)), X)
    with pytest.raises(NotFittedError, match="not fitted"):
        PluginLikelihood().log_likelihood(X)
    mask = np.zeros((10, 2), dtype=bool)
    mask[1:, 0] = True
    with pytest.raises(ValueError, match="node 0 is observed in 1 training rows"):
        PluginLikelihood().fit(np.zeros((2, 2)), X, interventions=mask)
    model = PluginLikelihood().fit(np.zeros((2, 2)), X)
    with pytest.raises(ValueError, match="X has 3 columns but the likelihood was fitted on 2"):
        model(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="interventions must have shape"):
        model(X, np.zeros((3, 2), dtype=bool))


def test_deterministic_node_uses_variance_floor():
    x0 = np.linspace(-1, 1, 20)
    X = np.c_[x0, 3 * x0 + 1]
    model = PluginLikelihood(min_variance=1e-4).fit(np.array([[0, 1], [0, 0]]), X)
    assert model.mechanisms_[(1, (0,))].variance == 1e-4
    assert np.isfinite(model(X)).all()


def test_against_exact_scm_likelihood_on_family_data():
    # The true SCM's exact (truncated) log density must beat any plug-in fit, and the plug-in on
    # the true graph must beat the empty graph on observational rows.
    from skcausal_meta.datasets import make_scm_family

    X, masks, graphs, scms = make_scm_family(
        "id", n_datasets=2, n_nodes=5, n_samples=300, n_interventional=100, random_state=0,
        return_scm=True,
    )
    test_mask = np.zeros((200, 5), dtype=bool)
    test_mask[:100, 0] = True
    test_mask[100:, 3] = True
    for X_train, mask, graph, scm in zip(X, masks, graphs, scms):
        X_obs = scm.sample(200, random_state=1)
        X_int = scm.sample(200, interventions=test_mask, random_state=2)
        exact = lambda X, m=None: scm.log_prob(X, interventions=m)[None]  # noqa: E731
        plugin = PluginLikelihood().fit(np.stack([graph, np.zeros_like(graph)]), X_train, mask)
        true_only, empty_only = [1.0, 0.0], [0.0, 1.0]
        assert nil(exact, X_obs) < nil(plugin, X_obs, true_only) < nil(plugin, X_obs, empty_only)
        assert i_nil(exact, X_int, test_mask) < min(
            i_nil(plugin, X_int, test_mask, true_only), i_nil(plugin, X_int, test_mask, empty_only)
        )
