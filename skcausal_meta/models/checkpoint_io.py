"""Save and load model weights and training state: ``safetensors`` + JSON, never pickle.

A *model checkpoint* is a pair of files sharing one stem, ``STEM.safetensors`` (the state dict)
and ``STEM.json`` (``{"format": ..., "model": name, "config": {...}, "info": {...}}``), so a
user can read what a checkpoint is without loading it, and loading executes no code. A *training
state* is one ``.safetensors`` file holding the model and optimizer tensors, with the step, the
configs and the optimizer's hyperparameters as JSON in its metadata, so that it is replaced in a
single atomic step.

Every file is written to a temporary name in the target folder and moved into place with
:func:`os.replace`, so an interrupted run leaves the previous file intact. Every loading error
(missing, truncated or foreign file, a checkpoint of another model, mismatched tensors) is a
``ValueError`` or ``FileNotFoundError`` naming the file.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

__all__ = [
    "FORMAT",
    "SHIPPED_DIR",
    "list_shipped_checkpoints",
    "resolve_checkpoint",
    "checkpoint_label",
    "checkpoint_stem",
    "checkpoint_file",
    "training_state_path",
    "SOURCE_KEYS",
    "IN_MEMORY_SOURCE",
    "source_record_keys",
    "record_source",
    "checkpoint_lineage",
    "save_model",
    "load_model",
    "load_encoder",
    "save_training_state",
    "load_training_state",
    "read_training_state_configs",
]

FORMAT = "skcausal_meta-checkpoint-v1"
SHIPPED_DIR = Path(str(resources.files("skcausal_meta.models").joinpath("checkpoints")))


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move ``tmp_path`` onto ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; checkpoints are shared package data
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _cpu_tensors(state: dict, prefix: str = "", dtype: torch.dtype | None = None) -> dict:
    """CPU copies of ``state``'s tensors; floating ones cast to ``dtype`` when it is given."""
    def convert(v):
        v = v.detach().cpu()
        return (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
    return {prefix + k: convert(v) for k, v in state.items()}


def _read_tensors(path: Path) -> tuple[dict, dict]:
    """Tensors and metadata of a safetensors file; any decoding error names the file."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    try:
        tensors = load_file(path)
        metadata = _read_metadata(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"checkpoint file {str(path)!r} is not a readable safetensors file "
                         f"(truncated or corrupt?): {exc}") from exc
    broken = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise ValueError(f"checkpoint file {str(path)!r} holds non-finite values (NaN or inf) in "
                         f"{len(broken)} tensors, e.g. {broken[0]!r} (a diverged run?)")
    return tensors, metadata


def _read_metadata(path: Path) -> dict:
    """The ``__metadata__`` of a safetensors file's JSON header (no tensor is read)."""
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        if size > os.fstat(fh.fileno()).st_size - 8:
            raise ValueError(f"the header length {size} exceeds the file (not a safetensors file?)")
        header = json.loads(fh.read(size))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header.get("__metadata__", {}) or {}


def _load_state_dict(model: torch.nn.Module, tensors: dict, path: Path) -> None:
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"checkpoint file {str(path)!r} does not match the model "
                         f"{type(model).__name__}: {exc}") from exc


def checkpoint_stem(path) -> Path:
    """``path`` without a ``.safetensors`` or ``.json`` suffix: the stem a checkpoint's two files share."""
    path = Path(os.fspath(path))
    return path.with_suffix("") if path.suffix in (".safetensors", ".json") else path


def checkpoint_file(stem, suffix: str) -> Path:
    """``STEM`` + ``suffix`` (``".json"``, ``".safetensors"``): appended, so that a dot in the
    name (``lr1e-3.seed1``) stays part of it rather than being taken for a suffix."""
    return Path(os.fspath(stem) + suffix)


def training_state_path(out) -> Path:
    """``OUT.train.safetensors``: where a training run writing the checkpoint ``out`` keeps its state."""
    return checkpoint_file(checkpoint_stem(out), ".train.safetensors")


