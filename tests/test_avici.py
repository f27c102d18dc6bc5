"""Tests of the AVICI network and AviciEstimator (tiny networks, a few seconds each)."""

import hashlib
import itertools
import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from skcausal_meta._validation import is_dag
from skcausal_meta.models.avici import AviciEstimator, AviciModel, project_to_dag
from skcausal_meta.models.amortized.checkpoint import load_model, save_model
from skcausal_meta.models.amortized.inputs import make_model_input

TINY = dict(dim=16, n_layers=1, n_heads=2)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return AviciModel(**{**TINY, **kw})


def _linear_data(graph, n, rng):
    """Linear-Gaussian data on a DAG whose nodes are in topological order 0..d-1."""
    d = graph.shape[0]
    W = graph * rng.choice([-1, 1], size=graph.shape) * rng.uniform(1, 2, size=graph.shape)
    X = np.zeros((n, d))
    for j in range(d):
        X[:, j] = X @ W[:, j] + rng.normal(size=n)
    return X


@pytest.fixture
def checkpoint(tmp_path):
    model = _model()
    return save_model(tmp_path / "tiny_avici", model), model


@pytest.mark.parametrize("kw", [{}, {"statistics": ["pearson", "partial_ols"], "edge_head": "factorised",
                                     "encoder_rows": 15}])
def test_edge_probs_are_equivariant_to_variables_and_invariant_to_rows(kw):
    model = _model(**kw).double().eval()
    x = torch.randn(2, 40, 6, 2, dtype=torch.float64)
    probs = model.edge_probs(x)
    assert probs.shape == (2, 6, 6)
    assert torch.all(torch.diagonal(probs, dim1=-2, dim2=-1) == 0)
    perm_vars, perm_rows = torch.randperm(6), torch.randperm(40)
    torch.testing.assert_close(model.edge_probs(x[:, :, perm_vars]), probs[:, perm_vars][:, :, perm_vars])
    torch.testing.assert_close(model.edge_probs(x[:, perm_rows]), probs)
    assert not torch.allclose(model.edge_probs(torch.randn_like(x)), probs)


def test_tiny_model_overfits_one_fixed_scm():
    rng = np.random.default_rng(0)
    graph = np.triu(rng.random((6, 6)) < 0.5, k=1).astype(np.int8)
    X = _linear_data(graph, 200, rng)
    x = torch.from_numpy(make_model_input(X, None))[None]
    g = torch.from_numpy(graph.astype(np.float32))[None]
    model = _model(seed=1, dual_lr=0.0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    initial_bce = model.loss(x, g)[1]["bce"]
    for _ in range(300):
        loss, stats = model.loss(x, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    probs = model.eval().edge_probs(x)[0].detach().numpy()
    off = ~np.eye(6, dtype=bool)
    assert roc_auc_score(graph[off], probs[off]) > 0.95
    assert stats["bce"] < 0.75 * initial_bce


def test_loss_adds_dual_weighted_spectral_radius_and_dual_ascent_updates_it():
    model = _model(dual_lr=0.5, dual_every=2, dual_burnin=2, penalty_ema=1.0)
    x, g = torch.randn(2, 20, 4, 2), torch.zeros(2, 4, 4)
    loss, stats = model.loss(x, g)
    assert stats["dual"] == 0.0 and loss.item() == pytest.approx(stats["bce"], rel=1e-6)
    model.after_step(0, {"acyclicity": 0.4})  # before burn-in: only the average moves
    assert model.dual.item() == 0.0 and model.penalty_average.item() == pytest.approx(0.4)
    model.after_step(1, {"acyclicity": 0.2})
    assert model.dual.item() == pytest.approx(0.5 * 0.2)
    loss, stats = model.loss(x, g)
    assert loss.item() == pytest.approx(stats["bce"] + 0.1 * stats["acyclicity"], rel=1e-5)
    assert "dual" in dict(model.named_buffers()) and "penalty_average" in dict(model.named_buffers())


def test_estimator_matches_network_and_round_trips_exactly(checkpoint):
    stem, model = checkpoint
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 5))
    mask = np.zeros((50, 5), dtype=bool)
    mask[40:, 2] = True
    est = AviciEstimator(checkpoint=str(stem), device="cpu").fit(X, interventions=mask)
    Z = (X - X.mean(0)) / X.std(0)
    expected = model.eval().edge_probs(torch.from_numpy(make_model_input(Z, mask))[None])[0]
    np.testing.assert_array_equal(est.edge_probs_, expected.detach().double().numpy())
    again = AviciEstimator(checkpoint=str(stem) + ".safetensors", device="cpu").fit(X, interventions=mask)
    np.testing.assert_array_equal(again.edge_probs_, est.edge_probs_)
    assert str(est.checkpoint_path_) == str(stem)


