"""Tests of the shared likelihoods and of DibsEstimator."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_t, norm
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta._validation import is_dag
from skcausal_meta.models.dibs import DibsEstimator
from skcausal_meta.models.dibs.models import log_graph_prior
from skcausal_meta.models.dibs.weights import particle_posterior
from skcausal_meta.models.bge import BGe
from skcausal_meta.models.likelihoods import linear_gaussian_log_likelihood, mlp_forward

torch.set_num_threads(1)

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
DAGS3 = [
    g
    for bits in itertools.product([0, 1], repeat=6)
    if is_dag(g := np.insert(np.array(bits), [0, 3, 6], 0).reshape(3, 3))
]


def _chain_data(n, seed=0, weights=(0.9, 0.7)):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = weights[0] * x0 + rng.normal(size=n)
    x2 = weights[1] * x1 + rng.normal(size=n)
    return np.column_stack([x0, x1, x2])


# ------------------------------------------------------------------ BGe, independently
def _normal_wishart_log_marginal(X, alpha_mu, alpha_w, t):
    """log p(X) under the Normal-Wishart model, as a product of one-step-ahead Student-t
    predictive densities with conjugate updates (no determinant formula involved)."""
    n, p = X.shape
    if p == 0:
        return 0.0
    T, mu, a_mu, a_w, total = t * np.eye(p), np.zeros(p), alpha_mu, alpha_w, 0.0
    for x in X:
        dof = a_w - p + 1
        total += multivariate_t(loc=mu, shape=(a_mu + 1) / (a_mu * dof) * T, df=dof).logpdf(x)
        T = T + a_mu / (a_mu + 1) * np.outer(x - mu, x - mu)
        mu, a_mu, a_w = (a_mu * mu + x) / (a_mu + 1), a_mu + 1, a_w + 1
    return total


def _bge_reference(G, X, mask, alpha_mu=1.0):
    d = X.shape[1]
    alpha_lambd = d + 2.0
    t = alpha_mu * (alpha_lambd - d - 1) / (alpha_mu + 1)
    total = 0.0
    for j in range(d):
        rows = ~mask[:, j]
        pa = list(np.flatnonzero(G[:, j]))
        fam = pa + [j]
        total += _normal_wishart_log_marginal(X[rows][:, fam], alpha_mu, alpha_lambd - d + len(fam), t)
        total -= _normal_wishart_log_marginal(X[rows][:, pa], alpha_mu, alpha_lambd - d + len(pa), t)
    return total


@pytest.mark.parametrize("with_mask", [False, True])
def test_bge_equals_sequential_normal_wishart_marginal(with_mask):
    X = _chain_data(12, seed=3)
    mask = np.zeros_like(X, dtype=bool)
    if with_mask:
        mask[:4, 1] = True
        mask[4:6, 0] = True
    bge = BGe(torch.tensor(X), torch.tensor(mask))
    graphs = [np.zeros((3, 3), int), CHAIN, CHAIN.T, np.triu(np.ones((3, 3), int), 1)]
    ours = bge.log_marginal_likelihood(torch.tensor(np.array(graphs), dtype=torch.float64)).numpy()
    expected = [_bge_reference(g, X, mask) for g in graphs]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_bge_predictive_is_ratio_of_marginals():
    X, X_new = _chain_data(20, seed=1), _chain_data(3, seed=2)
    mask_new = np.array([[False, False, False], [True, False, False], [False, False, True]])
    G = torch.tensor(CHAIN, dtype=torch.float64)
    bge = BGe(torch.tensor(X), torch.zeros(20, 3, dtype=torch.bool))
    pred = bge.log_predictive(G, torch.tensor(X_new), torch.tensor(mask_new)).numpy()
    for r in range(3):
        mask = np.vstack([np.zeros((20, 3), bool), mask_new[r : r + 1]])
        bigger = BGe(torch.tensor(np.vstack([X, X_new[r : r + 1]])), torch.tensor(mask))
        expected = bigger.log_marginal_likelihood(G) - bge.log_marginal_likelihood(G)
        assert pred[r] == pytest.approx(float(expected), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**16), st.integers(3, 6))
def test_bge_score_equivalent_and_soft_path_agrees(seed, d):
    """Markov-equivalent DAGs get the same BGe score (reversing a covered edge), and the
    differentiable soft-graph path equals the deduplicated hard-graph path on 0/1 input."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(15, d)) @ rng.normal(size=(d, d))
    bge = BGe(torch.tensor(X), torch.zeros(15, d, dtype=torch.bool))
    order = rng.permutation(d)
    full = np.zeros((d, d))
    for a, b in itertools.combinations(order, 2):
        full[a, b] = 1
    reversed_ = full.copy()
    a, b = order[0], order[1]  # a covered edge of a complete DAG
    reversed_[a, b], reversed_[b, a] = 0, 1
    hard = torch.tensor(np.stack([full, reversed_]))
    scores = bge.log_marginal_likelihood(hard)
    assert float(scores[0]) == pytest.approx(float(scores[1]), rel=1e-9)
    soft = hard.clone().requires_grad_(True)
    soft_scores = bge.log_marginal_likelihood(soft)
    torch.testing.assert_close(soft_scores.detach(), scores)
    (grad,) = torch.autograd.grad(soft_scores.sum(), soft)
    assert torch.isfinite(grad).all()


