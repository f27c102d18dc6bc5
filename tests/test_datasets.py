"""SCM families: DAGs, densities, seeding, serialisation, exact log densities, bad input."""

import itertools
import json
import math
import random

import networkx as nx
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from skcausal_meta._validation import is_dag
from skcausal_meta.datasets import (
    MLP,
    ErdosRenyi,
    FixedGraph,
    Gaussian,
    GaussianProcess,
    GeometricRandom,
    Interventions,
    InterventionSpec,
    Linear,
    RandomFourier,
    SCMFamily,
    SCMInstance,
    ScaleFree,
    canonical_graph_hash,
    get_family,
    list_families,
    make_scm_family,
    register_family,
    registered_families,
)
from skcausal_meta.datasets._params import draw_signed
from skcausal_meta.datasets.distances import mmd2, summarize_datasets, summarize_family
from skcausal_meta.datasets.families import SHIFT_AXES
from skcausal_meta.datasets.graphs import _watts_strogatz
from skcausal_meta.datasets.scale_free import _numpy_sum, _weighted_choice_without_replacement

FAMILIES = list_families()
SMALL = dict(n_datasets=2, n_samples=40, n_interventional=12)


def _small_nodes(name):
    lo_hi = get_family(name).n_nodes
    lo = lo_hi[0] if isinstance(lo_hi, (list, tuple)) else lo_hi
    return max(lo, 3) if lo <= 8 else lo


def test_registry_covers_every_shift_axis():
    assert "id" in FAMILIES
    ood = [f for f in FAMILIES if f != "id"]
    assert len(ood) >= 12
    for axis in SHIFT_AXES:
        assert list_families(shift=axis), axis
    assert sum(len(get_family(f).shift) >= 2 for f in ood) >= 2


@settings(max_examples=len(FAMILIES) * 2, deadline=None)
@given(name=st.sampled_from(FAMILIES), seed=st.integers(0, 2**31 - 1))
def test_family_properties(name, seed):
    """Every family: DAGs, finite samples, seeded, intervened columns hold do-values."""
    d = _small_nodes(name)
    X, masks, graphs, scms = make_scm_family(name, n_nodes=d, random_state=seed, return_scm=True, **SMALL)
    assert X.shape == (2, 52, d) and masks.shape == X.shape and graphs.shape == (2, d, d)
    assert graphs.dtype == np.int8 and masks.dtype == bool
    assert all(is_dag(g) for g in graphs)
    assert np.isfinite(X).all()
    assert not masks[:, :40].any()  # observational rows first
    X2, masks2, graphs2 = make_scm_family(name, n_nodes=d, random_state=seed, **SMALL)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(masks, masks2)
    np.testing.assert_array_equal(graphs, graphs2)
    fam = get_family(name)
    if fam.interventions.kind == "perfect" and not fam.interventions.unknown_targets:
        for x, m in zip(X, masks):
            # each block of do-rows holds one constant value per intervened column
            for j in range(d):
                vals = x[m[:, j], j]
                if vals.size:
                    assert np.all(np.abs(vals) >= 1.0) and np.all(np.abs(vals) <= 3.0)
                    assert len(np.unique(vals)) <= 12


@settings(max_examples=len(FAMILIES), deadline=None)
@given(name=st.sampled_from(FAMILIES))
def test_to_dict_round_trip_reproduces_samples(name):
    d = _small_nodes(name)
    _, _, _, scms = make_scm_family(name, n_nodes=d, random_state=3, return_scm=True, **SMALL)
    scm = scms[0]
    again = SCMInstance.from_dict(json.loads(json.dumps(scm.to_dict())))
    np.testing.assert_array_equal(scm.sample(30, random_state=7), again.sample(30, random_state=7))
    X = scm.sample(30, random_state=8)
    np.testing.assert_allclose(scm.log_prob(X), again.log_prob(X))


@pytest.mark.parametrize("k", [1.0, 2.0, 3.5])
def test_er_expected_edges(k):
    d, reps = 20, 400
    counts = np.array([ErdosRenyi(edges_per_node=k).sample(d, s).sum() for s in range(reps)])
    # edge count is Binomial(d(d-1)/2, p): its mean over reps has standard error sqrt(var / reps)
    p = 2 * k / (d - 1)
    se = np.sqrt(d * (d - 1) / 2 * p * (1 - p) / reps)
    assert abs(counts.mean() - k * d) < 4 * se