def test_posterior_is_factorised_bernoulli_with_exact_log_prob(checkpoint):
    stem, _ = checkpoint
    X = np.random.default_rng(2).normal(size=(30, 3))
    est = AviciEstimator(checkpoint=stem, n_graphs=4000, random_state=0, device="cpu").fit(X)
    post = est.predict_graph_posterior()
    assert post.samples.shape == (4000, 3, 3)
    np.testing.assert_array_equal(post.edge_probs, est.edge_probs_)
    # sample frequencies agree with the marginals (4000 draws: standard error < 0.008)
    np.testing.assert_allclose(post.samples.mean(0), est.edge_probs_, atol=0.04)
    # exp(log_prob) sums to one over all 2^6 graphs with a zero diagonal (brute force)
    total = 0.0
    for bits in itertools.product([0, 1], repeat=6):
        g = np.zeros((3, 3), dtype=np.int8)
        g[~np.eye(3, dtype=bool)] = bits
        total += np.exp(post.log_prob(g))
    assert total == pytest.approx(1.0)
    assert post.is_dag.dtype == bool
    for bad, match in ((np.eye(3), "zero diagonal"), (np.full((3, 3), 0.5), "0/1"), (np.zeros((4, 4)), "shape")):
        with pytest.raises(ValueError, match=match):
            post.log_prob(bad)


