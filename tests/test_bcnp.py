"""Tests of the BCNP network, its DAG distribution, the shared edge decoder and the estimator."""

import itertools
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from skcausal_meta._validation import is_dag
from skcausal_meta.models.amortized.checkpoint import load_model, save_model
from skcausal_meta.models.amortized.inputs import make_model_input
from skcausal_meta.models.bcnp import BCNP, BCNPEstimator, DAGDistribution
from skcausal_meta.models.components.decoders import BilinearEdgeDecoder
from skcausal_meta.models.components.permutation import sample_permutations

TINY = dict(dim=16, n_layers=1, n_decoder_layers=1, n_heads=2, n_perm_samples=8)


def tiny_model(seed=0, **overrides):
    torch.manual_seed(seed)
    return BCNP(**{**TINY, **overrides}).eval()


def linear_sem(graph, n, rng, n_datasets=1):
    """Linear-Gaussian data ``(n_datasets, n, d)`` on ``graph`` (nodes in index order)."""
    d = graph.shape[0]
    weights = graph * rng.uniform(0.8, 1.5, (d, d)) * rng.choice([-1, 1], (d, d))
    X = np.zeros((n_datasets, n, d))
    for j in range(d):
        X[..., j] = X @ weights[:, j] + rng.normal(size=(n_datasets, n))
    return X


def random_input(B, n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, n, d))
    masks = rng.random((B, n, d)) < 0.1
    return torch.from_numpy(make_model_input(X, masks))


def all_dags(d):
    """Every DAG on ``d`` labelled nodes (brute force over all 0/1 matrices)."""
    pairs = [(i, j) for i in range(d) for j in range(d) if i != j]
    for bits in itertools.product((0, 1), repeat=len(pairs)):
        g = np.zeros((d, d), dtype=np.int8)
        for (i, j), b in zip(pairs, bits):
            g[i, j] = b
        if is_dag(g):
            yield g


# ---------------------------------------------------------------------------- edge decoder
def test_bilinear_decoder_matches_explicit_formula_and_is_equivariant():
    torch.manual_seed(0)
    nodes = torch.randn(2, 5, 8)
    dec = BilinearEdgeDecoder(8, n_heads=2, head_dim=3, normalize=True, bias_init=-1.0)
    with torch.no_grad():
        dec.log_scale.copy_(torch.tensor([0.5, -0.2]))
    q = dec.sender(nodes).view(2, 5, 2, 3)
    k = dec.receiver(nodes).view(2, 5, 2, 3)
    q, k = q / q.norm(dim=-1, keepdim=True), k / k.norm(dim=-1, keepdim=True)
    expected = -1.0 + 0.5 * (
        math.exp(0.5) * torch.einsum("bic,bjc->bij", q[:, :, 0], k[:, :, 0])
        + math.exp(-0.2) * torch.einsum("bic,bjc->bij", q[:, :, 1], k[:, :, 1])
    )
    torch.testing.assert_close(dec(nodes), expected)
    perm = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(dec(nodes[:, perm]), dec(nodes)[:, perm][:, :, perm])


def test_bilinear_decoder_symmetric_and_scaled_dot_product():
    torch.manual_seed(1)
    nodes = torch.randn(3, 4, 6)
    dec = BilinearEdgeDecoder(6, n_heads=1, symmetric=True)
    out = dec(nodes)
    torch.testing.assert_close(out, out.transpose(-1, -2))
    raw = dec.sender(nodes) @ dec.receiver(nodes).transpose(-1, -2) / math.sqrt(6) + dec.bias
    torch.testing.assert_close(out, 0.5 * (raw + raw.transpose(-1, -2)))


# ---------------------------------------------------------------------------- DAG distribution
@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(2, 7),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([0.1, 1.0, 30.0]),
)
def test_every_sample_is_a_dag(d, seed, scale):
    # Arbitrary (also extreme) logits: acyclicity must hold by construction, not by training.
    gen = torch.Generator().manual_seed(seed)
    perm_logits = scale * torch.randn(2, d, d, generator=gen)
    edge_logits = scale * torch.randn(2, d, d, generator=gen) + 3.0
    dist = DAGDistribution(perm_logits, edge_logits, temperature=1.0, sinkhorn_iters=5, eps=1e-6)
    graphs, probs = dist.sample(20, gen)
    assert graphs.shape == (2, 20, d, d)
    assert set(torch.unique(graphs).tolist()) <= {0.0, 1.0}
    assert all(is_dag(g) for g in graphs.reshape(-1, d, d).numpy())
    assert all(is_dag(p > 0) for p in probs.reshape(-1, d, d).numpy())  # the support is a DAG


