"""Tests of ``models/amortized/checkpoint.py``: safetensors + JSON checkpoints and training states.

Besides round trips, every check the loader makes before trusting a file: the SHA-256 of the
weights, the model name, the config against the tensor shapes (on the meta device, before any
allocation), the depth parameters against the number of blocks, and the statistics names.
"""

import hashlib
import json
import re
import time
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import save_file

from skcausal_meta.models.amortized.checkpoint import (
    load_encoder,
    load_model,
    save_model,
)
from skcausal_meta.models.amortized.training_state import (
    load_training_state,
    read_training_state_configs,
    save_training_state,
)
from skcausal_meta.models.amortized.config import TrainConfig
from skcausal_meta.models.avici import AviciModel
from skcausal_meta.models.bcnp import BCNP
from skcausal_meta.models.components.statistics import STATISTICS

SIZES = {AviciModel: dict(dim=8, n_layers=1, n_heads=2),
         BCNP: dict(dim=8, n_layers=1, n_heads=2, n_decoder_layers=1)}


def _tiny_model(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return AviciModel(dim=8, n_layers=1, n_heads=2, dropout=0.2, dual_burnin=1, dual_every=1, dual_lr=0.5)


def _network(cls, seed=0, **overrides):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return cls(**{**SIZES[cls], **overrides})


def _rewrite_config(stem, **changes):
    path = stem.parent / (stem.name + ".json")
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "config": {**meta["config"], **changes}}))