def test_scale_free_degree_is_heavy_tailed():
    g = np.stack([ScaleFree(edges_per_node=2).sample(50, s) for s in range(50)])
    out_deg = g.sum(axis=2).ravel()
    in_deg = g.sum(axis=1).ravel()
    assert out_deg.max() > 3 * in_deg.max() / 2 and in_deg.max() <= 2
    g_in = np.stack([ScaleFree(edges_per_node=2, in_degree=True).sample(50, s) for s in range(50)])
    assert g_in.sum(axis=1).max() > 10 and g_in.sum(axis=2).max() <= 2


def _linear_gaussian_scm(seed=0, d=4):
    graph = np.array([[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    fam = SCMFamily(name="lg", graph=FixedGraph(graph), mechanism=Linear(), noise=Gaussian(), n_nodes=d)
    return fam.sample_instance(seed)


def _implied_gaussian(scm, fixed=None):
    """Mean and covariance of a linear-Gaussian SCM from (I - W^T)^-1, computed independently."""
    d = scm.n_nodes
    W = np.zeros((d, d))
    bias = np.zeros(d)
    var = np.zeros(d)
    for j, node in enumerate(scm.nodes):
        W[scm.parents[j], j] = node.mechanism_params["weights"]
        bias[j] = node.mechanism_params["bias"]
        var[j] = node.noise_params["scale"] ** 2
    for j, value in (fixed or {}).items():
        W[:, j], bias[j], var[j] = 0.0, value, 0.0
    A = np.linalg.inv(np.eye(d) - W.T)
    return A @ bias, A @ np.diag(var) @ A.T


def test_log_prob_matches_implied_multivariate_normal():
    scm = _linear_gaussian_scm()
    X = scm.sample(50, random_state=1)
    mean, cov = _implied_gaussian(scm)
    np.testing.assert_allclose(scm.log_prob(X), multivariate_normal(mean, cov).logpdf(X), rtol=1e-8, atol=1e-8)
    # the sample moments agree with the implied ones
    big = scm.sample(200_000, random_state=2)
    np.testing.assert_allclose(big.mean(0), mean, atol=0.05 * np.sqrt(np.diag(cov)).max())


def test_log_prob_under_do_is_truncated_factorisation():
    scm = _linear_gaussian_scm(seed=5)
    k, value = 1, 2.5
    X = scm.sample(40, interventions={k: value}, random_state=3)
    assert np.all(X[:, k] == value)
    mean, cov = _implied_gaussian(scm, fixed={k: value})
    keep = [j for j in range(scm.n_nodes) if j != k]
    expected = multivariate_normal(mean[keep], cov[np.ix_(keep, keep)]).logpdf(X[:, keep])
    mask = np.zeros_like(X, dtype=bool)
    mask[:, k] = True
    np.testing.assert_allclose(scm.log_prob(X, interventions=mask), expected, rtol=1e-8)
    # do() gives a mutilated SCM with the same interventional distribution and density
    mutilated = scm.do({k: value})
    assert mutilated.graph[:, k].sum() == 0
    np.testing.assert_allclose(mutilated.log_prob(X), expected, rtol=1e-8)
    np.testing.assert_array_equal(mutilated.sample(10, random_state=4)[:, k], value)


def test_shift_intervention_moves_the_mean():
    scm = _linear_gaussian_scm(seed=2)
    n = 20_000
    mask = np.zeros((n, 4), dtype=bool)
    mask[:, 3] = True
    values = np.where(mask, 5.0, 0.0)
    X_obs = scm.sample(n, random_state=0)
    X_int = scm.sample(n, Interventions(mask, values, "shift"), random_state=0)
    np.testing.assert_allclose(X_int[:, 3] - X_obs[:, 3], 5.0)  # same noise, shifted node
    np.testing.assert_array_equal(X_int[:, :3], X_obs[:, :3])
    lp_shift = scm.log_prob(X_int, Interventions(mask, values, "shift"))
    np.testing.assert_allclose(lp_shift, scm.log_prob(X_obs))


def test_soft_family_shifts_means():
    X, masks, _ = make_scm_family("ood_interv_soft", n_datasets=1, n_nodes=6, n_samples=50, n_interventional=60,
                                  random_state=0)
    assert masks.any() and np.isfinite(X).all()


def test_fraction_targets_several_nodes_per_row():
    _, masks, _ = make_scm_family("ood_interv_fraction", n_datasets=1, n_nodes=10, n_samples=5,
                                  n_interventional=30, random_state=0)
    per_row = masks[0, 5:].sum(axis=1)
    assert np.all(per_row == 3)


def test_unknown_targets_hide_the_mask():
    _, masks, _ = make_scm_family("ood_interv_unknown", n_datasets=1, n_nodes=6, random_state=0, **{
        "n_samples": 10, "n_interventional": 10})
    assert not masks.any()


def test_prefix_stability():
    a = make_scm_family("id", n_datasets=2, n_nodes=6, n_samples=10, n_interventional=0, random_state=9)
    b = make_scm_family("id", n_datasets=4, n_nodes=6, n_samples=10, n_interventional=0, random_state=9)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y[:2])


def test_stack_is_the_stream():
    """make_scm_family writes each data set in place; the stack holds iter_datasets' items."""
    X, masks, graphs, scms = make_scm_family("id", n_datasets=3, n_samples=15, n_interventional=5, random_state=4,
                                             return_scm=True)
    stream = get_family("id").iter_datasets(4, n_samples=15, n_interventional=5)
    for i, (x, mask, scm) in enumerate(itertools.islice(stream, 3)):
        assert x.flags.c_contiguous and x.dtype == np.float64
        np.testing.assert_array_equal(X[i], x)
        np.testing.assert_array_equal(masks[i], mask)
        np.testing.assert_array_equal(graphs[i], scm.graph)
        np.testing.assert_array_equal(scms[i].graph, scm.graph)


def test_sample_into_out():
    scm = get_family("id").sample_instance(2, n_nodes=5)
    out = np.empty((30, 5))
    assert scm.sample(30, random_state=1, out=out) is out
    np.testing.assert_array_equal(out, scm.sample(30, random_state=1))
    with pytest.raises(ValueError, match="out must be a C-ordered float64 array of shape"):
        scm.sample(30, random_state=1, out=np.empty((5, 30)).T)


def test_register_family_from_dict_and_yaml(tmp_path):
    spec = {
        "name": "user_family_test",
        "graph": {"type": "er", "edges_per_node": 1.0},
        "mechanism": [{"type": "mlp", "hidden": 8}],
        "noise": {"type": "laplace", "scale": 0.5},
        "n_nodes": 6,
        "interventions": {"kind": "shift", "value": [0.5, 1.0]},
    }
    fam = register_family(spec)
    assert get_family("user_family_test") is fam
    X, _, g = make_scm_family("user_family_test", n_datasets=1, n_samples=20, n_interventional=5, random_state=0)
    assert X.shape == (1, 25, 6)
    path = tmp_path / "fam.yml"
    path.write_text("name: user_yaml_test\ngraph: {type: sf, edges_per_node: 1}\nn_nodes: [4, 6]\n")
    fam2 = register_family(str(path))
    assert fam2.graph[0].kind == "sf"
    with pytest.raises(ValueError, match="already registered"):
        register_family(spec)
    again = SCMFamily.from_dict(fam.to_dict())
    assert again.to_dict() == fam.to_dict()


def test_registered_families_puts_the_registry_back_even_after_an_error():
    original = get_family("id")
    with pytest.raises(RuntimeError, match="inside"):
        with registered_families({"name": "id", "n_nodes": 3}, {"name": "scoped_only", "n_nodes": 4}) as (a, b):
            assert get_family("id") is a and a.n_nodes == 3 and get_family("scoped_only") is b
            raise RuntimeError("inside")
    assert get_family("id") is original and "scoped_only" not in list_families()


def test_unknown_family_lists_known_ones():
    with pytest.raises(ValueError, match="known families:.*'id'"):
        get_family("no_such_family")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ErdosRenyi(edges_per_node=5).sample(6, 0), "edges_per_node=5"),
        (lambda: ScaleFree(edges_per_node=7).sample(5, 0), "edges_per_node=7"),
        (lambda: make_scm_family("id", n_datasets=1, n_samples=0), "n_samples must be"),
        (lambda: make_scm_family("id", n_datasets=0), "n_datasets must be"),
        (lambda: make_scm_family("id", n_datasets=1, n_nodes=1), "n_nodes must be"),
        (lambda: make_scm_family("id", n_datasets=1, random_state=-1), "random_state"),
        (lambda: SCMFamily.from_dict({"name": "x", "graph": {"type": "nope"}}), "unknown graph prior type 'nope'"),
        (lambda: SCMFamily.from_dict({"name": "x", "colour": 1}), "unknown family keys"),
        (lambda: SCMFamily(name="x", mechanism={"type": "linear", "weight": [3, 1]}), "weight range"),
        (lambda: InterventionSpec(targets=1.5), "targets must be"),
        (lambda: SCMFamily.from_dict({"name": "x", "interventions": {"targts": "single"}}),
         r"unknown interventions keys \['targts'\]"),
        (lambda: SCMFamily(name="x", n_nodes=4.5), "n_nodes must be an integer or a"),
        (lambda: SCMFamily(name="x", n_nodes=[2.0, 2.9]), "n_nodes must be an integer or a"),
        (lambda: _linear_gaussian_scm().log_prob(np.full((2, 4), np.nan)), "NaN"),
        (lambda: _linear_gaussian_scm().log_prob(np.zeros((2, 4)), np.zeros((2, 3), bool)), r"shape \(n, d\)"),
        (lambda: _linear_gaussian_scm().log_prob(np.zeros((2, 4)), np.zeros((2, 4))), "boolean"),
        (lambda: FixedGraph([[0, 1], [1, 0]]), "DAG"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_from_yaml_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="family file .*nowhere.yml' does not exist"):
        SCMFamily.from_yaml(str(tmp_path / "nowhere.yml"))


# ---------------------------------------------------------------------- fast paths vs plain loops
# Generation is tuned for speed under one constraint: the same seed gives the same bits as the
# plain implementations below (a training stream and cached benchmark data depend on it).


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 100.0)), min_size=1, max_size=25),
       frac=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_weighted_choice_matches_numpy_choice(weights, frac, seed):
    w = np.asarray(weights)
    if not w.any():
        w[0] = 1.0
    p = w / w.sum()
    size = int(round(frac * np.count_nonzero(p)))
    rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    assert _weighted_choice_without_replacement(p, size, rng) == ref.choice(len(p), size, replace=False, p=p).tolist()
    assert rng.random() == ref.random()  # the stream is left where numpy leaves it


