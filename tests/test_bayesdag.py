"""Tests of BayesDAGEstimator and its sampler."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta.metrics import e_shd
from skcausal_meta.models.devices import torch_generator
from skcausal_meta.models.bayesdag import BayesDAGEstimator
from skcausal_meta.models.bayesdag.anm import anm_log_likelihood, init_mlp, refit_nodes, toggle_gains
from skcausal_meta.models.likelihoods import mlp_input_layer, mlp_output_layers
from skcausal_meta.models.bayesdag.sampler import BayesDAGSampler
from skcausal_meta.models.bayesdag.sghmc import SGHMC

torch.set_num_threads(1)

TRUE_5 = np.zeros((5, 5), int)
TRUE_5[0, 1] = TRUE_5[1, 2] = TRUE_5[0, 3] = TRUE_5[2, 4] = TRUE_5[3, 4] = 1


def _nonlinear_data(n, seed=0):
    """Identifiable nonlinear additive-noise SCM on 5 nodes (TRUE_5)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 5))
    for j in range(5):
        pa = np.flatnonzero(TRUE_5[:, j])
        X[:, j] = sum(np.tanh(2 * X[:, i]) + 0.5 * X[:, i] ** 2 for i in pa) + 0.3 * rng.normal(size=n)
    return X


def _sampler(d=4, chains=3, seed=0):
    gen = torch_generator(np.random.default_rng(seed), torch.device("cpu"))
    X = torch.randn(20, d, generator=gen, dtype=torch.float64)
    return BayesDAGSampler(X, torch.zeros(20, d, dtype=torch.bool), "nonlinear", (4,), chains, 1.0, 1e-3, 1e-3, 0.1, gen)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=6, unique=True))
def test_order_mask_is_step_of_potential_gradient(p):
    """Step(grad p)_ij = 1[p_i > p_j], checked against the definition."""
    p = np.array(p)
    if np.min(np.abs(np.subtract.outer(p, p))[~np.eye(p.size, dtype=bool)]) < 1e-3:
        return  # near-ties: Sinkhorn and Hungarian resolve them arbitrarily
    sampler = _sampler(d=p.size, chains=1)
    mask = sampler.order_mask(torch.tensor(p[None])).detach().numpy()[0]
    np.testing.assert_array_equal(mask, (p[:, None] > p[None, :]).astype(float))


