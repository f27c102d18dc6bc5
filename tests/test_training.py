"""Tests of the meta-training loop, its data stream, checkpoint I/O and the train CLI."""

import hashlib
import json
import math
import re
from dataclasses import asdict

import numpy as np
import pytest
import torch

from skcausal_meta.datasets import canonical_graph_hash, graphs_isomorphic, list_families, make_scm_family
from skcausal_meta.models.avici import AviciModel
from skcausal_meta.models.checkpoint_io import (
    checkpoint_lineage,
    load_model,
    load_training_state,
    save_model,
    save_training_state,
)
from skcausal_meta.models.training import (
    DatasetStream,
    Lamb,
    TrainConfig,
    held_out_graph_hashes,
    learning_rate,
    make_model_input,
    make_optimizer,
    meta_train,
    read_graph_hashes,
    validation_auroc,
    write_graph_hashes,
)
from skcausal_meta.train import main, model_class

# the data options of the tiny command-line runs, and a network size AVICI and BCNP share
# constant decay: these runs are extended by a step or two, which a cosine schedule refuses
TINY_RUN = ["--family", "id", "--quiet", "--batch-size", "2", "--n-nodes", "3", "4", "--n-samples", "16",
            "--eval-every", "1", "--n-validation-batches", "1", "--device", "cpu", "--decay", "constant"]