def _tensor_offsets(path, name):
    """Byte range of tensor ``name``'s data in the safetensors file ``path``."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    begin, end = header[name]["data_offsets"]
    return 8 + size + begin, 8 + size + end, header[name]["dtype"]


def test_checkpoint_round_trips_and_errors_name_the_file(tmp_path):
    model = _tiny_model()
    stem = save_model(tmp_path / "ckpt", model, info={"note": "x"})
    loaded, meta = load_model(tmp_path / "ckpt.json", AviciModel)
    assert meta["info"] == {"note": "x"} and meta["model"] == "avici"
    assert meta["sha256"] == hashlib.sha256((tmp_path / "ckpt.safetensors").read_bytes()).hexdigest()
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
    with pytest.raises(ValueError, match="state.safetensors.*another model config"):
        load_training_state(tmp_path / "state.safetensors", AviciModel(dim=8, n_layers=1, n_heads=4), other_opt)
    # weights of another model behind a JSON that claims this one: both models named
    (tmp_path / "swapped.json").write_text((tmp_path / "ckpt.json").read_text())
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / "swapped.safetensors",
              metadata={"model": "bcnp"})
    with pytest.raises(ValueError, match=r"swapped\.safetensors.*'bcnp'.*'avici'"):
        load_model(tmp_path / "swapped", AviciModel)
    raw = (tmp_path / "state.safetensors").read_bytes()
    (tmp_path / "state.safetensors").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="state.safetensors"):
        load_training_state(tmp_path / "state.safetensors", copy, other_opt)


def test_checkpoint_names_keep_their_dots_and_broken_files_are_named(tmp_path):
    first, second = _tiny_model(1), _tiny_model(2)
    save_model(tmp_path / "lr1e-3.seed1", first)
    save_model(tmp_path / "lr1e-3.seed2", second)  # must not replace seed1's files
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lr1e-3.seed1.json", "lr1e-3.seed1.safetensors", "lr1e-3.seed2.json", "lr1e-3.seed2.safetensors"]
    loaded, _ = load_model(tmp_path / "lr1e-3.seed1", AviciModel)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), first.state_dict().values()))
    # a training state that is text: its first 8 bytes are no header length
    (tmp_path / "txt.train.safetensors").write_text("this is not a safetensors file at all")
    with pytest.raises(ValueError, match=r"txt\.train\.safetensors' is not a readable safetensors file.*header"):
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


@pytest.mark.parametrize("cls", [AviciModel, BCNP])
def test_altered_weight_bytes_fail_naming_the_file_and_the_sha256(tmp_path, cls):
    stem = save_model(tmp_path / "ckpt", _network(cls))
    weights = tmp_path / "ckpt.safetensors"
    begin, end, dtype = _tensor_offsets(weights, "encoder.embed.weight")
    assert dtype == "F32"
    raw = bytearray(weights.read_bytes())
    raw[begin + 4 * 3] ^= 0x01  # the lowest mantissa bit of one float: still finite, same shapes
    weights.write_bytes(bytes(raw))
    recorded = json.loads((tmp_path / "ckpt.json").read_text())["sha256"]
    with pytest.raises(ValueError, match=rf"ckpt\.safetensors' does not have the SHA-256 its JSON records "
                                         rf"\({recorded[:12]}\.\.\.\).*altered"):
        load_model(stem, cls)


def test_another_checkpoints_weights_of_the_same_shapes_are_refused(tmp_path):
    a = save_model(tmp_path / "a", _network(AviciModel, seed=1))
    save_model(tmp_path / "b", _network(AviciModel, seed=2))
    b_weights = (tmp_path / "b.safetensors").read_bytes()
    header = {k: v["shape"] for k, v in json.loads(b_weights[8:8 + int.from_bytes(b_weights[:8], "little")]).items()
              if k != "__metadata__"}
    a_raw = (tmp_path / "a.safetensors").read_bytes()
    assert header == {k: v["shape"] for k, v in json.loads(a_raw[8:8 + int.from_bytes(a_raw[:8], "little")]).items()
                      if k != "__metadata__"}  # a valid file of the right shapes, only other weights
    (tmp_path / "a.safetensors").write_bytes(b_weights)
    with pytest.raises(ValueError, match=r"a\.safetensors' does not have the SHA-256 its JSON records.*swapped"):
        load_model(a, AviciModel)


@pytest.mark.parametrize("cls, key, value", [
    (AviciModel, "n_layers", 100_000), (AviciModel, "dim", 1_000_000),
    (BCNP, "n_layers", 100_000), (BCNP, "n_decoder_layers", 100_000), (BCNP, "dim", 1_000_000),
])
def test_a_hostile_config_fails_fast_naming_the_file(tmp_path, cls, key, value):
    stem = save_model(tmp_path / "ckpt", _network(cls))
    load_model(stem, cls)  # torch imports some modules on the first meta-device build: not timed
    _rewrite_config(stem, **{key: value})
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"checkpoint file '.*ckpt\.json' has "):
        load_model(stem, cls)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("cls", [AviciModel, BCNP])
def test_a_config_that_does_not_match_the_weights_fails_before_any_allocation(tmp_path, cls):
    stem = save_model(tmp_path / "ckpt", _network(cls))
    _rewrite_config(stem, widening_factor=2)  # same depth and names, other shapes

    built = []

    class Recording(cls):
        def __init__(self, **config):
            super().__init__(**config)
            built.append(next(self.parameters()).device.type)

    with pytest.raises(ValueError, match=r"ckpt\.json' has a config whose network does not match its weights "
                                         r"file .*first difference: '.*ffn"):
        load_model(stem, Recording)
    assert built == ["meta"]  # only the shape check's skeleton, never a network with memory
    _rewrite_config(stem, widening_factor=4)
    built.clear()
    load_model(stem, Recording)
    assert built == ["meta", "cpu"]


def test_a_checkpoint_of_one_model_loaded_as_the_other_names_both(tmp_path):
    avici = save_model(tmp_path / "avici", _network(AviciModel))
    bcnp = save_model(tmp_path / "bcnp", _network(BCNP))
    with pytest.raises(ValueError, match=r"avici\.json' holds a 'avici' model, not 'bcnp'"):
        load_model(avici, BCNP)
    with pytest.raises(ValueError, match=r"bcnp\.json' holds a 'bcnp' model, not 'avici'"):
        load_model(bcnp, AviciModel)


@pytest.mark.parametrize("cls", [AviciModel, BCNP])
def test_a_statistic_unknown_to_the_code_is_named_with_the_known_ones(tmp_path, cls):
    stem = save_model(tmp_path / "ckpt", _network(cls, statistics=["pearson"]))
    assert load_model(stem, cls)[0].config["statistics"] == ["pearson"]
    _rewrite_config(stem, statistics=["telepathy"])  # one channel, as pearson: the shapes would match
    known = re.escape(repr(sorted(STATISTICS)))
    with pytest.raises(ValueError, match=rf"ckpt\.json' has a config {cls.__name__} cannot be built from: "
                                         rf"statistics must be distinct names among {known}, got \['telepathy'\]"):
        load_model(stem, cls)


def test_load_encoder_copies_only_verified_weights(tmp_path):
    source = _network(AviciModel, seed=1)
    stem = save_model(tmp_path / "source", source)
    target = _network(BCNP, seed=2)
    load_encoder(target, stem)
    assert torch.equal(target.encoder.embed.weight, source.encoder.embed.weight)
    weights = tmp_path / "source.safetensors"
    begin, _, _ = _tensor_offsets(weights, "encoder.embed.weight")
    raw = bytearray(weights.read_bytes())
    raw[begin] ^= 0x01
    weights.write_bytes(bytes(raw))
    fresh = _network(BCNP, seed=2)
    before = fresh.encoder.embed.weight.detach().clone()
    with pytest.raises(ValueError, match=r"source\.safetensors' does not have the SHA-256 its JSON records"):
        load_encoder(fresh, stem)
    assert torch.equal(fresh.encoder.embed.weight, before)
