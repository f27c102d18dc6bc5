"""One entry point for meta-training: the command line and ``meta_fit`` both call :func:`train`.

It builds the network (fresh, from a checkpoint, or with a checkpoint's encoder), records where
its first weights came from (a checkpoint's name and SHA-256, nothing more), reads the held-out
graphs to exclude, and runs :func:`~.loop.meta_train`.
"""

from __future__ import annotations

import copy
from importlib import import_module

import torch

from ..._validation import check_positive_int
from ...datasets import get_family
from .checkpoint import (
    checkpoint_record,
    checkpoint_stem,
    load_encoder,
    load_model,
    read_meta,
    resolve_checkpoint,
    save_model,
)
from .config import TrainConfig
from ..components.statistics import n_statistics_channels
from .loop import meta_train
from .stream import read_graph_hashes
from .training_state import read_training_state_configs, training_state_path

__all__ = ["NETWORKS", "network_class", "train", "export_checkpoint", "add_statistics"]

# registry name -> "module:Class" of every network following the contract in loop.py
NETWORKS = {"avici": "skcausal_meta.models.avici.model:AviciModel",
            "bcnp": "skcausal_meta.models.bcnp.model:BCNP"}


def network_class(name: str):
    """The network class registered as ``name`` in :data:`NETWORKS`."""
    if name not in NETWORKS:
        raise ValueError(f"model must be one of {sorted(NETWORKS)}, got {name!r}")
    module, cls = NETWORKS[name].split(":")
    return getattr(import_module(module), cls)


def add_statistics(model: torch.nn.Module, names) -> torch.nn.Module:
    """A copy of a statistics network that also reads the statistics groups ``names``.

    The new channels are appended after the network's own, and every weight that reads the pair
    statistics gets zero columns for them, so the copy computes exactly what ``model`` computes
    until training moves those weights (fine-tuning a checkpoint onto new statistics).

    Examples
    --------
    >>> import torch
    >>> from skcausal_meta.models.avici.model import AviciModel
    >>> small = AviciModel(dim=16, n_layers=1, n_heads=2, edge_head="factorised", statistics=["pearson"])
    >>> wider = add_statistics(small, ["partial_ols"])
    >>> wider.config["statistics"]
    ['pearson', 'partial_ols']
    >>> x = torch.randn(1, 30, 4, 2)
    >>> x[..., 1] = 0
    >>> torch.allclose(small.edge_probs(x), wider.edge_probs(x))
    True
    """
    old = model.config.get("statistics")
    if not old:
        raise ValueError("add_statistics needs a network that already reads statistics (config['statistics'] "
                         f"is {old!r})")
    added = [name for name in names if name not in old]
    if not added:
        return copy.deepcopy(model)
    wider = type(model)(**{**model.config, "statistics": [*old, *added]})
    width = n_statistics_channels(old)
    state, old_state = {}, model.state_dict()
    for key, target in wider.state_dict().items():
        source = old_state[key]
        if source.shape != target.shape:
            if source.shape[:-1] != target.shape[:-1] or source.shape[-1] != width:
                raise ValueError(f"cannot widen {key!r} from {tuple(source.shape)} to {tuple(target.shape)}")
            source = torch.cat([source, source.new_zeros(*source.shape[:-1], target.shape[-1] - width)], -1)
        state[key] = source
    wider.load_state_dict(state)
    return wider.train(model.training)


def _check_sources(network, model_config, init_from, init_encoder_from) -> None:
    if sum(x is not None for x in (network, init_from, init_encoder_from)) > 1:
        raise ValueError("give at most one of network, init_from and init_encoder_from")
    if (network is not None or init_from is not None) and model_config is not None:
        raise ValueError(f"model_config must be None when starting from an existing network (it keeps its "
                         f"configuration), got {model_config!r}")