@settings(max_examples=10, deadline=None)
@given(d=st.integers(2, 6), n=st.integers(3, 12), seed=st.integers(0, 1000))
def test_network_samples_are_dags(d, n, seed):
    model = tiny_model(seed)
    graphs, _ = model.distribution(random_input(1, n, d, seed)).sample(30, torch.Generator().manual_seed(seed))
    assert all(is_dag(g) for g in graphs[0].numpy())


def test_log_prob_is_normalised_over_all_dags():
    # sum_G q(G | D) over the 25 DAGs on 3 nodes is 1 up to the eps clipping: with common
    # random numbers, each permutation draw's Bernoulli product sums to one over its sub-DAGs.
    gen = torch.Generator().manual_seed(3)
    dist = DAGDistribution(torch.randn(1, 3, 3, generator=gen), torch.randn(1, 3, 3, generator=gen),
                           temperature=1.0, sinkhorn_iters=10, eps=1e-9)
    dags = list(all_dags(3))
    assert len(dags) == 25
    total = sum(math.exp(dist.log_prob(torch.tensor(g)[None].float(), n_draws=64)) for g in dags)
    assert total == pytest.approx(1.0, abs=1e-5)


def test_log_prob_agrees_with_sample_frequencies():
    gen = torch.Generator().manual_seed(4)
    dist = DAGDistribution(3 * torch.randn(1, 3, 3, generator=gen), 2 * torch.randn(1, 3, 3, generator=gen),
                           temperature=1.0, sinkhorn_iters=10, eps=1e-9)
    graphs, _ = dist.sample(20000, torch.Generator().manual_seed(5))
    flat = graphs[0].reshape(20000, -1).numpy()
    unique, counts = np.unique(flat, axis=0, return_counts=True)
    for g, c in zip(unique[np.argsort(-counts)[:3]], np.sort(counts)[::-1][:3]):
        p = math.exp(dist.log_prob(torch.tensor(g.reshape(1, 3, 3)).float(), n_draws=20000))
        assert c / 20000 == pytest.approx(p, abs=0.015)


def test_loss_is_the_per_graph_mixture_not_the_per_edge_one():
    # Two fixed permutation draws that disagree on the order of nodes 0 and 1: the first allows
    # only 1 -> 0, the second only 0 -> 1. For the graph {0 -> 1}, the per-graph mixture is
    # (1/2) eps (1 - s) + (1/2) s (s = sigmoid of the edge logit); the per-edge one differs.
    perm_logits = torch.zeros(1, 2, 2)
    edge_logits = torch.full((1, 2, 2), 2.0)
    dist = DAGDistribution(perm_logits, edge_logits, temperature=1.0, sinkhorn_iters=5, eps=1e-9)
    gumbel = torch.tensor([[[[5.0, 0.0], [0.0, 5.0]], [[0.0, 5.0], [5.0, 0.0]]]])  # identity, swap
    probs = dist.probs(gumbel)
    graph = torch.tensor([[[0.0, 1.0], [0.0, 0.0]]])
    s = torch.sigmoid(torch.tensor(2.0)).item()
    per_graph = math.log(0.5 * 1e-9 * (1 - s) + 0.5 * s)
    assert dist.mixture_log_prob(probs, graph).item() == pytest.approx(per_graph, rel=1e-4)
    per_edge = math.log(0.5 * s + 0.5 * 1e-9) + math.log(0.5 * (1 - s) + 0.5 * 1.0)
    assert abs(per_graph - per_edge) > 0.1