def test_weighted_choice_needs_enough_nonzero_probabilities():
    with pytest.raises(ValueError, match="size=2 exceeds the 1 indices"):
        _weighted_choice_without_replacement([1.0, 0.0], 2, np.random.default_rng(0))


def test_weighted_choice_redraws_like_numpy_choice():
    """A dominant weight makes numpy redraw (the index found first is zeroed before the next round)."""
    p = np.array([0.9, 0.04, 0.03, 0.02, 0.01])
    for seed in range(200):
        rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        assert _weighted_choice_without_replacement(p, 3, rng) == ref.choice(5, 3, replace=False, p=p).tolist()
        assert rng.random() == ref.random()


def _reference_scale_free(prior, d, rng):
    """Barabási–Albert with numpy's weighted choice per step (then transpose and relabel)."""
    m = min(int(round(prior.edges_per_node)), d - 1)
    a, degree = np.zeros((d, d), dtype=np.int8), np.zeros(d)
    for new in range(1, d):
        weights = (degree[:new] + 1.0) ** prior.power
        targets = rng.choice(new, size=min(m, new), replace=False, p=weights / weights.sum())
        a[targets, new] = 1
        degree[targets] += 1
        degree[new] += len(targets)
    a = a.T.copy() if prior.in_degree else a
    perm = rng.permutation(d)
    return a[np.ix_(perm, perm)]