TINY_ENCODER = ["--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2}']

TINY_DATA = dict(batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=2,
                 n_validation_batches=1, checkpoint_every=2)


def _tiny_model(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        # dropout and an early dual ascent make the resume test cover RNG and buffer state
        return AviciModel(dim=8, n_layers=1, n_heads=2, dropout=0.2, dual_burnin=1, dual_every=1, dual_lr=0.5)


def test_learning_rate_schedules():
    cfg = TrainConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert [learning_rate(t, cfg) for t in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert learning_rate(10, cfg) == pytest.approx(1.0)
    assert learning_rate(55, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert learning_rate(100, cfg) == pytest.approx(0.1)
    cosine = [learning_rate(t, cfg) for t in range(10, 100)]
    assert all(a >= b for a, b in zip(cosine, cosine[1:]))
    inv = TrainConfig(steps=100, lr=1.0, warmup_steps=10, decay="inverse_sqrt")
    assert learning_rate(39, inv) == pytest.approx(math.sqrt(10 / 40))
    assert learning_rate(50, TrainConfig(lr=0.3, warmup_steps=0, decay="constant")) == 0.3


@pytest.mark.parametrize("bad, match", [
    (dict(decay="step"), "decay"), (dict(n_nodes=[5, 3]), "n_nodes"), (dict(steps=0), "steps"),
    (dict(p_observational_only=2.0), "p_observational_only"), (dict(lr=0.0), "lr"),
    (dict(optimizer="sgd"), "optimizer"),
])
def test_train_config_rejects_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)


def test_make_model_input_zscores_each_dataset_and_stacks_flags():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, size=(2, 50, 3))
    X[1, :, 2] = 7.0  # constant column: zeros, not NaN
    masks = rng.random((2, 50, 3)) < 0.2
    x = make_model_input(X, masks)
    assert x.shape == (2, 50, 3, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(x[0, :, :, 0].std(0), 1, atol=1e-5)
    np.testing.assert_array_equal(x[1, :, 2, 0], 0)
    np.testing.assert_array_equal(x[..., 1], masks)
    with pytest.raises(ValueError, match="masks"):
        make_model_input(X, masks[:, :10])


def test_stream_is_a_pure_function_of_seed_and_step():
    cfg = TrainConfig(seed=3, **TINY_DATA)
    a, b = DatasetStream("id", cfg), DatasetStream("id", cfg)
    x5, g5 = a[5]
    torch.testing.assert_close(b[5][0], x5)
    torch.testing.assert_close(b[5][1], g5)
    assert x5.shape[0] == 2 and x5.shape[-1] == 2 and 3 <= x5.shape[2] <= 4
    assert g5.shape == (2, x5.shape[2], x5.shape[2])
    assert not torch.equal(a[6][0], x5) or not torch.equal(a[6][1], g5)
    validation = DatasetStream("id", cfg, stream_id=1)[5][0]
    assert validation.shape != x5.shape or not torch.equal(validation, x5)


def test_stream_skips_excluded_graphs():
    cfg = TrainConfig(seed=0, **TINY_DATA)
    banned = {canonical_graph_hash(g) for g in DatasetStream("id", cfg)[0][1].numpy().astype(int)}
    stream = DatasetStream("id", cfg, exclude_hashes=banned, graph_hash=canonical_graph_hash)
    x, graphs = stream[0]
    assert graphs.shape[0] == 2
    assert not {canonical_graph_hash(g) for g in graphs.numpy().astype(int)} & banned
    with pytest.raises(ValueError, match="graph_hash"):
        DatasetStream("id", cfg, exclude_hashes=banned)


def test_stream_excludes_test_graphs_of_several_sizes():
    # d in {3, 4}: few graphs up to isomorphism, so the stream keeps hitting the test graphs
    cfg = TrainConfig(seed=0, **{**TINY_DATA, "batch_size": 4})
    test_sets = {d: make_scm_family("id", n_datasets=4, n_nodes=d, n_samples=30, n_interventional=5,
                                    random_state=7)[2] for d in (3, 4)}
    excluded = held_out_graph_hashes("id", [3, 4], seeds=[7], n_datasets=4, split=None)
    assert set(excluded) == {canonical_graph_hash(g) for gs in test_sets.values() for g in gs}

    def hits(stream, steps):
        return sum(any(graphs_isomorphic(g, t) for t in test_sets[len(g)])
                   for step in steps for g in stream[step][1].numpy().astype(np.int8))

    steps = range(12)
    assert hits(DatasetStream("id", cfg), steps) > 0  # without exclusion the test graphs occur
    stream = DatasetStream("id", cfg, exclude_hashes=excluded, graph_hash=canonical_graph_hash)
    assert hits(stream, steps) == 0
    sizes = {stream[t][1].shape[1] for t in steps}
    assert sizes == {3, 4}  # the redrawn data sets keep the step's d, so they stack
    again = DatasetStream("id", cfg, exclude_hashes=excluded, graph_hash=canonical_graph_hash)
    for t in (0, 5):  # still a pure function of (seed, step)
        torch.testing.assert_close(again[t][0], stream[t][0])
        torch.testing.assert_close(again[t][1], stream[t][1])


def test_stream_fails_clearly_when_every_graph_is_excluded():
    cfg = TrainConfig(**{**TINY_DATA, "n_nodes": [2, 2]})
    every_graph = {canonical_graph_hash(np.zeros((2, 2))), canonical_graph_hash(np.array([[0, 1], [0, 0]]))}
    stream = DatasetStream("id", cfg, exclude_hashes=every_graph, graph_hash=canonical_graph_hash)
    with pytest.raises(RuntimeError, match="excluded graph hashes"):
        stream[0]


def test_graph_hash_files_of_several_sizes(tmp_path):
    g10, g20 = (make_scm_family("id", n_datasets=3, n_nodes=d, n_samples=2, random_state=1)[2] for d in (10, 20))
    np.save(tmp_path / "d10.npy", g10)
    write_graph_hashes(tmp_path / "d20.txt", [canonical_graph_hash(g) for g in g20], header="d = 20\nseed 1")
    assert (tmp_path / "d20.txt").read_text().startswith("# d = 20\n# seed 1\n")
    hashes = read_graph_hashes([tmp_path / "d10.npy", tmp_path / "d20.txt"])
    assert hashes == {canonical_graph_hash(g) for g in [*g10, *g20]}
    (tmp_path / "bad.txt").write_text("# comment\n\nnot-a-hash\n")
    with pytest.raises(ValueError, match="line 3 of graph-hash file .*bad.txt"):
        read_graph_hashes([tmp_path / "bad.txt"])
    np.save(tmp_path / "bad.npy", np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="bad.npy"):
        read_graph_hashes([tmp_path / "bad.npy"])
    np.save(tmp_path / "probs.npy", np.full((1, 3, 3), 0.5) * (1 - np.eye(3)))  # probabilities, not graphs
    with pytest.raises(ValueError, match="probs.npy.* 0/1"):
        read_graph_hashes([tmp_path / "probs.npy"])
    np.save(tmp_path / "objects.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npy.* not a numeric"):
        read_graph_hashes([tmp_path / "objects.npy"])
    np.savez(tmp_path / "stack.npz", g=g10)
    with pytest.raises(ValueError, match="stack.npz.* not text"):
        read_graph_hashes([tmp_path / "stack.npz"])


def test_held_out_hashes_follow_the_dataset_spec():
    from skcausal_meta.datasets import DatasetSpec

    spec = DatasetSpec(family="id", split="test", n_datasets=3, n_nodes=5, n_samples=50, seed=2)
    assert held_out_graph_hashes("id", [5], [2], 3) == sorted({canonical_graph_hash(g) for g in spec.generate().graphs})


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("optimizer", ["adamw", "lamb"])
def test_resumed_training_equals_uninterrupted_training(tmp_path, optimizer):
    # the schedule does not depend on steps, so a run of 2 steps extended to 4 is a run of 4
    cfg = dict(seed=1, lr=1e-2, warmup_steps=1, optimizer=optimizer, decay="inverse_sqrt", **TINY_DATA)
    straight = _tiny_model()
    history = meta_train(straight, "id", TrainConfig(steps=4, **cfg), progress=False, device="cpu")
    assert [r["step"] for r in history] == [2, 4]

    resumed = _tiny_model()
    meta_train(resumed, "id", TrainConfig(steps=2, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    fresh = _tiny_model()  # a new process would rebuild the model and load the state
    meta_train(fresh, "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False, device="cpu",
               log_path=tmp_path / "log" / "train.jsonl")
    expected, got = _state(straight), _state(fresh)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    assert got["dual"] > 0
    logged = [json.loads(line) for line in (tmp_path / "log" / "train.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [4] and set(logged[0]) >= {"loss", "val_auroc", "lr"}
    with pytest.raises(ValueError, match="lr"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=6, **{**cfg, "lr": 0.5}), out=tmp_path / "run",
                   progress=False, device="cpu")
    with pytest.raises(ValueError, match=r"train\.safetensors' is at step 4, beyond steps=3"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=3, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    assert meta_train(fresh, "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False,
                      device="cpu") == []  # the same command again: nothing left to do
    other = {"adamw": "lamb", "lamb": "adamw"}[optimizer]
    with pytest.raises(ValueError, match="optimizer"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=6, **{**cfg, "optimizer": other}), out=tmp_path / "run",
                   progress=False, device="cpu")


def test_a_cosine_run_resumes_only_with_its_own_steps(tmp_path, monkeypatch):
    """Stopped and resumed with its own steps it is the run never stopped; extended, its learning
    rates after the stop would change (they depend on steps), so it would not be the run it says."""
    from skcausal_meta.models import training

    cfg = dict(seed=1, lr=1e-2, warmup_steps=1, decay="cosine", **{**TINY_DATA, "checkpoint_every": 2})
    assert learning_rate(2, TrainConfig(steps=4, **cfg)) != learning_rate(2, TrainConfig(steps=6, **cfg))
    straight = _tiny_model()
    meta_train(straight, "id", TrainConfig(steps=4, **cfg), progress=False, device="cpu")
    train_step = training.train_step

    def stop_at_step_2(*args, **kwargs):
        if args[4] == 2:
            raise KeyboardInterrupt
        return train_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", stop_at_step_2)
    with pytest.raises(KeyboardInterrupt):
        meta_train(_tiny_model(), "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    monkeypatch.setattr(training, "train_step", train_step)
    with pytest.raises(ValueError, match=r"cosine schedule over 4 steps; other steps \(6\) would change its "
                                         r"learning rates from step 2"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=6, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    resumed = _tiny_model()
    meta_train(resumed, "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    expected, got = _state(straight), _state(resumed)
    assert all(torch.equal(expected[key], got[key]) for key in expected)


def test_meta_train_checks_sizes_and_out_before_training(tmp_path, monkeypatch):
    from skcausal_meta.models import training
    from skcausal_meta.models.bcnp import BCNP

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the settings were checked")

    monkeypatch.setattr(training, "train_step", no_training)
    bcnp = BCNP(dim=8, n_layers=1, n_heads=2, max_nodes=4)
    with pytest.raises(ValueError, match=r"n_nodes=\[3, 5\] reaches beyond the network's max_nodes=4"):
        meta_train(bcnp, "id", TrainConfig(steps=2, **{**TINY_DATA, "n_nodes": [3, 5]}), progress=False, device="cpu")
    (tmp_path / "file").write_text("")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        meta_train(_tiny_model(), "id", TrainConfig(steps=2, **TINY_DATA), out=tmp_path / "file" / "run",
                   progress=False, device="cpu")


def _numpy_lamb(weights, grads_per_step, lr, betas, eps, weight_decay, adapted_ndim=2):
    """LAMB (You et al. 2020, Algorithm 2) written out in float64 numpy, one tensor at a time;
    only tensors with at least ``adapted_ndim`` dimensions get the trust ratio."""
    beta1, beta2 = betas
    weights = [w.astype(np.float64).copy() for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, grads in enumerate(grads_per_step, start=1):
        for k, (w, g) in enumerate(zip(weights, grads)):
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g * g
            r = (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps) + weight_decay * w
            w_norm, r_norm = np.sqrt((w * w).sum()), np.sqrt((r * r).sum())
            adapt = w.ndim >= adapted_ndim and w_norm > 0 and r_norm > 0
            trust = w_norm / r_norm if adapt else 1.0
            weights[k] = w - lr * trust * r
    return weights


def test_states_written_before_newer_options_resume_with_their_defaults(tmp_path):
    """Older states lack ``optimizer`` (train config) and ``key_size`` (model config)."""
    from safetensors.torch import load_file, save_file

    cfg = dict(seed=1, lr=1e-2, warmup_steps=1, decay="inverse_sqrt", **TINY_DATA)
    meta_train(_tiny_model(), "id", TrainConfig(steps=2, **cfg), out=tmp_path / "old", progress=False, device="cpu")
    path = tmp_path / "old.train.safetensors"
    with open(path, "rb") as fh:  # drop the option from the stored config, as in older files
        meta = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))["__metadata__"]
    saved, model_config = json.loads(meta["train_config"]), json.loads(meta["config"])
    del saved["optimizer"], model_config["key_size"]
    save_file(load_file(path), path,
              metadata={**meta, "train_config": json.dumps(saved), "config": json.dumps(model_config)})
    with pytest.raises(ValueError, match="optimizer"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=3, optimizer="lamb", **cfg), out=tmp_path / "old",
                   progress=False, device="cpu")
    history = meta_train(_tiny_model(), "id", TrainConfig(steps=4, **cfg), out=tmp_path / "old", progress=False,
                         device="cpu")
    assert [r["step"] for r in history] == [4]


def test_lamb_steps_match_a_numpy_reference():
    rng = np.random.default_rng(0)
    # weight matrices (one zero-initialised: trust ratio 1 on its first step, one whose gradient
    # is zero: its update is weight decay alone), a bias and a scalar (never layer-adapted)
    initial = [rng.normal(size=(2, 3)), np.zeros((3, 2)), rng.normal(size=(2, 2)), rng.normal(size=3),
               np.array(0.0)]
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), np.zeros((2, 2)), rng.normal(size=3),
              rng.normal(size=())] for _ in range(3)]
    hyper = dict(lr=0.1, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.05)
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float32)) for w in initial]
    optimizer = Lamb(params, **hyper)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
    expected = _numpy_lamb(initial, grads, **hyper)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-6)
    # the reference discriminates: without the trust ratio the weights land elsewhere
    unscaled = _numpy_lamb(initial, grads, **hyper, adapted_ndim=np.inf)
    assert not np.allclose(params[0].detach().numpy(), unscaled[0], atol=1e-3)
    # and with the trust ratio on the bias and the scalar too, those land elsewhere
    adapted = _numpy_lamb(initial, grads, **hyper, adapted_ndim=0)
    for k in (3, 4):
        assert not np.allclose(params[k].detach().numpy(), adapted[k], atol=1e-3)
    assert float(optimizer.state[params[0]]["step"]) == 3.0
    assert isinstance(make_optimizer(params, TrainConfig(optimizer="lamb")), Lamb)
    assert isinstance(make_optimizer(params, TrainConfig()), torch.optim.AdamW)
    with pytest.raises(ValueError, match="betas"):
        Lamb(params, betas=(0.9, 1.0))