def test_order_mask_has_straight_through_gradient():
    sampler = _sampler()
    p = (0.05 * torch.randn(3, 4, dtype=torch.float64)).requires_grad_(True)
    (grad,) = torch.autograd.grad((sampler.order_mask(p) * torch.randn(3, 4, 4, dtype=torch.float64)).sum(), p)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_sinkhorn_relaxation_is_doubly_stochastic_for_spread_potentials():
    """Potentials that spread to ~0.3 (as chains do) need far more than a few dozen Sinkhorn
    rounds at temperature 0.2 (30 rounds leave row sums off by up to 0.08 at spread 0.1 and by 1
    at spread 0.5); run to tolerance, capped at 300 rounds as in the authors' default, the
    relaxation behind the gradient is doubly stochastic to within 1e-2."""
    sampler = _sampler(d=5, chains=50)
    p = 0.3 * torch.randn(50, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    o = sampler.o_scale * torch.arange(1, 6, dtype=torch.float64)
    soft = sampler._sinkhorn(p.unsqueeze(-1) * o / sampler.sinkhorn_temperature)
    row_error = (soft.sum(-1) - 1).abs().amax((-1))
    assert row_error.max() < 1e-2
    assert (soft.sum(-2) - 1).abs().max() < 1e-9


def test_sghmc_samples_a_gaussian():
    """Preconditioned SG-HMC on U(x) = x^2 / (2 s^2) has stationary variance s^2 (closed form)."""
    gen = torch.Generator().manual_seed(0)
    s = torch.tensor([0.5, 2.0], dtype=torch.float64)
    x = torch.zeros(400, 2, dtype=torch.float64)
    sgh = SGHMC([x], lr=0.02, friction=0.2, generator=gen)
    draws = []
    for t in range(3000):
        sgh.step([x / s**2])
        if t >= 1000 and t % 10 == 0:
            draws.append(x.clone())
    var = torch.cat(draws).var(0)
    np.testing.assert_allclose(var.numpy(), (s**2).numpy(), rtol=0.15)


@pytest.mark.parametrize("mechanism", ["nonlinear", "linear"])
def test_every_sample_is_a_dag_and_reproducible(mechanism):
    X = _nonlinear_data(60)
    params = dict(n_steps=60, thinning=10, n_chains=3, random_state=1)
    a = BayesDAGEstimator(mechanism, **params).fit(X)
    b = BayesDAGEstimator(mechanism, **params).fit(X)
    post = a.predict_graph_posterior()
    assert post.n_graphs == 3 * 3 and post.is_dag.all()
    np.testing.assert_array_equal(a.graphs_, b.graphs_)
    assert np.isfinite(a.score(X))
    mech = a.infer_mechanism_posterior()
    assert mech["theta"][0].shape[0] == post.n_graphs and mech["log_noise_scale"].shape == (9, 5)


def _chain3(n, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = np.tanh(2 * x0) + 0.5 * x0**2 + 0.3 * rng.normal(size=n)
    x2 = np.tanh(2 * x1) + 0.5 * x1**2 + 0.3 * rng.normal(size=n)
    return np.column_stack([x0, x1, x2])


@pytest.mark.slow
def test_eshd_falls_with_n_and_skeleton_is_recovered():
    """Nonlinear chain 0 -> 1 -> 2, 400 steps: with n = 20 the sparsity prior keeps (almost) every
    edge off (E-SHD about 2), with n = 1000 both true edges are in the skeleton with probability
    above 0.9 and the E-SHD is at least 0.5 lower. Measured over data and random_state seeds 0-7
    on CPU: E-SHD(20) 2.00, E-SHD(1000) 0.02-1.14, true skeleton edges 0.92-1.00. (The spurious
    0 - 2 edge is not asserted: it had as much mass as the true ones for one seed.)"""
    truth = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    eshd = {}
    for n in (20, 1000):
        est = BayesDAGEstimator(
            n_steps=400, n_chains=5, thinning=20, lambda_sparse=50.0, learning_rate=1e-3, random_state=0
        )
        post = est.fit(_chain3(n)).predict_graph_posterior()
        eshd[n] = e_shd(truth, post)
    skeleton = post.edge_probs + post.edge_probs.T
    assert skeleton[0, 1] > 0.9 and skeleton[1, 2] > 0.9
    assert eshd[20] > 1.9 and eshd[1000] < eshd[20] - 0.5


@pytest.mark.parametrize("mechanism", ["nonlinear", "linear"])
def test_toggle_gains_equal_brute_force_differences(mechanism):
    """Delta_ij = log p(D | W_ij = 1) - log p(D | W_ij = 0) for every allowed edge (0 elsewhere),
    checked against two full likelihood evaluations per edge; small chunks cover the chunking."""
    gen = torch_generator(np.random.default_rng(0), torch.device("cpu"))
    X = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    sampler = BayesDAGSampler(
        X, torch.zeros(30, 4, dtype=torch.bool), mechanism, (4, 3), 3, 1.0, 1e-3, 1e-3, 0.1, gen
    )
    allowed = sampler.order_mask(torch.randn(3, 4, generator=gen, dtype=torch.float64))
    G = torch.bernoulli(torch.full((3, 4, 4), 0.5, dtype=torch.float64), generator=gen) * allowed
    gains = toggle_gains(mechanism, G, allowed, sampler.theta, sampler.log_scale, X, sampler.mask, 2.0, 50)
    expected = torch.zeros_like(gains)
    for c, i, j in torch.nonzero(allowed).tolist():
        theta = [t[c : c + 1].detach() for t in sampler.theta]
        def log_lik(value):
            g = G[c].clone()
            g[i, j] = value
            return 2.0 * anm_log_likelihood(mechanism, g[None], theta, sampler.log_scale[c : c + 1].detach(), X, sampler.mask).sum()
        expected[c, i, j] = log_lik(1.0) - log_lik(0.0)
    assert float(expected.abs().max()) > 0.1
    torch.testing.assert_close(gains, expected)


@pytest.mark.slow
def test_edges_given_the_true_order_are_the_true_graph():
    """With every chain's potentials held at an order of the true DAG (only W and theta move),
    the last draws are exactly TRUE_5 on the d = 5 nonlinear SCM: the edge block prunes the
    dense start to the true parents and keeps none of the spurious ones."""
    n, orders = 1000, [[0, 1, 3, 2, 4], [0, 3, 1, 2, 4], [0, 1, 2, 3, 4]]
    X = _nonlinear_data(n)
    gen = torch_generator(np.random.default_rng(0), torch.device("cpu"))
    sampler = BayesDAGSampler(
        torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32), torch.zeros(n, 5, dtype=torch.bool),
        "nonlinear", (16,), len(orders), 50.0, 3e-3, 1e-4, 0.1, gen, batch_size=256,
    )
    with torch.no_grad():
        for c, order in enumerate(orders):
            sampler.p[c, order] = 0.1 * torch.arange(4, -1, -1, dtype=torch.float32)
    sampler.p_sampler.lr = 0.0
    graphs = []
    for t in range(600):
        sampler.step()
        if t >= 500 and t % 10 == 0:
            graphs.append(sampler.draw()[0].numpy())
    assert (np.concatenate(graphs) == TRUE_5).all()


@pytest.mark.slow
def test_eshd_falls_with_n_on_the_five_node_scm():
    """d = 5 nonlinear SCM, 600 steps: with n = 1000 the E-SHD is well below that of n = 100,
    where the sparsity prior keeps most edges off, and the true graph holds the most posterior
    mass (issue 3's goal). Measured with data and random_state seeds 0-3 on CPU: E-SHD 2.3-5.1
    -> 0.4-0.9; the true graph is the mode for all four, with mass 0.53-0.73. Without the swap
    move it was the mode for none of seeds 0-2 (after 2000 steps: mass 0.09-0.11, rank 2-4)."""
    def fit(n):
        est = BayesDAGEstimator(n_steps=600, thinning=20, lambda_sparse=50.0, batch_size=256, random_state=0)
        return est.fit(_nonlinear_data(n, seed=0)).predict_graph_posterior()
    post = fit(1000)
    graphs, index = np.unique(post.samples.reshape(post.n_graphs, -1), axis=0, return_inverse=True)
    mass = np.bincount(index.ravel(), weights=post.weights)
    np.testing.assert_array_equal(graphs[np.argmax(mass)].reshape(5, 5), TRUE_5)
    assert e_shd(TRUE_5, post) < e_shd(TRUE_5, fit(100)) - 1.0


def test_swap_moves_put_the_root_first():
    """Chains started in the orders where the estimator's chains used to get stuck (the root 0
    after 1 or after 3, so that an edge out of the root is reversed), with the potentials'
    gradient steps off so that only the swap move can reorder, have the root first after 40
    moves on the d = 5 SCM (n = 1000; held for data seeds 0-5). The moves exchange potentials,
    so each chain keeps its set of values."""
    n, starts = 1000, [[1, 0, 2, 3, 4], [3, 0, 1, 2, 4]]
    X = _nonlinear_data(n, seed=1)
    gen = torch_generator(np.random.default_rng(1), torch.device("cpu"))
    sampler = BayesDAGSampler(
        torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32), torch.zeros(n, 5, dtype=torch.bool),
        "nonlinear", (16,), len(starts), 50.0, 3e-3, 0.0, 0.1, gen, batch_size=256,
    )
    with torch.no_grad():
        for c, order in enumerate(starts):
            sampler.p[c, order] = 0.1 * torch.arange(4, -1, -1, dtype=torch.float32)
    values = np.sort(sampler.p.detach().numpy(), axis=1)
    accepted = torch.stack([sampler.swap_move() for _ in range(40)]).float()
    orders = np.argsort(-sampler.p.detach().numpy(), axis=1)
    assert (orders[:, 0] == 0).all(), orders
    np.testing.assert_array_equal(np.sort(sampler.p.detach().numpy(), axis=1), values)
    assert 0 < accepted.mean() < 1