def list_shipped_checkpoints() -> list[str]:
    """Names of the checkpoints shipped inside the package (``STEM`` of each JSON file)."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.json"))


def resolve_checkpoint(checkpoint, default: str) -> Path:
    """The stem of a checkpoint given a shipped name, a path (with or without suffix) or None.

    ``None`` means the shipped ``default``. A bare name found among the shipped checkpoints wins
    over a relative path of the same name.
    """
    if checkpoint is None:  # the shipped default only, never a file of that name in the cwd
        if default not in list_shipped_checkpoints():
            raise FileNotFoundError(
                f"the default checkpoint {default!r} is not shipped with this installation "
                f"(shipped: {list_shipped_checkpoints()}); pass checkpoint=PATH or meta_fit the model first"
            )
        return SHIPPED_DIR / default
    if not isinstance(checkpoint, (str, os.PathLike)) or not os.fspath(checkpoint).strip():
        raise ValueError(f"checkpoint must be None, a shipped name or a path, got {checkpoint!r}")
    if isinstance(checkpoint, str) and checkpoint in list_shipped_checkpoints():
        return SHIPPED_DIR / checkpoint
    stem = checkpoint_stem(checkpoint)
    if not checkpoint_file(stem, ".json").is_file():
        raise FileNotFoundError(
            f"checkpoint {os.fspath(checkpoint)!r} is neither a shipped checkpoint "
            f"{list_shipped_checkpoints()} nor an existing file {str(checkpoint_file(stem, '.json'))!r}"
        )
    return stem


def checkpoint_label(stem: Path) -> str:
    """How a source checkpoint is recorded in another one's ``info``: a shipped checkpoint by its
    name (its path differs between installations), any other by its absolute path (so the record
    means the same file whatever the working directory of whoever reads it)."""
    return stem.name if stem.parent == SHIPPED_DIR else os.path.abspath(stem)


# ``info`` keys naming the checkpoint whose weights a training run started from (the whole network,
# or its encoder)
SOURCE_KEYS = ("warm_start_from", "encoder_from")
# the source recorded for a warm start from a network that ``meta_fit`` kept in memory only
IN_MEMORY_SOURCE = "the network of the last meta_fit"


def source_record_keys(key: str) -> tuple[str, str, str]:
    """The ``info`` keys of what :func:`record_source` records for the source ``key``: its
    label, the SHA-256 of its weights file, and ``{"run": ..., "steps": ...}``, the identity of
    its training run (:func:`~skcausal_meta.models.training.run_identity`) and its step."""
    return key, f"{key}_sha256", f"{key}_run"


def _weights_digest(stem: Path) -> str:
    return hashlib.sha256(checkpoint_file(stem, ".safetensors").read_bytes()).hexdigest()


def _run_record(info: dict) -> dict | None:
    from .training import run_identity  # training imports this module

    identity = run_identity(info)
    return None if identity is None or "steps" not in info else {"run": identity, "steps": int(info["steps"])}


def record_source(info: dict, key: str, stem: Path) -> dict:
    """Record in ``info`` that weights came from the checkpoint ``stem`` (under
    :func:`source_record_keys`): its label (:func:`checkpoint_label`), the SHA-256 of its weights
    file, and its training run and step. A name or path that later holds other weights is then
    detected rather than followed, unless it holds the same run trained further (whose stream
    contains the recorded one). Returns ``info``."""
    label, digest, run = source_record_keys(key)
    info[label] = checkpoint_label(stem)
    info[digest] = _weights_digest(stem)
    record = _run_record(_read_meta(checkpoint_file(stem, ".json")).get("info", {}))
    if record is not None:
        info[run] = record
    return info


def _find_source(info: dict, key: str, recorded_in: Path) -> Path:
    """The stem that the source ``key`` of ``info`` names: a shipped checkpoint, an existing file
    (an absolute path; checkpoints written before 2026-11-26 recorded paths relative to the
    training command's working directory), or the run a shipped checkpoint was exported from.
    With a recorded digest (checkpoints written since 2026-11-27), the file must hold the recorded
    weights, or the recorded run trained for at least as many steps."""
    label, digest, run = (info.get(k) for k in source_record_keys(key))
    where = str(checkpoint_file(recorded_in, ".json"))
    if label == IN_MEMORY_SOURCE:
        raise FileNotFoundError(
            f"checkpoint {where!r} started from a network that meta_fit kept "
            "in memory only (out=None), so the training stream of its first weights was not recorded"
        )
    try:
        found = resolve_checkpoint(label, None)
    except (FileNotFoundError, ValueError):
        found = None

    def continues(info: dict) -> bool:  # the recorded run, trained on since: its stream holds the recorded one
        now = _run_record(info)
        return run is not None and now is not None and now["run"] == run["run"] and now["steps"] >= run["steps"]

    found_digest = None if found is None or digest is None else _weights_digest(found)
    if found is not None and (digest is None or found_digest == digest
                              or continues(_read_meta(checkpoint_file(found, ".json")).get("info", {}))):
        return found
    for name in list_shipped_checkpoints():
        shipped = _read_meta(SHIPPED_DIR / f"{name}.json").get("info", {})
        exported = shipped.get(source_record_keys("exported_from")[1])
        if shipped.get("exported_from") == label and (digest is None or exported in (None, digest)
                                                      or continues(shipped)):
            return SHIPPED_DIR / name
    if found is not None:
        raise ValueError(
            f"checkpoint {where!r} started from {label!r} with weights of SHA-256 {digest[:12]}…, but "
            f"{str(checkpoint_file(found, '.safetensors'))!r} now holds other weights "
            f"({found_digest[:12]}…), not from a continuation of that run"
        )
    raise FileNotFoundError(
        f"checkpoint {where!r} started from {label!r}, which is neither a "
        "shipped checkpoint, an existing file, nor the source of a shipped export"
    )


def checkpoint_lineage(checkpoint) -> list[tuple[Path, dict]]:
    """The checkpoint and, recursively, those its weights started from.

    Follows the ``warm_start_from`` and ``encoder_from`` entries of each checkpoint's ``info``, so
    that a caller can tell which training streams (``info["train_config"]``, ``info["steps"]``,
    ``info["family_spec"]``) shaped the weights, e.g. to keep test graphs out of all of them.

    Parameters
    ----------
    checkpoint : str or path-like
        A shipped name or a checkpoint path, as for :func:`resolve_checkpoint`.

    Returns
    -------
    list of (Path, dict)
        ``(stem, JSON metadata)`` pairs, the checkpoint itself first, each checkpoint once.

    Raises
    ------
    FileNotFoundError
        When a recorded source can be found neither as given nor among the shipped checkpoints.
    ValueError
        When the file a source names now holds other weights than the recorded ones.
    """
    pending, seen, lineage = [resolve_checkpoint(checkpoint, None)], set(), []
    while pending:
        stem = pending.pop(0)
        if stem.resolve() in seen:
            continue
        seen.add(stem.resolve())
        meta = _read_meta(checkpoint_file(stem, ".json"))
        lineage.append((stem, meta))
        info = meta.get("info", {})
        pending += [_find_source(info, key, stem) for key in SOURCE_KEYS if key in info]
    return lineage


def save_model(path, model: torch.nn.Module, info: dict | None = None,
               dtype: torch.dtype | None = None) -> Path:
    """Write ``STEM.safetensors`` and ``STEM.json`` for ``model``; returns the stem.

    ``model`` must have a ``model_name`` class attribute and a JSON-serialisable ``config``
    dict (its constructor keyword arguments). ``info`` is free JSON metadata (training command,
    steps, ...). ``dtype`` (e.g. ``torch.float16``, half the file) stores the floating tensors in
    that type; :func:`load_model` casts them back to the model's own.
    """
    stem = checkpoint_stem(path)
    meta = {"format": FORMAT, "model": model.model_name, "config": model.config, "info": info or {}}
    text = json.dumps(meta, indent=2, sort_keys=True)
    tensors = _cpu_tensors(model.state_dict(), dtype=dtype)
    _atomic_write(checkpoint_file(stem, ".safetensors"),
                  lambda tmp: save_file(tensors, tmp, metadata={"model": model.model_name}))
    _atomic_write(checkpoint_file(stem, ".json"), lambda tmp: Path(tmp).write_text(text + "\n"))
    return stem


def _read_meta(json_path: Path) -> dict:
    """The JSON metadata of a checkpoint; a missing, unreadable or foreign file is named."""
    if not json_path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(json_path)!r} does not exist")
    try:
        meta = json.loads(json_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"checkpoint file {str(json_path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint file {str(json_path)!r} is not a {FORMAT} checkpoint")
    for key, default in (("config", None), ("info", {})):
        if not isinstance(meta.get(key, default), dict):
            raise ValueError(f"checkpoint file {str(json_path)!r} must hold a {key!r} object, "
                             f"got {meta.get(key, default)!r}")
    return meta


def load_model(path, model_cls, map_location="cpu") -> tuple[torch.nn.Module, dict]:
    """Build ``model_cls(**config)`` from ``STEM.json`` and load ``STEM.safetensors`` into it.

    Returns the model (in eval mode) and the JSON metadata. The global torch RNG is left as it was.
    """
    stem = checkpoint_stem(path)
    json_path = checkpoint_file(stem, ".json")
    meta = _read_meta(json_path)
    if meta.get("model") != model_cls.model_name:
        raise ValueError(f"checkpoint file {str(json_path)!r} holds a {meta.get('model')!r} model, "
                         f"not {model_cls.model_name!r}")
    weights_path = checkpoint_file(stem, ".safetensors")
    tensors, file_meta = _read_tensors(weights_path)
    if file_meta.get("model") != model_cls.model_name:
        raise ValueError(f"checkpoint file {str(weights_path)!r} holds a {file_meta.get('model')!r} "
                         f"model, not {model_cls.model_name!r}")
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten: leave the global RNG as it was
        try:
            model = model_cls(**meta["config"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"checkpoint file {str(json_path)!r} has a config {model_cls.__name__} "
                             f"cannot be built from: {exc}") from exc
    _load_state_dict(model, tensors, weights_path)
    return model.to(map_location).eval(), meta


def read_training_state_configs(path, model_name: str) -> tuple[dict, dict]:
    """The network configuration and the training settings a training state of the model
    ``model_name`` was saved with, read from its metadata (no tensor is loaded)."""
    path = Path(os.fspath(path))
    try:
        meta = _read_metadata(path)
        config, train_config = json.loads(meta["config"]), json.loads(meta["train_config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"training state {str(path)!r} is not readable (truncated or corrupt?): {exc}") from exc
    if meta.get("format") != FORMAT or meta.get("model") != model_name:
        raise ValueError(f"training state {str(path)!r} holds a {meta.get('model')!r} model, not {model_name!r}")
    return config, train_config


def save_training_state(path, model, optimizer: torch.optim.Optimizer, step: int, train_config: dict) -> None:
    """Write model + optimizer tensors, the step and the configs to one safetensors file."""
    path = Path(os.fspath(path))
    optim = optimizer.state_dict()
    tensors = _cpu_tensors(model.state_dict(), "model.")
    for idx, state in optim["state"].items():
        for key, value in state.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    metadata = {
        "format": FORMAT,
        "model": model.model_name,
        "config": json.dumps(model.config),
        "step": str(int(step)),
        "train_config": json.dumps(train_config),
        "param_groups": json.dumps(optim["param_groups"]),
    }
    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def _with_defaults(config: dict, model) -> dict:
    """A saved ``config`` completed with the constructor defaults of the options ``model`` has
    that were added after it was saved (e.g. ``key_size``)."""
    parameters = inspect.signature(type(model)).parameters
    missing = {name: parameters[name].default for name in model.config
               if name not in config and name in parameters
               and parameters[name].default is not inspect.Parameter.empty}
    return {**config, **json.loads(json.dumps(missing))}


def load_training_state(path, model, optimizer: torch.optim.Optimizer) -> tuple[int, dict]:
    """Restore ``model`` and ``optimizer`` in place; return ``(step, train_config)``."""
    path = Path(os.fspath(path))
    tensors, meta = _read_tensors(path)
    if meta.get("format") != FORMAT or meta.get("model") != model.model_name:
        raise ValueError(f"training state {str(path)!r} holds a {meta.get('model')!r} model, "
                         f"not {model.model_name!r}")
    saved = _with_defaults(json.loads(meta["config"]), model)
    if saved != json.loads(json.dumps(model.config)):
        raise ValueError(f"training state {str(path)!r} was saved for another model config: "
                         f"{meta['config']} != {json.dumps(model.config)}")
    device = next(model.parameters()).device
    _load_state_dict(model, {k[6:]: v.to(device) for k, v in tensors.items() if k.startswith("model.")}, path)
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value if name == "step" else value.to(device)
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), json.loads(meta["train_config"])


def _encoder_config(config: dict) -> dict:
    """The sizes of a model config that fix its encoder (the head width resolved)."""
    sizes = {k: config[k] for k in ("dim", "n_layers", "n_heads", "widening_factor")}
    return {**sizes, "key_size": config.get("key_size") or sizes["dim"] // sizes["n_heads"]}


def load_encoder(model: torch.nn.Module, path) -> dict:
    """Copy the encoder weights of the checkpoint ``path`` into ``model.encoder``; returns its JSON.

    AVICI and BCNP share :class:`~skcausal_meta.models.components.encoder.AlternatingAxialEncoder`,
    so a fresh network of either model can start from the encoder that the other (or a larger run
    of the same model) learnt, and train only its own read-out and decoder from scratch. The
    learned query rows of BCNP (``encoder.query``) are the one tensor that may be missing on
    either side; a missing one keeps the target's initial values. A different encoder configuration
    (``dim``, ``n_layers``, ``n_heads``, ``widening_factor``, head width; the head split does not
    always change a tensor's shape) or any other difference in names or shapes raises
    ``ValueError`` naming the file and what differs.
    """
    stem = checkpoint_stem(path)
    json_path = checkpoint_file(stem, ".json")
    meta = _read_meta(json_path)
    try:
        source_config = _encoder_config(meta["config"])
    except (KeyError, TypeError, ZeroDivisionError) as exc:
        raise ValueError(f"checkpoint file {str(json_path)!r} has a config without the encoder's sizes: "
                         f"{exc!r}") from exc
    target_config = _encoder_config(model.config)
    if source_config != target_config:
        raise ValueError(f"checkpoint file {str(json_path)!r} has an encoder with {source_config}, "
                         f"not {target_config} as {type(model).__name__}'s; give the network the source's sizes")
    weights_path = checkpoint_file(stem, ".safetensors")
    tensors, _ = _read_tensors(weights_path)
    source = {k.removeprefix("encoder."): v for k, v in tensors.items() if k.startswith("encoder.")}
    target = model.encoder.state_dict()
    optional = {"query"}
    missing = sorted(set(target) - set(source) - optional)
    unexpected = sorted(set(source) - set(target) - optional)
    shapes = sorted(k for k in set(source) & set(target) if source[k].shape != target[k].shape)
    if missing or unexpected or shapes:
        raise ValueError(
            f"checkpoint file {str(weights_path)!r} has no encoder matching {type(model).__name__}'s "
            f"(missing: {missing[:5]}, unexpected: {unexpected[:5]}, other shapes: {shapes[:5]})")
    model.encoder.load_state_dict({k: source[k].to(v.dtype) if k in source else v for k, v in target.items()})
    return meta