def test_forbidden_true_edge_still_has_gradient_to_edge_and_order_logits():
    # The draw puts node 0 first, so 0 -> 1 is forbidden (M_01 = 0) and 1 -> 0 allowed. For the
    # graph {0 -> 1} the log-likelihood is log(sigmoid(L_01) eps) + log(1 - sigmoid(L_10)): its
    # gradient is 1 - s in L_01 and -s in L_10, and the order moves towards allowing 0 -> 1.
    # Clipping sigmoid(L) * M instead gave L_01 and the order no gradient from this edge.
    perm_logits = torch.zeros(1, 2, 2, requires_grad=True)
    edge_logits = torch.full((1, 2, 2), 0.5, requires_grad=True)
    eps = 1e-6
    dist = DAGDistribution(perm_logits, edge_logits, temperature=1.0, sinkhorn_iters=10, eps=eps)
    gumbel = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])  # the identity order
    graph = torch.tensor([[[0.0, 1.0], [0.0, 0.0]]])
    probs, log_probs = dist.draws(gumbel)
    assert probs[0, 0, 0, 1] == 0
    log_lik = dist.mixture_log_prob(probs, graph, log_probs)
    s = torch.sigmoid(torch.tensor(0.5)).item()
    assert log_lik.item() == pytest.approx(math.log(s * eps) + math.log(1 - s), rel=1e-6)
    log_lik.sum().backward()
    torch.testing.assert_close(edge_logits.grad[0], torch.tensor([[0.0, 1 - s], [-s, 0.0]]))
    assert perm_logits.grad.abs().sum() > 0

    def soft_allowed_01(logits):
        _, relaxed = sample_permutations(logits, temperature=1.0, n_iters=10, gumbel=gumbel)
        lower = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        return (relaxed @ lower @ relaxed.transpose(-1, -2))[0, 0, 0, 1].item()

    with torch.no_grad():
        stepped = perm_logits + 0.1 * perm_logits.grad
    assert soft_allowed_01(stepped) > soft_allowed_01(perm_logits.detach())


