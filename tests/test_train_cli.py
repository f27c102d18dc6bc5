"""Tests of the command line ``python -m skcausal_meta.train`` (training and ``export``), a thin
parser over :func:`skcausal_meta.models.amortized.training.train`."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from skcausal_meta.datasets import registered_families
from skcausal_meta.models.amortized.checkpoint import SHIPPED_DIR, load_model, save_model
from skcausal_meta.models.amortized.inputs import make_model_input
from skcausal_meta.models.amortized.stream import held_out_graph_hashes, read_graph_hashes, write_graph_hashes
from skcausal_meta.models.amortized.training import network_class
from skcausal_meta.models.avici import AviciModel
from skcausal_meta.models.bcnp import BCNP
from skcausal_meta.train import main

# the data options of the tiny command-line runs, and a network size AVICI and BCNP share
# constant decay: these runs are extended by a step or two, which a cosine schedule refuses
TINY_RUN = ["--family", "id", "--quiet", "--batch-size", "2", "--n-nodes", "3", "4", "--n-samples", "16",
            "--eval-every", "1", "--n-validation-batches", "1", "--device", "cpu", "--decay", "constant"]
TINY_ENCODER = ["--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2}']
TINY_AVICI = ["--model-config", '{"dim": 8, "n_layers": 1, "n_heads": 2}']
NO_LEARNING = ["--lr", "1e-9", "--warmup-steps", "0", "--decay", "constant", "--weight-decay", "0"]


def _sha256(stem):
    return hashlib.sha256((stem.parent / (stem.name + ".safetensors")).read_bytes()).hexdigest()


@pytest.mark.parametrize("argv, expected", [
    (["--help"], ["--model", "--family", "--out", "--init-from", "--init-encoder-from", "--exclude-graphs",
                  "--batch-size", "--optimizer", "--no-amp"]),
    (["export", "--help"], ["source", "out", "--model", "--dtype"]),
])
def test_help_runs_as_a_module(argv, expected):
    result = subprocess.run([sys.executable, "-m", "skcausal_meta.train", *argv], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m skcausal_meta.train")
    assert all(option in result.stdout for option in expected), result.stdout
    assert "hash-test-graphs" not in result.stdout


def test_cli_trains_and_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "cli_model"
    history = main(["--model", "avici", "--family", "id", "--steps", "2", "--out", str(out), "--quiet",
                    "--batch-size", "2", "--n-nodes", "3", "4", "--n-samples", "16", "--eval-every", "2",
                    "--n-validation-batches", "1", "--device", "cpu", *TINY_AVICI])
    assert len(history) == 1
    model, meta = load_model(out, AviciModel)
    assert model.config["dim"] == 8
    assert meta["info"]["command"].startswith("python -m skcausal_meta.train --model avici")
    assert meta["info"]["steps"] == 2 and (tmp_path / "cli_model.train.safetensors").is_file()
    assert meta["info"]["family"] == "id" and "init_from" not in meta["info"]
    assert meta["sha256"] == _sha256(out)


def test_cli_excludes_several_graph_files(tmp_path):
    hashes = held_out_graph_hashes("id", [3, 4], seeds=[0, 1], n_datasets=3, split=None)
    write_graph_hashes(tmp_path / "test.txt", hashes)
    np.save(tmp_path / "more.npy", np.triu(np.ones((1, 3, 3), dtype=np.int8), 1))
    out = tmp_path / "excl"
    run = ["--model", "avici", "--out", str(out), *TINY_RUN, "--optimizer", "lamb", *TINY_AVICI]
    main([*run, "--steps", "1", "--exclude-graphs", str(tmp_path / "test.txt"), str(tmp_path / "more.npy")])
    _, meta = load_model(out, AviciModel)
    assert meta["info"]["train_config"]["optimizer"] == "lamb"
    excluded = read_graph_hashes([tmp_path / "test.txt", tmp_path / "more.npy"])
    assert meta["info"]["excluded_graphs"]["count"] == len(excluded) >= len(hashes) >= 2
    # resuming with another set of excluded graphs would change the stream: refused
    with pytest.raises(ValueError, match="excluded_graphs"):
        main([*run, "--steps", "2", "--exclude-graphs", str(tmp_path / "more.npy")])


def test_cli_init_from_fine_tunes_a_checkpoint_and_records_it(tmp_path):
    base = tmp_path / "base"
    main(["--model", "avici", "--steps", "2", "--out", str(base), *TINY_RUN, *TINY_AVICI])
    tuned = tmp_path / "tuned"
    main(["--model", "avici", "--steps", "1", "--out", str(tuned), "--init-from", str(base), *NO_LEARNING,
          "--seed", "7", *TINY_RUN])
    (source, _), (model, meta) = load_model(base, AviciModel), load_model(tuned, AviciModel)
    assert meta["info"]["init_from"] == {"name": str(base), "sha256": _sha256(base)}
    assert model.config == source.config
    for (name, a), b in zip(source.named_parameters(), model.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    torch.manual_seed(7)  # what a fresh network of run "tuned" would have started from
    fresh = AviciModel(**source.config)
    assert not all(torch.allclose(a, b, atol=1e-2) for a, b in zip(fresh.parameters(), model.parameters()))
    with pytest.raises(ValueError, match=r"base\.json' holds a 'avici' model, not 'bcnp'"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-from", str(base), *TINY_RUN])
    with pytest.raises(ValueError, match="model_config must be None when starting from an existing network"):
        main(["--model", "avici", "--steps", "1", "--out", str(tmp_path / "y"), "--init-from", str(base), *TINY_RUN,
              "--model-config", '{"dim": 8}'])
    assert not (tmp_path / "y.json").exists()


def test_cli_init_encoder_from_copies_the_shared_encoder_across_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    encoder = TINY_ENCODER[1]
    base = tmp_path / "avici"
    main(["--model", "avici", "--steps", "2", "--out", str(base), *TINY_RUN, "--model-config", encoder])
    out = tmp_path / "bcnp"
    # a relative source is recorded by its absolute path
    main(["--model", "bcnp", "--steps", "1", "--out", str(out), "--init-encoder-from", "avici", *NO_LEARNING,
          *TINY_RUN, "--model-config", encoder])
    (avici, _), (bcnp, meta) = load_model(base, AviciModel), load_model(out, BCNP)
    assert meta["info"]["init_encoder_from"] == {"name": str(base), "sha256": _sha256(base)}
    # data rows never attend to BCNP's query row, so with the copied weights they equal AVICI's encoding
    x = torch.randn(2, 12, 4, 2)
    with torch.no_grad():
        assert torch.allclose(bcnp.encoder(x)[:, :12], avici.encoder(x), atol=1e-5)
    # and the reverse direction: a fresh AVICI from the BCNP encoder (the query row is left out)
    main(["--model", "avici", "--steps", "1", "--out", str(tmp_path / "back"), "--init-encoder-from", str(out),
          *NO_LEARNING, *TINY_RUN, "--model-config", encoder])
    back, _ = load_model(tmp_path / "back", AviciModel)
    with torch.no_grad():
        assert torch.allclose(back.encoder(x), bcnp.encoder(x)[:, :12], atol=1e-5)
    # other sizes are refused, the head split too although it leaves every tensor's shape unchanged
    for config, differs in [('{"dim": 8, "n_layers": 3, "n_heads": 2}', "'n_layers': 2"),
                            ('{"dim": 16, "n_layers": 2, "n_heads": 2}', "'dim': 8"),
                            ('{"dim": 8, "n_layers": 2, "n_heads": 4}', "'n_heads': 2")]:
        with pytest.raises(ValueError, match=rf"avici\.json.*has an encoder with .*{differs}"):
            main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-encoder-from",
                  str(base), *TINY_RUN, "--model-config", config])
    with pytest.raises(ValueError, match=r"avici\.safetensors.*no encoder matching BCNP.*other shapes: \['embed"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "x"), "--init-encoder-from", str(base),
              *TINY_RUN, "--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2, "in_features": 3}'])
    with pytest.raises(ValueError, match="at most one of network, init_from and init_encoder_from"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "y"), "--init-encoder-from", str(base),
              "--init-from", str(out), *TINY_RUN])
    # a source whose JSON lacks the encoder's sizes is named
    import json

    meta = json.loads(base.with_suffix(".json").read_text())
    del meta["config"]["n_heads"]
    (tmp_path / "sizeless.json").write_text(json.dumps(meta))
    (tmp_path / "sizeless.safetensors").write_bytes(base.with_suffix(".safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"sizeless\.json' has a config without the encoder's sizes.*n_heads"):
        main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "z"), "--init-encoder-from",
              str(tmp_path / "sizeless"), *TINY_RUN, "--model-config", '{"dim": 8, "n_layers": 2, "n_heads": 2}'])
    # a shipped source is recorded by its name, not by where this installation keeps it
    main(["--model", "bcnp", "--steps", "1", "--out", str(tmp_path / "shipped"), "--init-encoder-from",
          "avici_id_large", *TINY_RUN, "--model-config", '{"dim": 128, "n_layers": 6, "n_heads": 8}'])
    assert load_model(tmp_path / "shipped", BCNP)[1]["info"]["init_encoder_from"] == {
        "name": "avici_id_large", "sha256": _sha256(SHIPPED_DIR / "avici_id_large")}


def test_cli_resumes_only_its_own_run(tmp_path):
    out = tmp_path / "run"
    main(["--model", "bcnp", "--steps", "1", "--out", str(out), *TINY_RUN, *TINY_ENCODER])
    # resumed without --model-config: the network's configuration comes from the training state
    main(["--model", "bcnp", "--steps", "2", "--out", str(out), *TINY_RUN])
    model, meta = load_model(out, BCNP)
    assert meta["info"]["steps"] == 2 and model.config["n_layers"] == 2 and model.config["dim"] == 8
    # a run goes on with the family it began with
    with pytest.raises(ValueError, match=r"run\.train\.safetensors.*other settings for \['family_stream'\]"):
        main(["--model", "bcnp", "--steps", "5", "--out", str(out), *TINY_RUN, "--family", "ood_graph_ws"])
    # the state of another model is named as such, not passed on as a foreign network config
    with pytest.raises(ValueError, match=r"run\.train\.safetensors.* holds a 'bcnp' model, not 'avici'"):
        main(["--model", "avici", "--steps", "5", "--out", str(out), *TINY_RUN])


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
    assert meta["info"] == {"steps": 3, "exported_from": {"name": str(source), "sha256": _sha256(source)},
                            "stored_dtype": "float16"}
    assert meta["sha256"] == _sha256(stem)
    for (name, a), b in zip(full.state_dict().items(), half.state_dict().values()):
        assert b.dtype == a.dtype and torch.allclose(a, b, rtol=1e-3, atol=1e-4), name
    X = np.random.default_rng(0).normal(size=(50, 5))
    p_full = AviciEstimator(checkpoint=source, device="cpu").fit(X).edge_probs_
    p_half = AviciEstimator(checkpoint=stem, device="cpu").fit(X).edge_probs_
    np.testing.assert_allclose(p_half, p_full, atol=1e-2)
    with pytest.raises(ValueError, match=r"full\.json' holds a 'avici' model, not 'bcnp'"):
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
          "--n-validation-batches", "1", "--device", "cpu", *TINY_AVICI])
    info = load_model(out, AviciModel)[1]["info"]
    assert info["family"] == "tiny_linear" and info["family_spec"]["name"] == "tiny_linear"
    assert [m["type"] for m in info["family_spec"]["mechanism"]] == ["linear"]
    # the held-out graphs of such a family (what the removed hash-test-graphs subcommand wrote):
    # make_scm_family's draws take the file, a DatasetSpec split names the family once registered
    hashes = held_out_graph_hashes(str(spec), [4], seeds=[0], n_datasets=3, split=None)
    assert 1 <= len(hashes) <= 3
    with registered_families(spec):
        hashes = held_out_graph_hashes("tiny_linear", [4], seeds=[0], n_datasets=3, split="test")
    assert 1 <= len(hashes) <= 3
    with pytest.raises(ValueError, match="no_such_family"):
        main(["--model", "avici", "--family", "no_such_family", "--steps", "1", "--out", str(out)])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name, config", [("avici", '{"dim": 16, "n_layers": 1, "n_heads": 2}'),
                                          ("bcnp", '{"dim": 16, "n_layers": 1, "n_decoder_layers": 1}')])
def test_cuda_training_with_autocast_writes_a_checkpoint_that_loads_on_cpu(tmp_path, name, config):
    out = tmp_path / name
    history = main(["--model", name, "--family", "id", "--steps", "4", "--out", str(out), "--quiet",
                    "--batch-size", "4", "--n-nodes", "4", "6", "--n-samples", "32", "--eval-every", "2",
                    "--n-validation-batches", "1", "--device", "cuda", "--amp", "--model-config", config])
    assert len(history) == 2 and all(np.isfinite(record["loss"]) for record in history)
    model, _ = load_model(out, network_class(name))
    X = np.random.default_rng(0).normal(size=(1, 30, 5))
    probs = model.edge_probs(torch.from_numpy(make_model_input(X, np.zeros(X.shape, dtype=bool))))
    assert probs.device.type == "cpu" and torch.isfinite(probs).all()