@pytest.mark.parametrize("mechanism", ["nonlinear", "linear"])
def test_refit_nodes_treats_equal_configurations_equally(mechanism):
    """Regressions that share parents along the first axis start from the same parameters, so
    they end with the same fit and log likelihood (the swap move compares its two sides fairly);
    the fit beats predicting zero, the log likelihood of a unit-variance standardised node."""
    X = torch.tensor(_nonlinear_data(200), dtype=torch.float32)
    X = (X - X.mean(0)) / X.std(0)
    parents = torch.zeros(2, 3, 5)
    parents[:, 0, 0] = parents[:, 1, :2] = 1.0
    nodes = torch.tensor([1, 2, 0]).expand(2, 3)
    gen = torch.Generator().manual_seed(0)
    mask = torch.zeros(200, 5, dtype=torch.bool)
    theta, log_lik, log_scale = refit_nodes(mechanism, (8,), X, mask, parents, nodes, gen)
    torch.testing.assert_close(log_lik[0], log_lik[1])
    null = -0.5 * 200 * (np.log(2 * np.pi) + 1)
    assert (log_lik[:, :2] > null + 20).all()
    torch.testing.assert_close(log_lik[:, 2], torch.full_like(log_lik[:, 2], null), atol=1.0, rtol=0)
    assert log_scale.shape == (2, 3) and theta[0].shape[:2] == (2, 3)