@pytest.mark.parametrize("power", [0.5, 1.0, 1.5])
@pytest.mark.parametrize("in_degree", [False, True])
def test_scale_free_matches_numpy_choice_loop(power, in_degree):
    prior = ScaleFree(edges_per_node=3, power=power, in_degree=in_degree, cap_density=True)
    for seed, d in enumerate([2, 3, 5, 20, 31] * 4):
        expected = _reference_scale_free(prior, d, np.random.default_rng(seed))
        np.testing.assert_array_equal(prior.sample(d, seed), expected)


@settings(max_examples=40, deadline=None)
@given(degree=st.lists(st.integers(0, 60), min_size=1, max_size=50), power=st.sampled_from([0.5, 1.0, 1.5, 2.7]))
def test_scale_free_attachment_is_numpys(degree, power):
    """The powers come from a table numpy computes once per graph, the sum from a plain-Python
    pairwise sum: the floats are those of the array expression."""
    prior = ScaleFree(power=power)
    weights = (np.asarray(degree, dtype=float) + 1.0) ** power
    powers = prior._powers(61)
    assert prior._attachment([powers[k] for k in degree]) == (weights / weights.sum()).tolist()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(1e-6, 1e6), max_size=400))
def test_numpy_sum_is_numpys_pairwise_sum(values):
    assert _numpy_sum(values) == float(np.asarray(values, dtype=float).sum())