def test_project_to_dag_breaks_cycles_at_the_least_probable_edge():
    probs = np.array([[0, 0.9, 0.1], [0.1, 0, 0.8], [0.3, 0.1, 0]])
    cyclic = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.int8)
    dag = project_to_dag(cyclic, probs)
    np.testing.assert_array_equal(dag, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert is_dag(dag)
    np.testing.assert_array_equal(project_to_dag(dag, probs), dag)


def test_score_is_finite_and_prefers_matching_data(checkpoint):
    stem, _ = checkpoint
    rng = np.random.default_rng(3)
    graph = np.triu(np.ones((4, 4), dtype=np.int8), k=1)
    X = _linear_data(graph, 300, rng)
    est = AviciEstimator(checkpoint=stem, n_graphs=20, random_state=0, device="cpu").fit(X[:200])
    held_out = est.score(X[200:])
    assert np.isfinite(held_out)
    assert held_out > est.score(rng.permutation(X[200:].ravel()).reshape(100, 4))


def test_meta_fit_trains_and_fit_uses_the_trained_network(tmp_path):
    est = AviciEstimator(random_state=0, device="cpu")
    est.meta_fit("id", steps=2, model_config=TINY, out=tmp_path / "m", progress=False, batch_size=2,
                 n_nodes=[3, 4], n_samples=20, n_interventional=5, eval_every=2, n_validation_batches=1)
    assert len(est.meta_history_) == 1 and np.isfinite(est.meta_history_[0]["loss"])
    X = np.random.default_rng(4).normal(size=(30, 4))
    est.fit(X)
    from_file = AviciEstimator(checkpoint=tmp_path / "m", device="cpu").fit(X)
    np.testing.assert_array_equal(est.edge_probs_, from_file.edge_probs_)


def test_meta_fit_warm_start_fine_tunes_the_checkpoint_and_leaves_it_unchanged(checkpoint, tmp_path):
    stem, source = checkpoint
    options = dict(progress=False, batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=1,
                   n_validation_batches=1, warmup_steps=0, decay="constant", weight_decay=0.0)
    digest = hashlib.sha256(stem.with_suffix(".safetensors").read_bytes()).hexdigest()

    def params(model):
        return torch.cat([p.detach().ravel() for p in model.parameters()])

    est = AviciEstimator(checkpoint=stem, device="cpu", random_state=0)
    # one step at a tiny learning rate: the weights are the checkpoint's, not a fresh initialisation
    est.meta_fit("id", steps=1, warm_start=True, lr=1e-9, out=tmp_path / "ft", **options)
    assert est.checkpoint == stem and est.meta_checkpoint_ == tmp_path / "ft"  # the parameter is left as given
    tuned = est._network()[0]
    assert tuned is est.meta_network_
    assert torch.allclose(params(tuned), params(source), atol=1e-6)
    assert not torch.allclose(params(_model(seed=1)), params(source), atol=1e-2)
    assert torch.equal(params(load_model(stem, AviciModel)[0]), params(source))  # the source file is unchanged
    _, meta = load_model(tmp_path / "ft", AviciModel)
    assert meta["info"]["init_from"] == {"name": str(stem), "sha256": digest} and meta["config"] == source.config
    # the same call with more steps continues that run (a warm start from the meta-fitted network)
    est.meta_fit("id", steps=2, warm_start=True, lr=1e-9, out=tmp_path / "ft", **options)
    info = load_model(tmp_path / "ft", AviciModel)[1]["info"]
    assert info["steps"] == 2
    # a real step moves the weights; a second warm start continues from the meta-fitted network
    est.meta_fit("id", steps=1, warm_start=True, lr=1e-2, **options)
    assert est.meta_checkpoint_ is None and est.checkpoint == stem
    assert not torch.allclose(params(est._network()[0]), params(tuned), atol=1e-4)
    with pytest.raises(ValueError, match="model_config must be None when starting from an existing network"):
        est.meta_fit("id", steps=1, warm_start=True, model_config=TINY, **options)
    # that network was kept in memory only: its checkpoint names no source file
    est.meta_fit("id", steps=1, warm_start=True, out=tmp_path / "from_memory", **options)
    info = load_model(tmp_path / "from_memory", AviciModel)[1]["info"]
    assert not {"init_from", "init_encoder_from"} & set(info) and info["family"] == "id"


def test_meta_fit_leaves_the_checkpoint_parameter_and_out_loads_in_a_clone(tmp_path):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    est = AviciEstimator(random_state=0, device="cpu")
    est.meta_fit("id", steps=1, model_config=TINY, out=tmp_path / "m", progress=False, batch_size=2,
                 n_nodes=[3, 4], n_samples=20, n_interventional=5, eval_every=1, n_validation_batches=1)
    with pytest.raises(NotFittedError):  # meta_history_ is set, but nothing is fitted to data yet
        est.predict_graph_posterior()
    assert est.checkpoint is None and est.get_params()["checkpoint"] is None
    assert est.meta_checkpoint_ == tmp_path / "m" and est.meta_network_ is not None
    X = np.random.default_rng(4).normal(size=(30, 4))
    trained = est.fit(X).edge_probs_
    assert est.checkpoint_path_ == tmp_path / "m"
    # a clone is built from the parameters: checkpoint=out loads the trained network ...
    np.testing.assert_array_equal(clone(est).set_params(checkpoint=tmp_path / "m").fit(X).edge_probs_, trained)
    # ... and without it the clone is the default estimator, not the meta-fitted one
    default = clone(est).fit(X)
    assert default.checkpoint_path_.name == "avici_id_large"
    assert not np.allclose(default.edge_probs_, trained)


def test_fit_leaves_the_global_torch_rng_alone():
    X = np.random.default_rng(4).normal(size=(30, 4))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    AviciEstimator(checkpoint="avici_id", random_state=0, device="cpu").fit(X)
    assert torch.equal(torch.rand(3), expected)


def test_meta_fit_continues_a_run_and_records_the_whole_family(tmp_path):
    import dataclasses

    from skcausal_meta.datasets import get_family

    # a family defined in code, with a numpy value (the record is plain JSON all the same)
    family = dataclasses.replace(get_family("id"), name="my_id", n_samples=np.int64(20))
    options = dict(progress=False, batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=1,
                   n_validation_batches=1, decay="constant")  # a schedule that may be extended
    AviciEstimator(device="cpu").meta_fit(family, steps=1, model_config=TINY, out=tmp_path / "m", **options)
    # a new estimator without random_state or model_config continues that run: seed and network from its state
    est = AviciEstimator(device="cpu").meta_fit(family, steps=2, out=tmp_path / "m", **options)
    _, meta = load_model(tmp_path / "m", AviciModel)
    assert meta["info"]["steps"] == 2 and meta["config"] == AviciModel(**TINY).config
    assert meta["info"]["family"] == "my_id" and meta["info"]["family_spec"]["n_samples"] == 20
    assert est.meta_history_[0]["step"] == 2
    with pytest.raises(ValueError, match=r"m\.train\.safetensors.*other settings for \['family_stream'\]"):
        est.meta_fit("ood_graph_ws", steps=3, out=tmp_path / "m", **options)


def test_meta_fit_excludes_held_out_graphs(tmp_path):
    """Graphs listed in ``exclude_graphs`` are redrawn: the first batch, hence the weights, change."""
    from skcausal_meta.models.amortized.config import TrainConfig
    from skcausal_meta.models.amortized.stream import DatasetStream

    options = dict(batch_size=2, n_nodes=[3, 3], n_samples=20, n_interventional=5, eval_every=1,
                   n_validation_batches=1, seed=3)
    first_graphs = DatasetStream("id", TrainConfig(steps=1, **options))[0][1].numpy().astype(np.int8)
    np.save(tmp_path / "held_out.npy", first_graphs)

    def weights(**kwargs):
        est = AviciEstimator(device="cpu").meta_fit("id", steps=1, model_config=TINY, progress=False,
                                                    **options, **kwargs)
        return torch.cat([p.detach().ravel() for p in est._network()[0].parameters()])

    assert torch.equal(weights(), weights())
    assert not torch.equal(weights(), weights(exclude_graphs=tmp_path / "held_out.npy"))
    with pytest.raises((FileNotFoundError, ValueError), match="missing.npy"):
        weights(exclude_graphs=[tmp_path / "missing.npy"])
    with pytest.raises(TypeError, match="exclude_graphs must be a path or a list of paths"):
        weights(exclude_graphs=first_graphs)


def test_bad_checkpoints_and_inputs_fail_naming_the_file(checkpoint, tmp_path):
    stem, _ = checkpoint
    X = np.random.default_rng(5).normal(size=(30, 5))
    with pytest.raises(ValueError, match="tiny_avici.*max_nodes=4"):
        AviciEstimator(checkpoint=stem, max_nodes=4, device="cpu").fit(X)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        AviciEstimator(checkpoint=tmp_path / "nowhere", device="cpu").fit(X)
    with pytest.raises(ValueError, match="checkpoint must be None, a shipped name or a path, got ''"):
        AviciEstimator(checkpoint="", device="cpu").fit(X)
    # truncated weights
    weights = stem.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ValueError, match="tiny_avici.safetensors"):
        AviciEstimator(checkpoint=stem, device="cpu").fit(X)
    # a checkpoint of another model
    other = tmp_path / "other.json"
    meta = json.loads(stem.with_suffix(".json").read_text())
    other.write_text(json.dumps({**meta, "model": "bcnp"}))
    with pytest.raises(ValueError, match="other.json.*'bcnp'"):
        AviciEstimator(checkpoint=other, device="cpu").fit(X)
    # a half-written JSON
    half = tmp_path / "half.json"
    half.write_text(stem.with_suffix(".json").read_text()[:40])
    with pytest.raises(ValueError, match="half.json.*not valid JSON"):
        AviciEstimator(checkpoint=half, device="cpu").fit(X)