def test_a_non_finite_loss_stops_training_naming_the_step_and_keeps_the_weights():
    from skcausal_meta.models.training import DatasetStream, train_step

    model, config = _tiny_model(), TrainConfig(steps=1, **TINY_DATA)
    x, graphs = DatasetStream("id", config)[0]
    x[0, 0, 0, 0] = float("nan")
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.AdamW(model.parameters())
    with pytest.raises(FloatingPointError, match="step 7"):
        train_step(model, optimizer, x, graphs, 7, config, torch.device("cpu"))
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_validation_auroc_of_a_perfect_and_of_an_inverted_model():
    graphs = torch.tensor([[[0, 1, 1], [0, 0, 1], [0, 0, 0]]], dtype=torch.float32)

    class Oracle(torch.nn.Module):
        def __init__(self, sign):
            super().__init__()
            self.sign = sign

        def edge_probs(self, x):
            return 0.5 + self.sign * (graphs - 0.5)

    batches = [(torch.zeros(1, 5, 3, 2), graphs)]
    assert validation_auroc(Oracle(1), batches, "cpu") == 1.0
    assert validation_auroc(Oracle(-1), batches, "cpu") == 0.0


def test_checkpoint_round_trips_and_errors_name_the_file(tmp_path):
    model = _tiny_model()
    stem = save_model(tmp_path / "ckpt", model, info={"note": "x"})
    loaded, meta = load_model(tmp_path / "ckpt.json", AviciModel)
    assert meta["info"] == {"note": "x"} and meta["model"] == "avici"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.json", "ckpt.safetensors"]  # no temp files

    class Other(AviciModel):
        model_name = "bcnp"

    with pytest.raises(ValueError, match="ckpt.json.*'avici'"):
        load_model(stem, Other)

    optimizer = torch.optim.AdamW(model.parameters())
    model.loss(torch.randn(1, 8, 3, 2), torch.zeros(1, 3, 3))[0].backward()
    optimizer.step()
    save_training_state(tmp_path / "state.safetensors", model, optimizer, 7, asdict(TrainConfig()))
    other_opt = torch.optim.AdamW(_tiny_model(seed=1).parameters())
    step, cfg = load_training_state(tmp_path / "state.safetensors", copy := _tiny_model(seed=1), other_opt)
    assert step == 7 and cfg == json.loads(json.dumps(asdict(TrainConfig())))
    assert torch.equal(copy.encoder.embed.weight, model.encoder.embed.weight)
    assert torch.equal(other_opt.state_dict()["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])
    with pytest.raises(ValueError, match="state.safetensors.*'avici'"):  # a training state of another model
        load_training_state(tmp_path / "state.safetensors", Other(dim=8, n_layers=1, n_heads=2), other_opt)
    # weights of another model behind a JSON that claims this one
    (tmp_path / "swapped.json").write_text((tmp_path / "ckpt.json").read_text())
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / "swapped.safetensors",
              metadata={"model": "bcnp"})
    with pytest.raises(ValueError, match="swapped.safetensors.*'bcnp'"):
        load_model(tmp_path / "swapped", AviciModel)
    raw = (tmp_path / "state.safetensors").read_bytes()
    (tmp_path / "state.safetensors").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="state.safetensors"):
        load_training_state(tmp_path / "state.safetensors", copy, other_opt)