@pytest.mark.parametrize("n", [3, 4, 7, 20, 31])
def test_watts_strogatz_is_networkx(n):
    """Same draws from ``random.Random(seed)``, same graph as networkx, for every even k < n."""
    for k in range(2, n, 2):
        for p in (0.0, 0.3, 1.0):
            for seed in range(5):
                expected = {frozenset(e) for e in nx.watts_strogatz_graph(n, k, p, seed=seed).edges()}
                ours = _watts_strogatz(n, k, p, random.Random(seed))
                assert {frozenset((u, v)) for u, adjacent in enumerate(ours) for v in adjacent} == expected


def _reference_parents_and_order(graph):
    """Parents by column scans and Kahn's algorithm, first-in first-out from the sorted roots."""
    d = graph.shape[0]
    parents = [np.flatnonzero(graph[:, j]) for j in range(d)]
    indegree = graph.sum(axis=0).astype(int)
    order, frontier = [], sorted(np.flatnonzero(indegree == 0).tolist())
    while frontier:
        node = frontier.pop(0)
        order.append(node)
        for child in np.flatnonzero(graph[node]):
            indegree[child] -= 1
            if indegree[child] == 0:
                frontier.append(int(child))
    return parents, order


@settings(max_examples=40, deadline=None)
@given(d=st.integers(2, 12), density=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_parents_and_topological_order_match_a_loop(d, density, seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(d)
    graph = np.triu(rng.random((d, d)) < density, k=1)[np.ix_(perm, perm)].astype(np.int8)
    scm = SCMFamily(name="fixed", graph=FixedGraph(graph), n_nodes=d).sample_instance(seed)
    parents, order = _reference_parents_and_order(graph)
    assert [p.tolist() for p in scm.parents] == [p.tolist() for p in parents]
    assert scm.order.tolist() == order


def test_prior_drawn_scm_still_rejects_a_cycle():
    nodes = SCMFamily(name="two", graph=ErdosRenyi(0.0), n_nodes=2).sample_instance(0).nodes
    with pytest.raises(ValueError, match="cycle"):
        SCMInstance._from_prior(np.array([[0, 1], [1, 0]], dtype=np.int8), nodes)


def _reference_forward(scm, n, iv, rng):
    """Ancestral sampling with the intervention mask applied to every node; the unscaled noise of
    all nodes (one noise kind) is drawn first, then scaled node by node."""
    iv = Interventions.observational(n, scm.n_nodes) if iv is None else iv
    X = np.empty((n, scm.n_nodes))
    standard = scm.nodes[0].noise.draw_standard([node.noise_params for node in scm.nodes], n, rng)
    for j in _reference_parents_and_order(scm.graph)[1]:
        node = scm.nodes[j]
        pa = X[:, np.flatnonzero(scm.graph[:, j])]
        z = node.mechanism.apply(node.mechanism_params, pa) + node.noise.node_scale(node.noise_params, pa) * standard[j]
        if iv.kind == "shift":
            z = z + iv.values[:, j]
        x = node.mechanism.post(node.mechanism_params, z)
        X[:, j] = np.where(iv.mask[:, j], iv.values[:, j], x) if iv.kind == "perfect" else x
    return X


@pytest.mark.parametrize("name", ["id", "ood_mech_pnl", "ood_noise_hetero", "ood_interv_soft", "ood_interv_fraction"])
def test_sampling_matches_reference_loop(name):
    fam = get_family(name)
    scm = fam.sample_instance(11, n_nodes=7)
    n = 40
    for iv in (None, fam.interventions.draw(n, 7, np.random.default_rng(2))):
        expected = _reference_forward(scm, n, iv, np.random.default_rng(5))
        # equal up to rounding: the sampler scales homoscedastic noise before adding it
        np.testing.assert_allclose(scm.sample(n, iv, random_state=5), expected, rtol=1e-12, atol=1e-12)


def _reference_intervention_draw(spec, n_rows, n_nodes, rng):
    """One block at a time: targets, then the values of every block in one draw, written block by
    block (block b starts at row floor(b n_rows / n_blocks))."""
    mask, values = np.zeros((n_rows, n_nodes), dtype=bool), np.zeros((n_rows, n_nodes))
    n_blocks = min(spec.n_blocks or n_nodes, n_rows)
    bounds = [b * n_rows // n_blocks for b in range(n_blocks + 1)]
    if spec.targets == "single":
        order = np.concatenate([rng.permutation(n_nodes) for _ in range(-(-n_blocks // n_nodes))])
        block_targets = [order[b : b + 1] for b in range(n_blocks)]
    else:
        size = int(np.clip(round(spec.targets * n_nodes), 1, n_nodes - 1))
        block_targets = [rng.choice(n_nodes, size=size, replace=False) for _ in range(n_blocks)]
    block_values = draw_signed(spec.value, (n_blocks, len(block_targets[0])), rng)
    for b, targets in enumerate(block_targets):
        rows = slice(bounds[b], bounds[b + 1])
        mask[rows, targets] = True
        values[rows, targets] = block_values[b]
    return mask, values


@settings(max_examples=40, deadline=None)
@given(n_rows=st.integers(1, 60), n_nodes=st.integers(2, 12), targets=st.sampled_from(["single", 0.3, 0.6]),
       n_blocks=st.one_of(st.none(), st.integers(1, 30)), n_obs=st.sampled_from([0, 5]),
       seed=st.integers(0, 2**32 - 1))
def test_intervention_draw_matches_block_loop(n_rows, n_nodes, targets, n_blocks, n_obs, seed):
    """Leading observational rows (``n_observational``) stay free of interventions."""
    spec = InterventionSpec(targets=targets, n_blocks=n_blocks)
    rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    iv = spec.draw(n_rows, n_nodes, rng, n_observational=n_obs)
    mask, values = _reference_intervention_draw(spec, n_rows, n_nodes, ref)
    np.testing.assert_array_equal(iv.mask, np.concatenate([np.zeros((n_obs, n_nodes), dtype=bool), mask]))
    np.testing.assert_array_equal(iv.values, np.concatenate([np.zeros((n_obs, n_nodes)), values]))
    assert rng.random() == ref.random()


def _reference_features(mechanism, params, pa):
    """The mechanisms' formulas, written out for every row."""
    if isinstance(mechanism, MLP):
        w1 = params["w1"].reshape(pa.shape[1], len(params["b1"]))
        return np.tanh(pa @ w1 + params["b1"]) @ params["w2"]
    anchors = params["anchors"].reshape(len(params["alpha"]), pa.shape[1])
    sq = (pa * pa).sum(1)[:, None] + (anchors * anchors).sum(1)[None, :] - 2.0 * pa @ anchors.T
    return np.exp(-0.5 * np.maximum(sq, 0.0) / params["length_scale"] ** 2) @ params["alpha"]


@pytest.mark.parametrize("mechanism", [MLP(), GaussianProcess()], ids=lambda m: m.kind)
@pytest.mark.parametrize("n_parents", [0, 1, 3])
def test_mechanism_features_match_formula(mechanism, n_parents):
    """Roots evaluate one row and repeat its value; others work in place, the offset folded into
    the product (equal up to rounding)."""
    rng = np.random.default_rng(n_parents)
    params = mechanism.draw_node(n_parents, rng)
    pa = rng.normal(0.0, 3.0, (257, n_parents))
    np.testing.assert_allclose(mechanism._apply(params, pa), _reference_features(mechanism, params, pa),
                               rtol=1e-12, atol=1e-12)


def _rff_loop(params, x):
    """The RFF formula in double precision, one feature at a time, for one row ``x``."""
    omega = np.asarray(params["omega"]).reshape(len(params["phase"]), len(x))
    total = params["bias"]
    for omega_m, phase_m, coef_m in zip(omega, params["phase"], params["coef"]):
        total += coef_m * math.cos(sum(w * v for w, v in zip(omega_m, x)) + phase_m)
    return total


@pytest.mark.parametrize("n_parents", [0, 1, 2, 5])
def test_rff_single_precision_features_match_double_formula(n_parents):
    """Features in float32 (for speed): the values agree with the float64 formula to 1e-5 of the
    function's scale, for parents spread like the outputs of RFF nodes (standard deviation about
    the output scale, 10 to 20) and three times wider."""
    rng = np.random.default_rng(10 + n_parents)
    mechanism = RandomFourier()  # AVICI's ranges: length scale 7-10, output scale 10-20
    for spread in (20.0, 60.0, 20.0, 60.0):
        params = mechanism.draw_node(n_parents, rng)
        pa = rng.normal(0.0, spread, (200, n_parents))
        ours = mechanism.apply(params, pa)
        assert ours.dtype == np.float64
        expected = np.array([_rff_loop(params, x) for x in pa])
        # the standard deviation of f over random features: coef = w c sqrt(2/M), E|coef|^2 = 2 c^2
        scale = np.linalg.norm(params["coef"]) / math.sqrt(2.0)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-5 * scale)


BAD_INPUTS = [
    (lambda: SCMFamily(name="x", interventions="single"), "interventions must be a mapping"),
    (lambda: SCMFamily(name="x", shift="graph"), "shift must be a list of axes"),
    (lambda: MLP(hidden=2.5), "hidden must be an integer"),
    (lambda: MLP(hidden=[4, 8]), "hidden must be an integer"),
    (lambda: RandomFourier(n_features=1.5), "n_features must be an integer"),
    (lambda: GaussianProcess(n_anchors=2.0), "n_anchors must be an integer"),
    (lambda: GaussianProcess(anchor_scale=-1.0), "anchor_scale must be"),
    (lambda: GeometricRandom(dim=1.5), "dim must be an integer"),
    (lambda: ScaleFree(power=float("nan")), "power must be"),
    (lambda: ErdosRenyi().sample("5"), "n_nodes must be an integer"),
    (lambda: ErdosRenyi().sample(2.5), "n_nodes must be an integer"),
    (lambda: canonical_graph_hash(np.zeros(3)), "adjacency must be a square"),
    (lambda: get_family([]), "unknown family"),
    (lambda: SCMFamily.from_yaml(5), "source must be a YAML file path or a YAML string"),
    (lambda: SCMFamily.from_yaml("name: x\ngraph: [unclosed\n"), "is not valid YAML"),
    (lambda: SCMInstance.from_dict({"graph": [[0]]}), r"missing \['nodes'\]"),
    (lambda: InterventionSpec().draw(-1, 3, np.random.default_rng(0)), "n_rows must be an integer >= 0"),
    (lambda: InterventionSpec().draw(5, 3, np.random.default_rng(0), n_observational=-2), "n_observational"),
    (lambda: summarize_datasets(np.zeros((2, 10, 4)), np.zeros((2, 3, 3))), r"X must have shape \(N, n, d\)"),
    (lambda: summarize_datasets(np.zeros((2, 10, 3)), np.zeros((3, 3, 3))), r"X must have shape \(N, n, d\)"),
    (lambda: summarize_family("id", n_datasets=1), "n_datasets must be an integer >= 2"),
    (lambda: summarize_family("id", n_datasets=2, n_samples=1), "n_samples must be an integer >= 2"),
    (lambda: mmd2(np.zeros((1, 2)), np.zeros((3, 2))), "at least 2 samples on each side"),
]


@pytest.mark.parametrize("make, match", BAD_INPUTS)
def test_bad_input_to_the_data_api_is_a_value_error_naming_it(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_get_family_reads_a_yaml_file(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text(yaml.safe_dump({**get_family("id").to_dict(), "name": "mine"}))
    assert get_family(str(path)).name == "mine" and get_family(path).to_dict() == get_family(str(path)).to_dict()
    with pytest.raises(ValueError, match="nor a .yml/.yaml file"):
        get_family(str(tmp_path / "missing.yml"))