def test_linear_gaussian_likelihood_matches_scipy():
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(7, 3)), rng.normal(size=(3, 3))
    mask = np.zeros((7, 3), bool)
    mask[2, 1] = True
    ours = linear_gaussian_log_likelihood(
        torch.tensor(CHAIN, dtype=torch.float64), torch.tensor(W), torch.tensor(X), torch.tensor(mask), 0.3
    ).numpy()
    mean = X @ (CHAIN * W)
    expected = np.where(mask, 0.0, norm.logpdf(X, mean, np.sqrt(0.3))).sum(1)
    np.testing.assert_allclose(ours, expected)


def test_mlp_forward_matches_per_node_loop():
    rng = np.random.default_rng(0)
    d, h, n = 3, 4, 5
    X = rng.normal(size=(n, d))
    W1, b1 = rng.normal(size=(d, d, h)), rng.normal(size=(d, h))
    W2, b2 = rng.normal(size=(d, h, 1)), rng.normal(size=(d, 1))
    out = mlp_forward(
        torch.tensor(CHAIN, dtype=torch.float64), [torch.tensor(W1), torch.tensor(W2)],
        [torch.tensor(b1), torch.tensor(b2)], torch.tensor(X),
    ).numpy()
    for j in range(d):
        hidden = np.maximum((X * CHAIN[:, j]) @ W1[j] + b1[j], 0)
        np.testing.assert_allclose(out[:, j], (hidden @ W2[j] + b2[j])[:, 0])


def test_mlp_forward_of_many_graphs_per_weight_set_matches_per_node_loop():
    """Monte Carlo graphs sharing each particle's weights (the batched product path) give the
    per-node loop's means, and autograd's gradients with respect to the soft graphs and weights
    equal those of the broadcast formula (G * W)."""
    rng = np.random.default_rng(1)
    P, M, d, h, n = 2, 3, 4, 5, 6
    X = torch.tensor(rng.normal(size=(n, d)))
    G = torch.tensor(rng.uniform(size=(P, M, d, d)), requires_grad=True)
    W1 = torch.tensor(rng.normal(size=(P, 1, d, d, h)), requires_grad=True)
    b1 = torch.tensor(rng.normal(size=(P, 1, d, h)))
    W2, b2 = torch.tensor(rng.normal(size=(P, 1, d, h, 1))), torch.tensor(rng.normal(size=(P, 1, d, 1)))
    out = mlp_forward(G, [W1, W2], [b1, b2], X)
    assert out.shape == (P, M, n, d)
    for p, m, j in itertools.product(range(P), range(M), range(d)):
        hidden = torch.relu((X * G[p, m, :, j]) @ W1[p, 0, j] + b1[p, 0, j])
        torch.testing.assert_close(out[p, m, :, j], (hidden @ W2[p, 0, j] + b2[p, 0, j])[:, 0])
    weights = torch.tensor(rng.normal(size=out.shape))
    grads = torch.autograd.grad((out * weights).sum(), [G, W1])
    pre = X @ (G.transpose(-1, -2).unsqueeze(-1) * W1) + b1.unsqueeze(-2)  # the broadcast formula
    reference = ((torch.relu(pre) * W2.transpose(-1, -2)).sum(-1) + b2).transpose(-1, -2)
    for ours, expected in zip(grads, torch.autograd.grad((reference * weights).sum(), [G, W1])):
        torch.testing.assert_close(ours, expected)