@pytest.mark.parametrize("hidden", [(8,), (6, 5)])
def test_nonlinear_refit_equals_autograd_and_adam(hidden):
    """The hand-written gradients and Adam update of the nonlinear refit give what autograd and
    ``torch.optim.Adam`` give from the same start, in float64 (rows intervened on a node and
    rows outside ``fit_rows`` left out of its fit)."""
    X = torch.tensor(_nonlinear_data(120, seed=3), dtype=torch.float64)
    X = (X - X.mean(0)) / X.std(0)
    mask = torch.zeros(120, 5, dtype=torch.bool)
    mask[:30, 2] = True
    parents = torch.zeros(2, 3, 5, dtype=torch.float64)
    parents[0, 0, :2] = parents[1, 0, [0, 1, 3]] = parents[:, 1, 4] = 1.0
    nodes = torch.tensor([[2, 3, 0], [2, 3, 0]])
    fit_rows = torch.arange(10, 110)
    theta, log_lik, _ = refit_nodes("nonlinear", hidden, X, mask, parents, nodes, torch.Generator().manual_seed(5),
                                    fit_rows=fit_rows, n_steps=40)

    # the same start (the generator's first draws), fitted by autograd and torch's Adam
    weights, biases = init_mlp([5, *hidden, 1], torch.Generator().manual_seed(5), X.dtype, X.device, (3, 1))
    reference = [t.expand(2, *t.shape).reshape(6, *t.shape[1:]).clone().requires_grad_(True) for t in weights + biases]
    adam = torch.optim.Adam(reference, lr=0.05)
    G = parents.reshape(6, 5, 1)
    y, keep = X.T[nodes.reshape(-1)][:, fit_rows], (~mask.T[nodes.reshape(-1)][:, fit_rows]).double()
    n_layers = len(reference) // 2
    for _ in range(40):
        hidden_out = mlp_input_layer(G, reference[0], reference[n_layers], X[fit_rows])
        mean = mlp_output_layers(reference[:n_layers], reference[n_layers:], hidden_out)[..., 0]
        loss = (((y - mean) ** 2 * keep).sum(-1) / keep.sum(-1)).sum()
        adam.zero_grad()
        loss.backward()
        adam.step()
    for fitted, expected in zip(theta, reference):
        torch.testing.assert_close(fitted, expected.detach()[:, 0].reshape(fitted.shape), rtol=1e-9, atol=1e-9)
    assert torch.isfinite(log_lik).all()


def test_linear_refit_is_least_squares():
    """The linear refit equals numpy's least squares on the parents (rows intervened on the node
    left out), with the noise variance its mean squared residual."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    X[:, 3] += 2 * X[:, 0] - X[:, 1]
    mask = np.zeros((50, 4), bool)
    mask[:10, 3] = True
    parents = torch.tensor([[0.0, 1.0, 1.0, 0.0]])[None]
    theta, log_lik, _ = refit_nodes(
        "linear", (4,), torch.tensor(X), torch.tensor(mask), parents, torch.tensor([[3]]), torch.Generator()
    )
    coef, *_ = np.linalg.lstsq(X[10:, 1:3], X[10:, 3], rcond=None)
    var = np.mean((X[10:, 3] - X[10:, 1:3] @ coef) ** 2)
    np.testing.assert_allclose(theta[0][0, 0].numpy(), [0, *coef, 0], atol=1e-6)
    np.testing.assert_allclose(float(log_lik[0, 0]), -0.5 * 40 * (np.log(2 * np.pi * var) + 1), rtol=1e-8)


def test_mini_batch_log_likelihood_is_unbiased():
    """The scaled mini-batch log likelihood averages to the full-data one (computed directly)."""
    sampler = _sampler(d=3, chains=2)
    sampler.batch_size = 5
    G = torch.tensor([[0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.float64).expand(2, 3, 3)
    theta = [t.detach() for t in sampler.theta]
    with torch.no_grad():
        full = anm_log_likelihood("nonlinear", G, theta, sampler.log_scale, sampler.X, sampler.mask).sum(-1)
        draws = torch.stack([sampler._log_lik(G, theta, sampler.log_scale) for _ in range(4000)])
    se = draws.std(0) / np.sqrt(draws.shape[0])
    assert (draws.mean(0) - full).abs().max() < 4 * se.max()
    assert not torch.allclose(draws[0], draws[1])  # different rows each call


def test_batch_size_of_n_or_more_uses_every_row():
    X = _nonlinear_data(30)
    params = dict(n_steps=20, thinning=10, n_chains=2, random_state=0)
    full = BayesDAGEstimator(**params).fit(X)
    np.testing.assert_array_equal(full.graphs_, BayesDAGEstimator(batch_size=30, **params).fit(X).graphs_)
    np.testing.assert_array_equal(full.graphs_, BayesDAGEstimator(batch_size=500, **params).fit(X).graphs_)


def _refused(name, accepted, got):
    """The message of scikit-learn's InvalidParameterError as a regex (``accepted``, ``got``: regexes)."""
    return rf"^The '{name}' parameter of BayesDAGEstimator must be {accepted}\. Got {got} instead\.$"