def test_shipped_checkpoints_reject_the_other_model_and_too_many_variables():
    X = np.random.default_rng(6).normal(size=(20, 4))
    with pytest.raises(ValueError, match="bcnp_id.json.*'bcnp'.*not 'avici'"):
        AviciEstimator(checkpoint="bcnp_id", device="cpu").fit(X)
    wide = np.random.default_rng(7).normal(size=(5, 101))
    with pytest.raises(ValueError, match="101 variables.*avici_id.*max_nodes=100"):
        AviciEstimator(device="cpu").fit(wide)


@pytest.mark.parametrize("name, family", [("avici_lin_er", "lin"), ("avici_id_large", "id")])
def test_shipped_large_checkpoints_are_half_precision_and_beat_the_small_one_in_their_domain(name, family):
    """The GPU-trained checkpoints (stored in float16) on four data sets of their training domain
    with interventional rows, next to the small CPU-trained ``avici_id``."""
    from pathlib import Path

    from skcausal_meta.datasets import SCMFamily, make_scm_family
    from skcausal_meta.metrics import edge_auroc

    if family == "lin":
        family = SCMFamily.from_yaml(Path(__file__).parents[1] / "benchmarks" / "families" / "id_linear_er.yml")
    X, masks, graphs = make_scm_family(family, n_datasets=4, n_nodes=10, n_samples=400, n_interventional=100,
                                       random_state=77)
    auroc = {checkpoint: np.mean([edge_auroc(g, AviciEstimator(checkpoint=checkpoint, device="cpu").fit(
        x, interventions=m).edge_probs_) for x, m, g in zip(X, masks, graphs)])
        for checkpoint in (name, "avici_id")}
    assert auroc[name] > 0.9 and auroc[name] > auroc["avici_id"] + 0.05, auroc
    est = AviciEstimator(checkpoint=name, device="cpu").fit(X[0], interventions=masks[0])
    model, meta = load_model(est.checkpoint_path_, AviciModel)
    assert est.checkpoint_path_.name == name and meta["info"]["stored_dtype"] == "float16"
    assert model.config["dim"] == 128 and next(model.parameters()).dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_inference_matches_cpu():
    X = _linear_data(np.triu(np.ones((6, 6), dtype=np.int8), k=1), 500, np.random.default_rng(5))
    cpu = AviciEstimator(random_state=0, device="cpu").fit(X)
    gpu = AviciEstimator(random_state=0, device="cuda").fit(X)
    np.testing.assert_allclose(gpu.edge_probs_, cpu.edge_probs_, atol=1e-4)
    assert gpu.predict_graph_posterior().samples.shape[1:] == (6, 6)
    assert abs(gpu.score(X) - cpu.score(X)) < 1e-3 * abs(cpu.score(X))