def _build(model_name, config, out, resume, network, model_config, init_from, init_encoder_from,
           statistics=()):
    """The network to train and the ``info`` naming its source."""
    _check_sources(network, model_config, init_from, init_encoder_from)
    if statistics and init_from is None:
        raise ValueError(f"add_statistics={list(statistics)!r} needs init_from (a fresh network takes its "
                         "statistics from model_config)")
    cls = network_class(model_name)
    if network is not None:
        return copy.deepcopy(network), {}
    if init_from is not None:
        stem = resolve_checkpoint(init_from, None)
        model = load_model(stem, cls)[0]
        return (add_statistics(model, statistics) if statistics else model), {"init_from": checkpoint_record(stem)}
    state = None if out is None else training_state_path(out)
    if model_config is None and resume and state is not None and state.is_file():
        model_config = read_training_state_configs(state, cls.model_name)[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # weight initialisation; the global RNG is restored
        model = cls(**(model_config or {}))
    if init_encoder_from is None:
        return model, {}
    stem = resolve_checkpoint(init_encoder_from, None)
    load_encoder(model, stem)
    return model, {"init_encoder_from": checkpoint_record(stem)}


def train(model_name: str, family, config: TrainConfig, out=None, *, network=None, model_config=None,
          init_from=None, init_encoder_from=None, add_statistics=(), encoder_rows=None, exclude_graphs=(),
          resume: bool = True,
          device="auto",
          progress: bool = True, log_path=None, command: str | None = None):
    """Meta-train a network of ``model_name`` on ``family``; returns ``(network, history)``.

    Parameters
    ----------
    model_name : {"avici", "bcnp"}
    family : str or SCMFamily
        A registered name, a YAML file defining a family, or a family.
    config : TrainConfig
    out : path-like, default=None
        Checkpoint stem written during training (see :func:`~.loop.meta_train`).
    network : torch.nn.Module, default=None
        Train a copy of this network (e.g. the one a ``meta_fit`` kept in memory).
    model_config : dict, default=None
        Keyword arguments of a fresh network (default: those of a training state being resumed,
        else the class defaults).
    init_from : str or path-like, default=None
        Start from this checkpoint's network (fine-tuning).
    init_encoder_from : str or path-like, default=None
        A fresh network whose encoder is copied from this checkpoint (of either model).
    add_statistics : sequence of str, default=()
        Statistics groups the ``init_from`` network also reads from now on (see
        :func:`~skcausal_meta.models.amortized.training.add_statistics`).
    encoder_rows : int, default=None
        From now on the network's encoder attends over at most this many rows of each data set,
        while its statistics read every row (the networks' ``encoder_rows``; it changes no
        weight, so it may be set on any network). ``None`` keeps the network's setting.
    exclude_graphs : sequence of path-like, default=()
        Files of held-out graphs (``.npy`` stacks or hash lists) never to train on.
    resume, device, progress, log_path
        As for :func:`~.loop.meta_train`.
    command : str, default=None
        The command line, recorded in the checkpoint.

    Examples
    --------
    Four steps of a small AVICI network on the ``id`` family, written to a checkpoint:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcausal_meta.models.amortized import TrainConfig, train
    >>> config = TrainConfig(steps=4, batch_size=2, n_nodes=[3, 4], n_samples=20, n_interventional=5,
    ...                      warmup_steps=1, eval_every=2, n_validation_batches=1, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     network, history = train("avici", "id", config, out=Path(tmp) / "tiny", device="cpu", progress=False,
    ...                              model_config={"dim": 16, "n_layers": 1, "n_heads": 2})
    ...     written = sorted(p.name for p in Path(tmp).iterdir())
    >>> type(network).__name__, written
    ('AviciModel', ['tiny.json', 'tiny.safetensors', 'tiny.train.safetensors'])
    >>> [record["step"] for record in history], sorted(history[-1])
    ([2, 4], ['acyclicity', 'bce', 'dual', 'elapsed_s', 'grad_norm', 'loss', 'lr', 'step', 'val_auroc'])
    """
    family = get_family(family)  # a YAML file is read once
    model, info = _build(model_name, config, out, resume, network, model_config, init_from, init_encoder_from,
                         add_statistics)
    if encoder_rows is not None:
        model.config["encoder_rows"] = check_positive_int(encoder_rows, "encoder_rows")
    info = {"family": family.name, **info, **_recorded_source(out, resume)}
    if command is not None:
        info["command"] = command
    history = meta_train(model, family, config, out=out, resume=resume, device=device, progress=progress,
                         log_path=log_path, exclude_hashes=read_graph_hashes(exclude_graphs), info=info)
    return model, history


def _recorded_source(out, resume: bool) -> dict:
    """The source a run being resumed recorded when it began (its first weights came from there,
    whatever the flags of the resuming call say)."""
    if out is None or not resume or not training_state_path(out).is_file():
        return {}
    try:
        info = read_meta(out)["info"]
    except (FileNotFoundError, ValueError):
        return {}
    return {key: info[key] for key in ("init_from", "init_encoder_from") if key in info}


def export_checkpoint(model_name: str, source, out, dtype: str = "float16"):
    """Copy the checkpoint ``source`` to ``out`` with its floating weights stored as ``dtype``
    (half the file with float16, how the larger shipped checkpoints are made); returns the stem."""
    stem = resolve_checkpoint(source, None)
    if checkpoint_stem(out).resolve() == stem.resolve():
        raise ValueError(f"export would overwrite its source {str(stem)!r}; give another out")
    model, meta = load_model(stem, network_class(model_name))
    info = {**meta["info"], "exported_from": checkpoint_record(stem), "stored_dtype": dtype}
    return save_model(out, model, info=info, dtype=getattr(torch, dtype))

