"""Tests of ``models/amortized/training.py``: the network registry and :func:`train`, the one
entry point of the command line and ``meta_fit``."""

import numpy as np
import pytest
import torch

from skcausal_meta.models.amortized.checkpoint import load_model, save_model
from skcausal_meta.models.amortized.config import TrainConfig
from skcausal_meta.models.amortized.inputs import make_model_input
from skcausal_meta.models.amortized.training import NETWORKS, export_checkpoint, network_class, train
from skcausal_meta.models.avici import AviciModel
from skcausal_meta.models.bcnp import BCNP

TINY = TrainConfig(steps=1, batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=1,
                   n_validation_batches=1, seed=3)


def test_network_registry_names_both_models():
    assert sorted(NETWORKS) == ["avici", "bcnp"]
    assert network_class("avici") is AviciModel and network_class("bcnp") is BCNP
    assert all(network_class(name).model_name == name for name in NETWORKS)
    with pytest.raises(ValueError, match=r"model must be one of \['avici', 'bcnp'\], got 'dibs'"):
        network_class("dibs")


@pytest.mark.parametrize("name, config", [("avici", dict(dim=16, n_layers=1, n_heads=2)),
                                          ("bcnp", dict(dim=16, n_layers=1, n_decoder_layers=1, n_heads=2))])
def test_losses_keep_float32_probabilities_under_bfloat16_autocast(name, config):
    """GPU training autocasts the network to bfloat16; the graph likelihoods must not follow
    (BCNP's mixture loss was 18% off before its order matrices were kept in float32)."""
    torch.manual_seed(0)
    model = network_class(name)(**config)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(make_model_input(rng.normal(size=(3, 40, 6)), rng.random((3, 40, 6)) < 0.1))
    graphs = torch.from_numpy(np.triu(rng.random((3, 6, 6)) < 0.4, 1).astype(np.float32))
    full, _ = model.loss(x, graphs, torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed, _ = model.loss(x, graphs, torch.Generator().manual_seed(0))
    assert mixed.dtype == torch.float32
    assert abs(mixed.item() - full.item()) < 2e-3 * abs(full.item())


def test_train_is_a_function_of_its_seed_not_of_the_global_rng():
    config = dict(dim=8, n_layers=1, n_heads=2)
    torch.manual_seed(1)
    a, history = train("avici", "id", TINY, model_config=config, device="cpu", progress=False)
    torch.manual_seed(999)
    b, _ = train("avici", "id", TINY, model_config=config, device="cpu", progress=False)
    assert len(history) == 1 and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c, _ = train("avici", "id", TrainConfig(**{**TINY.__dict__, "seed": 4}), model_config=config, device="cpu",
                 progress=False)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_train_from_a_network_trains_a_copy_and_checks_its_sources(tmp_path):
    network = AviciModel(dim=8, n_layers=1, n_heads=2)
    before = [p.detach().clone() for p in network.parameters()]
    trained, _ = train("avici", "id", TINY, tmp_path / "m", network=network, device="cpu", progress=False)
    assert trained is not network and all(torch.equal(b, p) for b, p in zip(before, network.parameters()))
    assert not all(torch.equal(b, p) for b, p in zip(before, trained.parameters()))
    info = load_model(tmp_path / "m", AviciModel)[1]["info"]
    assert info["family"] == "id" and not {"init_from", "init_encoder_from"} & set(info)
    with pytest.raises(ValueError, match="at most one of network, init_from and init_encoder_from"):
        train("avici", "id", TINY, network=network, init_from=tmp_path / "m", progress=False)
    with pytest.raises(ValueError, match="model_config must be None when starting from an existing network"):
        train("avici", "id", TINY, network=network, model_config={"dim": 8}, progress=False)
    with pytest.raises(ValueError, match="model must be one of"):
        train("dibs", "id", TINY, progress=False)


def test_export_checkpoint_refuses_to_overwrite_its_source(tmp_path):
    source = save_model(tmp_path / "full", AviciModel(dim=8, n_layers=1, n_heads=2))
    with pytest.raises(ValueError, match="export would overwrite its source"):
        export_checkpoint("avici", source, tmp_path / "full.safetensors")
    stem = export_checkpoint("avici", source, tmp_path / "half", dtype="bfloat16")
    model, meta = load_model(stem, AviciModel)
    assert meta["info"]["stored_dtype"] == "bfloat16" and meta["info"]["exported_from"]["name"] == str(source)


def test_a_resumed_run_keeps_the_source_it_started_from(tmp_path):
    source = save_model(tmp_path / "source", AviciModel(dim=8, n_layers=1, n_heads=2))
    config = TrainConfig(**{**TINY.__dict__, "steps": 2, "decay": "constant", "checkpoint_every": 1})
    train("avici", "id", TrainConfig(**{**config.__dict__, "steps": 1}), tmp_path / "run", init_from=source,
          device="cpu", progress=False)
    recorded = load_model(tmp_path / "run", AviciModel)[1]["info"]["init_from"]
    torch.manual_seed(5)
    save_model(source, AviciModel(dim=8, n_layers=1, n_heads=2))  # other weights there now
    for flags in ({}, {"init_from": source}):  # resumed without the flag, or with it
        train("avici", "id", config, tmp_path / "run", device="cpu", progress=False, **flags)
        assert load_model(tmp_path / "run", AviciModel)[1]["info"]["init_from"] == recorded