# ---------------------------------------------------------------------------- network symmetries
@pytest.mark.parametrize("kw", [{}, {"statistics": ["pearson", "collider"], "encoder_rows": 12}])
def test_variable_permutation_equivariance_with_fixed_noise(kw):
    model = tiny_model(1, **kw)
    x = random_input(2, 20, 6, seed=1)
    perm = torch.tensor([4, 2, 0, 5, 1, 3])
    dist, dist_p = model.distribution(x), model.distribution(x[:, :, perm])
    gumbel = dist.noise(12, torch.Generator().manual_seed(0))
    probs = dist.probs(gumbel)
    probs_p = dist_p.probs(gumbel[:, :, perm])  # the same noise, relabelled with the nodes
    torch.testing.assert_close(probs_p, probs[:, :, perm][:, :, :, perm], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kw", [{}, {"statistics": ["pearson", "collider"], "encoder_rows": 12}])
def test_row_permutation_invariance(kw):
    model = tiny_model(2, **kw)
    x = random_input(2, 25, 5, seed=2)
    rows = torch.randperm(25, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.edge_probs(x[:, rows]), model.edge_probs(x), atol=1e-5, rtol=1e-4)


def test_edge_probs_contract():
    model = tiny_model(3)
    x = random_input(3, 15, 4)
    probs = model.edge_probs(x)
    assert probs.shape == (3, 4, 4)
    assert torch.all(torch.diagonal(probs, dim1=-2, dim2=-1) == 0)
    assert torch.all((probs >= 0) & (probs <= 1))
    torch.testing.assert_close(model.edge_probs(x), probs)  # deterministic without a generator


def test_tiny_model_overfits_one_scm():
    rng = np.random.default_rng(0)
    graph = np.zeros((5, 5))
    graph[0, 1] = graph[1, 2] = graph[0, 3] = graph[3, 4] = graph[2, 4] = 1
    x = torch.from_numpy(make_model_input(linear_sem(graph, 64, rng, n_datasets=2), None))
    graphs = torch.tensor(graph, dtype=torch.float32).expand(2, 5, 5)
    model = tiny_model(4, n_perm_samples=16).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(4)
    off = ~np.eye(5, dtype=bool)
    best = 0.0
    for step in range(1, 401):
        loss, _ = model.loss(x, graphs, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0:
            probs = model.edge_probs(x[:1])[0].numpy()
            best = max(best, roc_auc_score(graph[off], probs[off]))
            if best > 0.95:
                break
    assert best > 0.95


def test_input_validation():
    model = tiny_model(max_nodes=4)
    with pytest.raises(ValueError, match="supports"):
        model.edge_probs(random_input(1, 10, 5))
    with pytest.raises(ValueError, match="shape"):
        model.edge_probs(torch.zeros(1, 10, 3, 3))
    with pytest.raises(ValueError, match="temperature"):
        BCNP(temperature=0.0)
    with pytest.raises(ValueError, match="n_perm_samples"):
        BCNP(n_perm_samples=0)


# ---------------------------------------------------------------------------- checkpoints and estimator
@pytest.fixture
def checkpoint(tmp_path):
    return save_model(tmp_path / "tiny_bcnp", tiny_model(5), info={"note": "untrained"})


def test_checkpoint_round_trip_is_exact(checkpoint):
    model = tiny_model(5)
    loaded, meta = load_model(checkpoint, BCNP)
    assert meta["config"] == model.config
    x = random_input(2, 30, 6)
    assert torch.equal(loaded.edge_probs(x), model.edge_probs(x))
    X = np.random.default_rng(0).normal(size=(40, 6))
    a = BCNPEstimator(checkpoint=str(checkpoint), random_state=0, device="cpu").fit(X)
    b = BCNPEstimator(checkpoint=str(checkpoint) + ".safetensors", random_state=0, device="cpu").fit(X)
    pa, pb = a.predict_graph_posterior(20), b.predict_graph_posterior(20)
    np.testing.assert_array_equal(pa.samples, pb.samples)
    np.testing.assert_array_equal(pa.edge_probs, pb.edge_probs)


def test_estimator_posterior(checkpoint):
    rng = np.random.default_rng(1)
    graph = np.triu((rng.random((5, 5)) < 0.5).astype(np.int8), 1)
    X = linear_sem(graph, 80, rng)[0]
    mask = np.zeros_like(X, dtype=bool)
    mask[60:, 2] = True
    est = BCNPEstimator(checkpoint=checkpoint, n_graphs=30, random_state=0, device="cpu")
    est.fit(X, interventions=mask)
    post = est.predict_graph_posterior()
    assert post.samples.shape == (30, 5, 5) and post.is_dag.all()
    assert post.edge_probs.shape == (5, 5) and np.all(np.diag(post.edge_probs) == 0)
    assert np.isfinite(post.log_prob(graph)) and post.log_prob(graph) <= 0
    assert est.sample_graphs(7, random_state=1).shape == (7, 5, 5)
    assert np.isfinite(est.score(X, interventions=mask))
    with pytest.raises(ValueError, match="graph must have shape"):
        post.log_prob(np.zeros((4, 4)))
    # no order allows a cycle: probability exactly 0, whatever the eps floor gives DAGs
    cycle = np.zeros((5, 5), dtype=np.int8)
    cycle[0, 1] = cycle[1, 0] = 1
    assert post.log_prob(cycle) == -np.inf


def test_estimator_bad_checkpoints(tmp_path, checkpoint):
    X = np.random.default_rng(0).normal(size=(30, 5))
    small = save_model(tmp_path / "small", tiny_model(max_nodes=4))
    with pytest.raises(ValueError, match="small.json"):
        BCNPEstimator(checkpoint=small, device="cpu").fit(X)
    truncated = tmp_path / "truncated"
    (tmp_path / "truncated.json").write_text((tmp_path / "tiny_bcnp.json").read_text())
    data = (tmp_path / "tiny_bcnp.safetensors").read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        BCNPEstimator(checkpoint=truncated, device="cpu").fit(X)
    other = json.loads((tmp_path / "tiny_bcnp.json").read_text())
    other["model"] = "avici"
    (tmp_path / "other.json").write_text(json.dumps(other))
    (tmp_path / "other.safetensors").write_bytes(data)
    with pytest.raises(ValueError, match="other.json"):
        BCNPEstimator(checkpoint=tmp_path / "other", device="cpu").fit(X)
    with pytest.raises(ValueError, match=r"The 'n_graphs' parameter of BCNPEstimator must be an int in the range "
                                         r"\[1, inf\). Got 0 instead"):
        BCNPEstimator(checkpoint=checkpoint, n_graphs=0, device="cpu").fit(X)


def test_shipped_checkpoints_reject_the_other_model_and_too_many_variables():
    X = np.random.default_rng(3).normal(size=(20, 4))
    with pytest.raises(ValueError, match="avici_id.json.*'avici'.*not 'bcnp'"):
        BCNPEstimator(checkpoint="avici_id", device="cpu").fit(X)
    wide = np.random.default_rng(4).normal(size=(5, 101))
    with pytest.raises(ValueError, match="101 variables.*bcnp_id_large.json.*at most 100"):
        BCNPEstimator(device="cpu").fit(wide)


def test_meta_fit_trains_and_is_used(tmp_path):
    est = BCNPEstimator(random_state=0, device="cpu", n_graphs=5)
    options = dict(batch_size=2, n_nodes=[3, 4], n_samples=20, n_interventional=5, warmup_steps=1,
                   eval_every=2, checkpoint_every=2, n_validation_batches=1)
    est.meta_fit("id", steps=2, model_config=TINY, out=tmp_path / "meta", progress=False, **options)
    assert [record["step"] for record in est.meta_history_] == [2]
    assert (tmp_path / "meta.json").is_file() and (tmp_path / "meta.train.safetensors").is_file()
    X = np.random.default_rng(0).normal(size=(30, 4))
    post = est.fit(X).predict_graph_posterior()
    assert est.checkpoint_path_ == tmp_path / "meta" and post.is_dag.all()
    loaded = BCNPEstimator(checkpoint=tmp_path / "meta", random_state=0, device="cpu", n_graphs=5).fit(X)
    np.testing.assert_array_equal(loaded.predict_graph_posterior().samples, post.samples)


def test_shipped_checkpoint_loads_by_default():
    X = linear_sem(np.triu(np.ones((6, 6), dtype=np.int8), 1), 100, np.random.default_rng(2))[0]
    est = BCNPEstimator(n_graphs=20, random_state=0, device="cpu").fit(X)
    assert est.checkpoint_path_.name == "bcnp_id_large"
    assert est.predict_graph_posterior().is_dag.all()


def test_default_checkpoint_is_half_precision_and_beats_bcnp_id_in_distribution():
    """The default ``bcnp_id_large`` (encoder from ``avici_id_large``, stored in float16) on ``id``
    data sets: four at d = 10 with interventional rows, and four at d = 20 with observational rows
    only, the setting where ``bcnp_id`` trailed GES and DiBS (``docs/training.md``)."""
    from skcausal_meta.datasets import make_scm_family
    from skcausal_meta.metrics import edge_auroc

    def mean_auroc(checkpoint, X, masks, graphs):
        return np.mean([edge_auroc(g, BCNPEstimator(checkpoint=checkpoint, random_state=0, device="cpu").fit(
            x, interventions=m).predict_graph_posterior(10).edge_probs) for x, m, g in zip(X, masks, graphs)])

    with_interventions = make_scm_family("id", n_datasets=4, n_nodes=10, n_samples=400, n_interventional=100,
                                         random_state=77)
    assert mean_auroc("bcnp_id_large", *with_interventions) > 0.9
    observational = make_scm_family("id", n_datasets=4, n_nodes=20, n_samples=1000, random_state=77)
    auroc = {checkpoint: mean_auroc(checkpoint, *observational) for checkpoint in ("bcnp_id_large", "bcnp_id")}
    assert auroc["bcnp_id_large"] > auroc["bcnp_id"] + 0.05, auroc
    model, meta = load_model(BCNPEstimator(device="cpu").fit(observational[0][0]).checkpoint_path_, BCNP)
    # migrated from the old "encoder_from" record, which kept no digest of the source's weights
    assert meta["info"]["stored_dtype"] == "float16" and meta["info"]["init_encoder_from"]["name"] == "avici_id_large"
    assert model.config["dim"] == 128 and next(model.parameters()).dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_network_matches_cpu_and_samples_dags():
    model, x = tiny_model(3), random_input(2, 50, 7)
    perm_cpu, edge_cpu = model.decode(x)
    perm_gpu, edge_gpu = model.to("cuda").decode(x.to("cuda"))
    torch.testing.assert_close(perm_gpu.cpu(), perm_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(edge_gpu.cpu(), edge_cpu, atol=1e-4, rtol=1e-4)
    X = linear_sem(np.triu(np.ones((6, 6), dtype=np.int8), 1), 200, np.random.default_rng(2))[0]
    options = dict(n_graphs=200, n_mc_samples=1024, random_state=0)
    cpu = BCNPEstimator(device="cpu", **options).fit(X).predict_graph_posterior()
    gpu = BCNPEstimator(device="cuda", **options).fit(X).predict_graph_posterior()
    assert gpu.is_dag.all()
    # different random streams on the two devices: the Monte-Carlo marginals (standard error
    # <= 0.016 each) agree within noise
    assert np.abs(gpu.edge_probs - cpu.edge_probs).max() < 0.1