def test_cli_trains_and_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "cli_model"
    history = main(["--model", "avici", "--family", "id", "--steps", "2", "--out", str(out), "--quiet",
                    "--batch-size", "2", "--n-nodes", "3", "4", "--n-samples", "16", "--eval-every", "2",
                    "--n-validation-batches", "1", "--device", "cpu",
                    "--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}'])
    assert len(history) == 1
    model, meta = load_model(out, AviciModel)
    assert model.config["dim"] == 8
    assert meta["info"]["command"].startswith("python -m skcausal_meta.train --model avici")
    assert meta["info"]["steps"] == 2 and (tmp_path / "cli_model.train.safetensors").is_file()


def test_cli_writes_test_graph_hashes_and_excludes_several_files(tmp_path):
    hashes = main(["hash-test-graphs", "--family", "id", "--n-nodes", "3", "4", "--seeds", "0", "1",
                   "--n-datasets", "3", "--split", "none", "--out", str(tmp_path / "test.txt")])
    assert read_graph_hashes([tmp_path / "test.txt"]) == set(hashes)
    assert {len(h) for h in hashes} == {16} and len(hashes) >= 2
    np.save(tmp_path / "more.npy", np.triu(np.ones((1, 3, 3), dtype=np.int8), 1))
    out = tmp_path / "excl"
    main(["--model", "avici", "--family", "id", "--steps", "1", "--out", str(out), "--quiet", "--batch-size", "2",
          "--n-nodes", "3", "4", "--n-samples", "16", "--eval-every", "1", "--n-validation-batches", "1",
          "--device", "cpu", "--optimizer", "lamb", "--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}',
          "--exclude-graphs", str(tmp_path / "test.txt"), str(tmp_path / "more.npy")])
    _, meta = load_model(out, AviciModel)
    assert meta["info"]["train_config"]["optimizer"] == "lamb"
    excluded = read_graph_hashes([tmp_path / "test.txt", tmp_path / "more.npy"])
    assert meta["info"]["excluded_graphs"]["count"] == len(excluded) >= len(hashes) >= 2
    # resuming with another set of excluded graphs would change the stream: refused
    with pytest.raises(ValueError, match="excluded_graphs"):
        main(["--model", "avici", "--family", "id", "--steps", "2", "--out", str(out), "--quiet", "--batch-size",
              "2", "--n-nodes", "3", "4", "--n-samples", "16", "--eval-every", "1", "--n-validation-batches", "1",
              "--device", "cpu", "--optimizer", "lamb", "--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}',
              "--exclude-graphs", str(tmp_path / "more.npy")])


def test_cli_init_from_fine_tunes_a_checkpoint(tmp_path):
    data = TINY_RUN
    base = tmp_path / "base"
    main(["--model", "avici", "--steps", "2", "--out", str(base), *data,
          "--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}'])
    tuned = tmp_path / "tuned"
    main(["--model", "avici", "--steps", "1", "--out", str(tuned), "--init-from", str(base), "--lr", "1e-9",
          "--warmup-steps", "0", "--decay", "constant", "--weight-decay", "0", "--seed", "7", *data])
    (source, _), (model, meta) = load_model(base, AviciModel), load_model(tuned, AviciModel)
    assert meta["info"]["warm_start_from"] == str(base) and model.config == source.config
    for (name, a), b in zip(source.named_parameters(), model.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    torch.manual_seed(7)  # what a fresh network of run "tuned" would have started from
    fresh = AviciModel(**source.config)
    assert not all(torch.allclose(a, b, atol=1e-2) for a, b in zip(fresh.parameters(), model.parameters()))
    with pytest.raises(ValueError, match="base.json.*holds a 'avici' model"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-from", str(base), *data])
    with pytest.raises(SystemExit):
        main(["--model", "avici", "--steps", "1", "--out", str(tmp_path / "y"), "--init-from", str(base), *data,
              "--model-config", '{"dim": 8}'])


def test_cli_init_encoder_from_copies_the_shared_encoder_across_models(tmp_path):
    from skcausal_meta.models.bcnp import BCNP

    data, encoder = TINY_RUN, TINY_ENCODER[1]
    base = tmp_path / "avici"
    main(["--model", "avici", "--steps", "2", "--out", str(base), *data, "--model-config", encoder])
    out = tmp_path / "bcnp"
    main(["--model", "bcnp", "--steps", "1", "--out", str(out), "--init-encoder-from", str(base), "--lr", "1e-9",
          "--warmup-steps", "0", "--decay", "constant", "--weight-decay", "0", *data, "--model-config", encoder])
    (avici, _), (bcnp, meta) = load_model(base, AviciModel), load_model(out, BCNP)
    assert meta["info"]["encoder_from"] == str(base)
    # data rows never attend to BCNP's query row, so with the copied weights they equal AVICI's encoding
    x = torch.randn(2, 12, 4, 2)
    with torch.no_grad():
        assert torch.allclose(bcnp.encoder(x)[:, :12], avici.encoder(x), atol=1e-5)
    # and the reverse direction: a fresh AVICI from the BCNP encoder (the query row is left out)
    main(["--model", "avici", "--steps", "1", "--out", str(tmp_path / "back"), "--init-encoder-from", str(out),
          "--lr", "1e-9", "--warmup-steps", "0", "--decay", "constant", "--weight-decay", "0", *data,
          "--model-config", encoder])
    back, _ = load_model(tmp_path / "back", AviciModel)
    with torch.no_grad():
        assert torch.allclose(back.encoder(x), bcnp.encoder(x)[:, :12], atol=1e-5)
    # other sizes are refused, the head split too although it leaves every tensor's shape unchanged
    for config, differs in [('{"dim": 8, "n_layers": 3, "n_heads": 2}', "'n_layers': 2"),
                            ('{"dim": 16, "n_layers": 2, "n_heads": 2}', "'dim': 8"),
                            ('{"dim": 8, "n_layers": 2, "n_heads": 4}', "'n_heads': 2")]:
        with pytest.raises(ValueError, match=rf"avici\.json.*has an encoder with .*{differs}"):
            main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-encoder-from",
                  str(base), *data, "--model-config", config])
    with pytest.raises(ValueError, match=r"avici\.safetensors.*no encoder matching BCNP.*other shapes: \['embed"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-encoder-from", str(base),
              *data, "--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2, "in_features": 3}'])
    with pytest.raises(SystemExit):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "y"), "--init-encoder-from", str(base),
              "--init-from", str(out), *data])
    # a source whose JSON lacks the encoder's sizes is named
    meta = json.loads(base.with_suffix(".json").read_text())
    del meta["config"]["n_heads"]
    (tmp_path / "sizeless.json").write_text(json.dumps(meta))
    (tmp_path / "sizeless.safetensors").write_bytes(base.with_suffix(".safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"sizeless\.json' has a config without the encoder's sizes.*n_heads"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "z"), "--init-encoder-from",
              str(tmp_path / "sizeless"), *data, "--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2}'])
    # a shipped source is recorded by its name, not by where this installation keeps it
    main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "shipped"), "--init-encoder-from",
          "avici_id_large", *data, "--model-config", '{"dim": 128, "n_layers": 6, "n_heads": 8}'])
    assert load_model(tmp_path / "shipped", BCNP)[1]["info"]["encoder_from"] == "avici_id_large"


def test_resumed_run_keeps_the_checkpoint_it_started_from(tmp_path, monkeypatch):
    from skcausal_meta.models.bcnp import BCNP

    monkeypatch.chdir(tmp_path)
    base, other, out = tmp_path / "base", tmp_path / "other", tmp_path / "run"
    for stem in (base, other):
        main(["--model", "avici", "--steps", "1", "--out", str(stem), *TINY_RUN, *TINY_ENCODER])
    main(["--model", "bcnp", "--steps", "1", "--out", str(out), "--init-encoder-from", "base", *TINY_RUN,
          *TINY_ENCODER])
    assert load_model(out, BCNP)[1]["info"]["encoder_from"] == str(base)  # the absolute path of a relative one
    # resumed without the flag and without --model-config: the weights, their configuration and the
    # record of their source all come from the training state
    main(["--model", "bcnp", "--steps", "2", "--out", str(out), *TINY_RUN])
    info = load_model(out, BCNP)[1]["info"]
    assert info["steps"] == 2 and info["encoder_from"] == str(base) and "--init-encoder-from" not in info["command"]
    with pytest.raises(ValueError, match=r"run\.train\.safetensors.*started from .*'encoder_from'.*base"):
        main(["--model", "bcnp", "--steps", "3", "--out", str(out), "--init-encoder-from", str(other), *TINY_RUN])
    # the flag it started with, given as an absolute path this time, is the same source
    main(["--model", "bcnp", "--steps", "3", "--out", str(out), "--init-encoder-from", str(base), *TINY_RUN])
    # a state written before sources were kept takes them from its run's checkpoint
    state = tmp_path / "run.train.safetensors"
    model, _ = load_model(out, BCNP)
    optimizer = make_optimizer(model.parameters(), TrainConfig())
    step, saved = load_training_state(state, model, optimizer)
    save_training_state(state, model, optimizer, step, {k: v for k, v in saved.items() if k != "sources"})
    main(["--model", "bcnp", "--steps", "4", "--out", str(out), *TINY_RUN])
    assert load_model(out, BCNP)[1]["info"]["encoder_from"] == str(base)
    # a run started from fresh weights refuses a source, and a run goes on with the family it began with
    with pytest.raises(ValueError, match=r"base\.train\.safetensors.*started from fresh weights"):
        main(["--model", "avici", "--steps", "2", "--out", str(base), "--init-from", str(other), *TINY_RUN])
    with pytest.raises(ValueError, match=r"run\.train\.safetensors.*other settings for \['family'\]"):
        main(["--model", "bcnp", "--steps", "5", "--out", str(out), *TINY_RUN, "--family", "ood_graph_ws"])
    # the state of another model is named as such, not passed on as a foreign network config
    with pytest.raises(ValueError, match=r"run\.train\.safetensors.* holds a 'bcnp' model, not 'avici'"):
        main(["--model", "avici", "--steps", "5", "--out", str(out), *TINY_RUN])


def test_checkpoint_lineage_follows_warm_starts_encoder_copies_and_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # none of the shipped checkpoints' run folders exist here
    assert [stem.name for stem, _ in checkpoint_lineage("bcnp_id_large")] == [
        "bcnp_id_large", "avici_id_large", "avici_lin_er"]  # the last found as the export of the recorded run
    main(["--model", "avici", "--steps", "1", "--out", "base", *TINY_RUN, *TINY_ENCODER])
    main(["--model", "avici", "--steps", "1", "--out", "warm", "--init-from", "base", *TINY_RUN])
    main(["export", "--model", "avici", "warm", "half"])
    main(["--model", "bcnp", "--steps", "1", "--out", "bcnp", "--init-encoder-from", "half", *TINY_RUN,
          *TINY_ENCODER])
    lineage = checkpoint_lineage("bcnp")
    assert [stem.name for stem, _ in lineage] == ["bcnp", "half", "base"]
    assert [meta["info"]["steps"] for _, meta in lineage] == [1, 1, 1] and lineage[0][1]["model"] == "bcnp"
    assert lineage[1][1]["info"]["family_spec"]["name"] == "id"  # what replaying its stream needs
    digest = hashlib.sha256((tmp_path / "base.safetensors").read_bytes()).hexdigest()
    assert lineage[1][1]["info"]["warm_start_from_sha256"] == digest
    # "base" trained on: other weights, but its stream holds the one "warm" started from
    main(["--model", "avici", "--steps", "2", "--out", "base", *TINY_RUN, *TINY_ENCODER])
    assert [stem.name for stem, _ in checkpoint_lineage("bcnp")] == ["bcnp", "half", "base"]
    # "base" is trained again from other weights: following the name would give a wrong stream
    main(["--model", "avici", "--steps", "1", "--out", "base", "--seed", "5", "--no-resume", *TINY_RUN,
          *TINY_ENCODER])
    with pytest.raises(ValueError, match=r"half\.json' started from '.*base' with weights of SHA-256 "
                                         rf"{digest[:12]}.*base\.safetensors' now holds other weights.*continuation"):
        checkpoint_lineage("bcnp")
    # continuing "warm" keeps the source's weights as they were when the run began
    main(["--model", "avici", "--steps", "2", "--out", "warm", "--init-from", "base", *TINY_RUN])
    assert load_model("warm", AviciModel)[1]["info"]["warm_start_from_sha256"] == digest
    (tmp_path / "base.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"half\.json' started from '.*base', which is neither"):
        checkpoint_lineage("bcnp")


def _eval_amortized():
    """``benchmarks/eval_amortized.py`` as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "eval_amortized.py"
    spec = importlib.util.spec_from_file_location("eval_amortized", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_amortized_excludes_the_graphs_of_every_stream_in_the_lineage(tmp_path, monkeypatch):
    eval_amortized = _eval_amortized()
    monkeypatch.chdir(tmp_path)
    sizes = ["--n-nodes", "6", "7"]  # graphs of this size rarely repeat
    main(["--model", "avici", "--steps", "2", "--out", "base", "--seed", "1", *TINY_RUN, *sizes, *TINY_ENCODER])
    main(["--model", "avici", "--steps", "3", "--out", "warm", "--seed", "2", "--init-from", "base", *TINY_RUN, *sizes])

    def trained_graphs(seed, steps):  # the streams as the runs drew them (16 rows, interventions and all)
        stream = DatasetStream("id", TrainConfig(steps=steps, batch_size=2, n_nodes=[6, 7], n_samples=16, seed=seed))
        return {canonical_graph_hash(g) for t in range(steps) for g in stream[t][1].numpy().astype(np.int8)}

    base_graphs, warm_graphs = trained_graphs(1, 2), trained_graphs(2, 3)
    assert base_graphs - warm_graphs  # so that leaving out the source's stream would show
    assert eval_amortized.checkpoint_graph_hashes("warm", tmp_path) == base_graphs | warm_graphs
    assert (tmp_path / "train_hashes_base.npz").is_file() and (tmp_path / "train_hashes_warm.npz").is_file()


def test_eval_amortized_scores_only_unseen_graphs_and_resumes(tmp_path, monkeypatch, capsys):
    """The script end to end on two small settings, with the (minutes-long) replay of the shipped
    checkpoints' streams replaced by a set that holds the graph of one test set."""
    eval_amortized = _eval_amortized()
    settings = [name for name, *_ in eval_amortized.SETTINGS]
    k = settings.index("lin-Gauss ER d=20 obs")
    _, _, graphs = eval_amortized.test_sets(k, 3)
    seen = canonical_graph_hash(graphs[1])
    replayed = []
    monkeypatch.setattr(eval_amortized, "checkpoint_graph_hashes",
                        lambda checkpoint, out: replayed.append(checkpoint) or {seen})
    argv = ["--out", str(tmp_path), "--models", "avici", "--n-datasets", "3",
            "--settings", "id d=10 obs", "lin-Gauss ER d=20 obs"]
    eval_amortized.main(argv)
    assert replayed == ["avici_id_large", "bcnp_id_large"]  # the defaults' lineages, whatever --models says
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [(r["setting"], r["index"]) for r in records] == [
        ("id d=10 obs", 0), ("id d=10 obs", 1), ("id d=10 obs", 2),
        ("lin-Gauss ER d=20 obs", 0), ("lin-Gauss ER d=20 obs", 2)]  # the seen graph is left out
    assert all(0.5 < r["auroc"] <= 1 and r["model"] == "avici" for r in records)
    table = capsys.readouterr().out
    assert re.search(r"^lin-Gauss ER d=20 obs +avici +2 ", table, re.M)  # two of three data sets
    eval_amortized.main(argv)  # a rerun scores nothing again
    assert (tmp_path / "records.jsonl").read_text().count("\n") == 5
    assert "id_linear_er" not in list_families()


def test_checkpoint_names_keep_their_dots_and_broken_files_are_named(tmp_path):
    from skcausal_meta.models.checkpoint_io import read_training_state_configs

    first, second = _tiny_model(1), _tiny_model(2)
    save_model(tmp_path / "lr1e-3.seed1", first)
    save_model(tmp_path / "lr1e-3.seed2", second)  # must not replace seed1's files
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lr1e-3.seed1.json", "lr1e-3.seed1.safetensors", "lr1e-3.seed2.json", "lr1e-3.seed2.safetensors"]
    loaded, _ = load_model(tmp_path / "lr1e-3.seed1", AviciModel)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), first.state_dict().values()))
    # a training state that is text: its first 8 bytes are no header length
    (tmp_path / "txt.train.safetensors").write_text("this is not a safetensors file at all")
    with pytest.raises(ValueError, match=r"txt\.train\.safetensors' is not readable.*header length"):
        read_training_state_configs(tmp_path / "txt.train.safetensors", "avici")
    # a config the model does not take, or no config object
    meta_path = tmp_path / "lr1e-3.seed2.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "config": {**meta["config"], "nonsense": 1}}))
    with pytest.raises(ValueError, match=r"seed2\.json' has a config AviciModel cannot be built from.*nonsense"):
        load_model(tmp_path / "lr1e-3.seed2", AviciModel)
    meta_path.write_text(json.dumps({**meta, "config": [1, 2]}))
    with pytest.raises(ValueError, match=r"seed2\.json' must hold a 'config' object"):
        load_model(tmp_path / "lr1e-3.seed2", AviciModel)
    # weights of a diverged run
    with torch.no_grad():
        next(second.parameters()).view(-1)[0] = float("nan")
    save_model(tmp_path / "nan", second)
    with pytest.raises(ValueError, match=r"nan\.safetensors' holds non-finite values"):
        load_model(tmp_path / "nan", AviciModel)