# ------------------------------------------------------------------ DiBS
def _exact_posterior(Z):
    """Exact p(G | D) over all 25 DAGs on 3 nodes by enumeration (prior x BGe)."""
    bge = BGe(torch.tensor(Z), torch.zeros(Z.shape, dtype=torch.bool))
    G = torch.tensor(np.array(DAGS3), dtype=torch.float64)
    log_post = (bge.log_marginal_likelihood(G) + log_graph_prior(G, "er", 2.0)).numpy()
    post = np.exp(log_post - log_post.max())
    return post / post.sum()


def test_dibs_marginals_approach_exact_enumeration():
    """DiBS+ weights its particle graphs by the exact unnormalised posterior, so on the set of
    graphs it found it is exact; its edge marginals then differ from the exact ones by at most the
    posterior mass it missed (1 - covered). We require covered >= 0.9, hence error <= 0.1."""
    X = _chain_data(100, seed=4)
    Z = (X - X.mean(0)) / X.std(0)
    exact = _exact_posterior(Z)
    exact_marginals = np.einsum("k,kij->ij", exact, np.array(DAGS3))
    est = DibsEstimator(n_steps=200, random_state=0).fit(X)
    post = est.predict_graph_posterior()
    found = [next(k for k, g in enumerate(DAGS3) if (g == s).all()) for s in post.samples[post.is_dag]]
    covered = exact[found].sum()
    assert covered >= 0.9
    error = np.abs(post.edge_probs - exact_marginals).max()
    assert error <= 1 - covered + 1e-6
    # weights on the support are the renormalised exact posterior
    np.testing.assert_allclose(post.weights[post.is_dag], exact[found] / covered, atol=1e-6)


def test_dibs_is_reproducible_and_seed_sensitive():
    X = _chain_data(40)
    a = DibsEstimator(n_steps=30, n_particles=6, random_state=3).fit(X)
    b = DibsEstimator(n_steps=30, n_particles=6, random_state=3).fit(X)
    c = DibsEstimator(n_steps=30, n_particles=6, random_state=4).fit(X)
    np.testing.assert_array_equal(a.particles_, b.particles_)
    assert not np.array_equal(a.particles_, c.particles_)


@pytest.mark.parametrize("preset", ["joint-linear", "joint-nonlinear"])
def test_joint_dibs_finds_strong_chain(preset):
    X = _chain_data(150, seed=0, weights=(2.0, -2.0))
    est = DibsEstimator(preset, n_steps=250, n_particles=10, n_grad_mc_samples=16, random_state=0).fit(X)
    probs = est.predict_graph_posterior().edge_probs
    skeleton = probs + probs.T
    assert skeleton[0, 1] > 0.5 and skeleton[1, 2] > 0.5
    mech = est.infer_mechanism_posterior()
    assert mech["theta"][0].shape[0] == mech["graphs"].shape[0]
    assert np.isfinite(est.score(X))


def test_score_prefers_true_structure_data():
    """Held-out predictive density of DiBS beats a model fitted to shuffled (independent) data."""
    X, X_test = _chain_data(120, seed=0), _chain_data(60, seed=1)
    est = DibsEstimator(n_steps=100, n_particles=8, random_state=0).fit(X)
    rng = np.random.default_rng(0)
    shuffled = np.column_stack([rng.permutation(col) for col in X.T])
    baseline = DibsEstimator(n_steps=100, n_particles=8, random_state=0).fit(shuffled)
    assert est.score(X_test) > baseline.score(X_test) + 0.1


def test_interventions_orient_the_edge():
    """With observational data alone 0 -> 1 and 1 -> 0 are equivalent under BGe; rows where
    node 1 is set by intervention break x0 -> x1 only in the anti-causal direction."""
    rng = np.random.default_rng(0)
    n = 200
    x0 = rng.normal(size=n)
    x1 = 1.5 * x0 + 0.5 * rng.normal(size=n)
    mask = np.zeros((n, 2), bool)
    mask[:80, 0] = True  # do(x0): x1 still follows x0
    x0[:80] = rng.normal(scale=2.0, size=80)
    x1[:80] = 1.5 * x0[:80] + 0.5 * rng.normal(size=80)
    X = np.column_stack([x0, x1])
    probs = DibsEstimator(n_steps=100, n_particles=10, random_state=0).fit(X, interventions=mask)
    probs = probs.predict_graph_posterior().edge_probs
    assert probs[0, 1] > 0.9