BURN_IN = r"a float in the range \[0\.0, 1\.0\)"
FRICTION = r"a float in the range \(0\.0, 1\.0\]"
POSITIVE_INT_OR_NONE = r"an int in the range \[1, inf\) or None"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"mechanism": "spline"}, _refused("mechanism", "a str among {.*'linear'.*}", "'spline'")),
        ({"n_chains": 0}, _refused("n_chains", r"an int in the range \[1, inf\)", "0")),
        ({"burn_in": 1.0}, _refused("burn_in", BURN_IN, "1.0")),
        ({"burn_in": False}, _refused("burn_in", BURN_IN, "False")),
        ({"friction": 2.0}, _refused("friction", FRICTION, "2.0")),
        ({"lambda_sparse": -1.0}, _refused("lambda_sparse", r"a float in the range \[0\.0, inf\) or None", "-1.0")),
        ({"lambda_sparse": float("nan")}, _refused("lambda_sparse", r"a float in the range \[0\.0, inf\) or None",
                                                   "nan")),
        ({"learning_rate": float("inf")}, _refused("learning_rate", r"a float in the range \(0\.0, inf\)", "inf")),
        ({"friction": True}, _refused("friction", FRICTION, "True")),
        ({"hidden_layers": ()}, _refused("hidden_layers", "a non-empty tuple or list of ints >= 1", r"\(\)")),
        ({"batch_size": 0}, _refused("batch_size", POSITIVE_INT_OR_NONE, "0")),
        ({"swap_every": 0}, _refused("swap_every", POSITIVE_INT_OR_NONE, "0")),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        BayesDAGEstimator(**params).fit(_nonlinear_data(20))


def test_too_few_steps_after_burn_in_for_one_sample_is_refused():
    with pytest.raises(ValueError, match=r"n_steps=600 with burn_in=0.5 leaves fewer than thinning=500 steps"):
        BayesDAGEstimator(thinning=500, n_steps=600).fit(_nonlinear_data(20))


@pytest.mark.parametrize("mechanism", ["nonlinear", "linear"])
def test_divergence_names_the_step(mechanism):
    """A huge step size throws the mechanism parameters far beyond their prior at the first step."""
    with pytest.raises(FloatingPointError, match=r"diverged at step 0: .*learning_rate \(got 1e\+30\)"):
        BayesDAGEstimator(mechanism, n_steps=40, thinning=10, learning_rate=1e30, random_state=0).fit(
            _nonlinear_data(20)
        )


def test_one_row_is_too_few_and_two_suffice():
    """Chains do not split the rows, so their number puts no bound on n; two rows suffice."""
    params = dict(n_steps=20, thinning=10, n_chains=12, random_state=0)
    with pytest.raises(ValueError, match="n_samples=1 is too few: BayesDAGEstimator needs at least 2 rows"):
        BayesDAGEstimator(**params).fit(_nonlinear_data(1))
    est = BayesDAGEstimator(**params).fit(_nonlinear_data(2))
    assert np.isfinite(est.predict_graph_posterior().edge_probs).all() and np.isfinite(est.score(_nonlinear_data(2)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_runs():
    est = BayesDAGEstimator(n_steps=60, thinning=10, device="cuda", random_state=0).fit(_nonlinear_data(60))
    assert est.predict_graph_posterior().is_dag.all()