def test_cli_export_stores_half_precision_weights_that_load_back(tmp_path):
    from safetensors import safe_open

    from skcausal_meta import AviciEstimator

    torch.manual_seed(0)
    source = save_model(tmp_path / "full", AviciModel(dim=16, n_layers=1, n_heads=2), info={"steps": 3})
    stem = main(["export", "--model", "avici", str(source), str(tmp_path / "half")])
    with safe_open(str(stem.with_suffix(".safetensors")), "pt") as fh:
        dtypes = {fh.get_tensor(k).dtype for k in fh.keys() if fh.get_tensor(k).is_floating_point()}
    assert dtypes == {torch.float16}
    size = stem.with_suffix(".safetensors").stat().st_size
    assert size < 0.6 * source.with_suffix(".safetensors").stat().st_size
    (full, _), (half, meta) = load_model(source, AviciModel), load_model(stem, AviciModel)
    digest = hashlib.sha256(source.with_suffix(".safetensors").read_bytes()).hexdigest()
    assert meta["info"] == {"steps": 3, "exported_from": str(source), "exported_from_sha256": digest,
                            "stored_dtype": "float16"}
    for (name, a), b in zip(full.state_dict().items(), half.state_dict().values()):
        assert b.dtype == a.dtype and torch.allclose(a, b, rtol=1e-3, atol=1e-4), name
    X = np.random.default_rng(0).normal(size=(50, 5))
    p_full = AviciEstimator(checkpoint=source, device="cpu").fit(X).edge_probs_
    p_half = AviciEstimator(checkpoint=stem, device="cpu").fit(X).edge_probs_
    np.testing.assert_allclose(p_half, p_full, atol=1e-2)
    with pytest.raises(ValueError, match="full.json.*holds a 'avici' model"):
        main(["export", "--model", "bcnp", str(source), str(tmp_path / "other")])
    with pytest.raises(ValueError, match="export would overwrite its source .*full"):
        main(["export", "--model", "avici", str(source), str(source) + ".json"])