def _refused(name, accepted, got):
    """The message of scikit-learn's InvalidParameterError as a regex (``accepted``, ``got``: regexes)."""
    return rf"^The '{name}' parameter of DibsEstimator must be {accepted}\. Got {got} instead\.$"


POSITIVE_OR_NONE = r"a float in the range \(0\.0, inf\) or None"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"preset": "fast"}, _refused("preset", "a str among {.*'marginal'.*}", "'fast'")),
        ({"n_particles": 0}, _refused("n_particles", r"an int in the range \[1, inf\) or None", "0")),
        ({"learning_rate": -1.0}, _refused("learning_rate", POSITIVE_OR_NONE, "-1.0")),
        ({"grad_estimator": "magic"}, _refused("grad_estimator", "a str among {.*'reparam'.*} or None", "'magic'")),
        ({"graph_prior": "tree"}, _refused("graph_prior", "a str among {.*'sf'.*}", "'tree'")),
        ({"posterior": "map"}, _refused("posterior", "a str among {.*'empirical'.*}", "'map'")),
        ({"hidden_layers": (0,)}, _refused("hidden_layers", "a tuple or list of ints >= 1 or None", r"\(0,\)")),
        ({"beta_linear": -1.0}, _refused("beta_linear", r"a float in the range \[0\.0, inf\) or None", "-1.0")),
        ({"tau": float("inf")}, _refused("tau", POSITIVE_OR_NONE, "inf")),
        ({"kernel_bandwidth": float("nan")}, _refused("kernel_bandwidth", POSITIVE_OR_NONE, "nan")),
        ({"kernel_bandwidth": True}, _refused("kernel_bandwidth", POSITIVE_OR_NONE, "True")),
        ({"edges_per_node": float("inf")}, _refused("edges_per_node", r"a float in the range \(0\.0, inf\)", "inf")),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        DibsEstimator(**params).fit(_chain_data(20))


@pytest.mark.parametrize("preset", ["marginal", "joint-linear"])
def test_divergence_names_the_step(preset):
    """A huge step size throws the particles far beyond their prior (or to overflow) at the first
    step; the error names the step and the step size."""
    with pytest.raises(FloatingPointError, match=r"diverged at step 0: .*learning_rate \(got 1e\+38\)"):
        DibsEstimator(preset, n_steps=50, learning_rate=1e38, random_state=0).fit(_chain_data(20))


@pytest.mark.parametrize("preset", ["marginal", "joint-linear", "joint-nonlinear"])
def test_one_row_is_too_few_and_two_suffice(preset):
    """Particles live in latent space, so their number puts no bound on n; the bound is the two
    rows that standardisation needs. Two rows give a finite posterior and score."""
    params = dict(n_steps=5, n_particles=30, n_grad_mc_samples=4, random_state=0)
    with pytest.raises(ValueError, match="n_samples=1 is too few: DibsEstimator needs at least 2 rows"):
        DibsEstimator(preset, **params).fit(_chain_data(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-cyclic particles after 5 steps
        est = DibsEstimator(preset, **params).fit(_chain_data(2))
    assert np.isfinite(est.predict_graph_posterior().edge_probs).all() and np.isfinite(est.score(_chain_data(2)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_quality():
    X = _chain_data(100, seed=4)
    cpu = DibsEstimator(n_steps=100, random_state=0, device="cpu").fit(X)
    gpu = DibsEstimator(n_steps=100, random_state=0, device="cuda").fit(X)
    assert gpu.particles_.dtype == np.float64
    assert abs(cpu.score(X) - gpu.score(X)) < 0.5


def test_empirical_posterior_gives_cyclic_particles_no_weight():
    """Their likelihood is no density (it would bias score and NIL); the authors' metrics drop them."""
    cyclic = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    graphs, particle, log_weights = particle_posterior(
        torch.tensor(np.stack([CHAIN, cyclic, CHAIN.T])), None, None, {"likelihood": "bge"}, "empirical")
    np.testing.assert_allclose(np.exp(log_weights), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(particle, [0, 1, 2])
    np.testing.assert_array_equal(graphs[1], cyclic)
    with pytest.warns(RuntimeWarning, match="every particle graph is cyclic; giving them equal weights"):
        _, _, log_weights = particle_posterior(torch.tensor(np.stack([cyclic, cyclic])), None, None,
                                               {"likelihood": "bge"}, "empirical")
    np.testing.assert_allclose(np.exp(log_weights), [0.5, 0.5])
