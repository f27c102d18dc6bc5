"""Tests of ``models/amortized/loop.py``: ``meta_train`` (exact resume, checks before training),
``train_step`` and ``validation_auroc``."""

import json

import pytest
import torch

from skcausal_meta.models.amortized import loop
from skcausal_meta.models.amortized.config import TrainConfig
from skcausal_meta.models.amortized.loop import meta_train, train_step, validation_auroc
from skcausal_meta.models.amortized.optim import learning_rate
from skcausal_meta.models.amortized.stream import DatasetStream
from skcausal_meta.models.avici import AviciModel

TINY_DATA = dict(batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=2,
                 n_validation_batches=1, checkpoint_every=2)


def _tiny_model(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        # dropout and an early dual ascent make the resume test cover RNG and buffer state
        return AviciModel(dim=8, n_layers=1, n_heads=2, dropout=0.2, dual_burnin=1, dual_every=1, dual_lr=0.5)


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
    # another set of excluded graphs, or another family, would change the stream: refused
    with pytest.raises(ValueError, match="excluded_graphs"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=6, **cfg), out=tmp_path / "run", progress=False,
                   device="cpu", exclude_hashes={"0123456789abcdef"})
    with pytest.raises(ValueError, match="family_stream"):
        meta_train(_tiny_model(), "ood_graph_ws", TrainConfig(steps=6, **cfg), out=tmp_path / "run",
                   progress=False, device="cpu")


def test_a_cosine_run_resumes_only_with_its_own_steps(tmp_path, monkeypatch):
    """Stopped and resumed with its own steps it is the run never stopped; extended, its learning
    rates after the stop would change (they depend on steps), so it would not be the run it says."""
    cfg = dict(seed=1, lr=1e-2, warmup_steps=1, decay="cosine", **{**TINY_DATA, "checkpoint_every": 2})
    assert learning_rate(2, TrainConfig(steps=4, **cfg)) != learning_rate(2, TrainConfig(steps=6, **cfg))
    straight = _tiny_model()
    meta_train(straight, "id", TrainConfig(steps=4, **cfg), progress=False, device="cpu")

    def stop_at_step_2(*args, **kwargs):
        if args[4] == 2:
            raise KeyboardInterrupt
        return train_step(*args, **kwargs)

    monkeypatch.setattr(loop, "train_step", stop_at_step_2)
    with pytest.raises(KeyboardInterrupt):
        meta_train(_tiny_model(), "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    monkeypatch.setattr(loop, "train_step", train_step)
    with pytest.raises(ValueError, match=r"cosine schedule over 4 steps; other steps \(6\) would change its "
                                         r"learning rates from step 2"):
        meta_train(_tiny_model(), "id", TrainConfig(steps=6, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    resumed = _tiny_model()
    meta_train(resumed, "id", TrainConfig(steps=4, **cfg), out=tmp_path / "run", progress=False, device="cpu")
    expected, got = _state(straight), _state(resumed)
    assert all(torch.equal(expected[key], got[key]) for key in expected)


def test_meta_train_checks_sizes_and_out_before_training(tmp_path, monkeypatch):
    from skcausal_meta.models.bcnp import BCNP

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the settings were checked")

    monkeypatch.setattr(loop, "train_step", no_training)
    bcnp = BCNP(dim=8, n_layers=1, n_heads=2, max_nodes=4)
    with pytest.raises(ValueError, match=r"n_nodes=\[3, 5\] reaches beyond the network's max_nodes=4"):
        meta_train(bcnp, "id", TrainConfig(steps=2, **{**TINY_DATA, "n_nodes": [3, 5]}), progress=False, device="cpu")
    (tmp_path / "file").write_text("")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        meta_train(_tiny_model(), "id", TrainConfig(steps=2, **TINY_DATA), out=tmp_path / "file" / "run",
                   progress=False, device="cpu")


def test_a_non_finite_loss_stops_training_naming_the_step_and_keeps_the_weights():
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