def test_cli_takes_a_family_from_a_yaml_file(tmp_path):
    spec = tmp_path / "tiny_linear.yml"
    spec.write_text("name: tiny_linear\ngraph: [{type: er, edges_per_node: 1}]\nmechanism: [{type: linear}]\n"
                    "noise: [{type: gaussian}]\nn_nodes: [3, 4]\n")
    out = tmp_path / "yaml_model"
    main(["--model", "avici", "--family", str(spec), "--steps", "1", "--out", str(out), "--quiet",
          "--batch-size", "2", "--n-nodes", "3", "4", "--n-samples", "16", "--eval-every", "1",
          "--n-validation-batches", "1", "--device", "cpu", "--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}'])
    info = load_model(out, AviciModel)[1]["info"]
    assert info["family"] == str(spec) and info["family_spec"]["name"] == "tiny_linear"
    assert [m["type"] for m in info["family_spec"]["mechanism"]] == ["linear"]
    for split in ("none", "test"):
        hashes = main(["hash-test-graphs", "--family", str(spec), "--n-nodes", "4", "--seeds", "0",
                       "--n-datasets", "3", "--split", split, "--out", str(tmp_path / f"{split}.txt")])
        assert 1 <= len(hashes) <= 3
    with pytest.raises(ValueError, match="--family .*'no_such_family'"):
        main(["--model", "avici", "--family", "no_such_family", "--steps", "1", "--out", str(out)])


@pytest.mark.parametrize("name, config", [("avici", dict(dim=16, n_layers=1, n_heads=2)),
                                          ("bcnp", dict(dim=16, n_layers=1, n_decoder_layers=1, n_heads=2))])
def test_losses_keep_float32_probabilities_under_bfloat16_autocast(name, config):
    """GPU training autocasts the network to bfloat16; the graph likelihoods must not follow
    (BCNP's mixture loss was 18% off before its order matrices were kept in float32)."""
    torch.manual_seed(0)
    model = model_class(name)(**config)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(make_model_input(rng.normal(size=(3, 40, 6)), rng.random((3, 40, 6)) < 0.1))
    graphs = torch.from_numpy(np.triu(rng.random((3, 6, 6)) < 0.4, 1).astype(np.float32))
    full, _ = model.loss(x, graphs, torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed, _ = model.loss(x, graphs, torch.Generator().manual_seed(0))
    assert mixed.dtype == torch.float32
    assert abs(mixed.item() - full.item()) < 2e-3 * abs(full.item())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name, config", [("avici", '{"dim": 16, "n_layers": 1, "n_heads": 2}'),
                                          ("bcnp", '{"dim": 16, "n_layers": 1, "n_decoder_layers": 1}')])
def test_cuda_training_with_autocast_writes_a_checkpoint_that_loads_on_cpu(tmp_path, name, config):
    out = tmp_path / name
    history = main(["--model", name, "--family", "id", "--steps", "4", "--out", str(out), "--quiet",
                    "--batch-size", "4", "--n-nodes", "4", "6", "--n-samples", "32", "--eval-every", "2",
                    "--n-validation-batches", "1", "--device", "cuda", "--amp", "--model-config", config])
    assert len(history) == 2 and all(np.isfinite(record["loss"]) for record in history)
    model, _ = load_model(out, model_class(name))
    X = np.random.default_rng(0).normal(size=(1, 30, 5))
    probs = model.edge_probs(torch.from_numpy(make_model_input(X, np.zeros(X.shape, dtype=bool))))
    assert probs.device.type == "cpu" and torch.isfinite(probs).all()


def test_lineage_tells_a_continued_source_from_a_new_run_at_its_path(tmp_path, monkeypatch):
    """A source trained on (even one recorded before newer options) is the same run; a new run
    written to its path, from other weights, is not, whatever its settings."""
    monkeypatch.chdir(tmp_path)
    for name, seed in (("A", "1"), ("C", "2")):
        main(["--model", "avici", "--steps", "1", "--out", name, "--seed", seed, *TINY_RUN, *TINY_ENCODER])
    main(["--model", "avici", "--steps", "1", "--out", "P", "--init-from", "A", *TINY_RUN])
    # P as written before 'optimizer' and 'excluded_graphs' were recorded (resuming fills them in)
    meta = json.loads((tmp_path / "P.json").read_text())
    del meta["info"]["train_config"]["optimizer"], meta["info"]["excluded_graphs"]
    (tmp_path / "P.json").write_text(json.dumps(meta))
    model, _ = load_model("P", AviciModel)
    optimizer = make_optimizer(model.parameters(), TrainConfig())
    step, saved = load_training_state("P.train.safetensors", model, optimizer)
    save_training_state("P.train.safetensors", model, optimizer, step,
                        {k: v for k, v in saved.items() if k not in ("optimizer", "excluded_graphs")})
    main(["--model", "avici", "--steps", "1", "--out", "B", "--init-from", "P", *TINY_RUN])
    main(["--model", "avici", "--steps", "2", "--out", "P", *TINY_RUN])  # P trained on
    assert [stem.name for stem, _ in checkpoint_lineage("B")] == ["B", "P", "A"]
    # a new run at P's path with the same settings, but from C's weights
    main(["--model", "avici", "--steps", "3", "--out", "P", "--init-from", "C", "--no-resume", *TINY_RUN])
    with pytest.raises(ValueError, match=r"B\.json' started from '.*P' .*not from a continuation"):
        checkpoint_lineage("B")
