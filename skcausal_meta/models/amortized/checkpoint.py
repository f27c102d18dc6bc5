"""Checkpoints of amortized networks: ``safetensors`` weights + a flat JSON, never pickle.

A *checkpoint* is two files sharing one stem: ``STEM.safetensors`` (the state dict) and
``STEM.json`` (``format``, ``model``, ``config``, ``sha256`` of the weights file and ``info``:
what it was trained on and from which checkpoint), so a user can read what a checkpoint is
without loading it, and loading executes no code. The loader verifies the SHA-256 and checks the
config against the tensor shapes in the file's header *before* building the network, so altered
weights or a hostile config fail with an error naming the file instead of loading silently or
exhausting memory. Every file is replaced atomically. Training states (to resume a run) are
written by :mod:`~skcausal_meta.models.amortized.training_state` in the same format.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from ..._files import atomic_write_bytes
from ..._validation import parse_json, read_json

__all__ = ["FORMAT", "SHIPPED_DIR", "list_shipped_checkpoints", "resolve_checkpoint", "checkpoint_stem",
           "checkpoint_file", "checkpoint_record", "save_model", "load_model", "load_encoder"]

FORMAT = "skcausal_meta-checkpoint-v1"
SHIPPED_DIR = Path(str(resources.files("skcausal_meta.models").joinpath("checkpoints")))
_MAX_HEADER = 16 * 2**20  # bytes of a safetensors JSON header


def checkpoint_stem(path) -> Path:
    """``path`` without a ``.safetensors`` or ``.json`` suffix: the stem a checkpoint's two files share."""
    path = Path(os.fspath(path))
    return path.with_suffix("") if path.suffix in (".safetensors", ".json") else path


def checkpoint_file(stem, suffix: str) -> Path:
    """``STEM`` + ``suffix``, appended so that a dot in the name (``lr1e-3.seed1``) stays in it."""
    return Path(os.fspath(stem) + suffix)


def list_shipped_checkpoints() -> list[str]:
    """Names of the checkpoints shipped inside the package."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.json"))


def resolve_checkpoint(checkpoint, default: str | None) -> Path:
    """The stem of a checkpoint given a shipped name, a path (with or without suffix) or None
    (the shipped ``default``). A shipped name wins over a relative path of the same name."""
    shipped = list_shipped_checkpoints()
    if checkpoint is None:
        if default not in shipped:
            raise FileNotFoundError(f"the default checkpoint {default!r} is not shipped with this installation "
                                    f"(shipped: {shipped}); pass checkpoint=PATH or meta_fit the model first")
        return SHIPPED_DIR / default
    if not isinstance(checkpoint, (str, os.PathLike)) or not os.fspath(checkpoint).strip():
        raise ValueError(f"checkpoint must be None, a shipped name or a path, got {checkpoint!r}")
    if isinstance(checkpoint, str) and checkpoint in shipped:
        return SHIPPED_DIR / checkpoint
    stem = checkpoint_stem(checkpoint)
    if not checkpoint_file(stem, ".json").is_file():
        raise FileNotFoundError(f"checkpoint {os.fspath(checkpoint)!r} is neither a shipped checkpoint {shipped} "
                                f"nor an existing file {str(checkpoint_file(stem, '.json'))!r}")
    return stem


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint_record(stem) -> dict:
    """``{"name", "sha256"}`` of a checkpoint another one starts from: a shipped one by its name,
    any other by its absolute path, and the digest of its weights file."""
    stem = Path(stem)
    name = stem.name if stem.parent == SHIPPED_DIR else os.path.abspath(stem)
    return {"name": name, "sha256": _sha256(checkpoint_file(stem, ".safetensors"))}


def _cpu_tensors(state: dict, prefix: str = "", dtype: torch.dtype | None = None) -> dict:
    def convert(v):
        v = v.detach().cpu()
        return (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
    return {prefix + k: convert(v) for k, v in state.items()}


def _header(path: Path) -> dict:
    """The JSON header of a safetensors file (tensor shapes and ``__metadata__``), bounded in size."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size <= min(_MAX_HEADER, os.fstat(fh.fileno()).st_size - 8):
                raise ValueError(f"a header of {size} bytes (not a safetensors file?)")
            header = parse_json(fh.read(size).decode(), "the header")
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ValueError(f"checkpoint file {str(path)!r} is not a readable safetensors file: {exc}") from None
    return header


def _read_tensors(path: Path, payload: bytes | None = None) -> tuple[dict, dict]:
    """Tensors and metadata of a safetensors file; any decoding error names the file."""
    metadata = _header(path).get("__metadata__") or {}
    try:
        tensors = load_bytes(path.read_bytes() if payload is None else payload)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"checkpoint file {str(path)!r} is not a readable safetensors file "
                         f"(truncated or corrupt?): {exc}") from exc
    broken = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise ValueError(f"checkpoint file {str(path)!r} holds non-finite values (NaN or inf) in "
                         f"{len(broken)} tensors, e.g. {broken[0]!r} (a diverged run?)")
    return tensors, metadata


def save_model(path, model: torch.nn.Module, info: dict | None = None, dtype: torch.dtype | None = None) -> Path:
    """Write ``STEM.safetensors`` and ``STEM.json`` for ``model`` (its ``model_name`` and ``config``);
    ``dtype`` (e.g. ``torch.float16``) stores the floating tensors in that type. Returns the stem.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from skcausal_meta.models.amortized.checkpoint import save_model
    >>> from skcausal_meta.models.avici.model import AviciModel
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     network = AviciModel(dim=16, n_layers=1, n_heads=2)
    ...     stem = save_model(Path(tmp) / "tiny", network, info={"note": "untrained"})
    ...     files = sorted(p.name for p in Path(tmp).iterdir())
    ...     meta = json.loads(Path(tmp, "tiny.json").read_text())  # readable without loading the network
    >>> stem.name, files
    ('tiny', ['tiny.json', 'tiny.safetensors'])
    >>> sorted(meta), meta["model"], meta["config"]["dim"], meta["info"]
    (['config', 'format', 'info', 'model', 'sha256'], 'avici', 16, {'note': 'untrained'})
    """
    stem = checkpoint_stem(path)
    payload = save_bytes(_cpu_tensors(model.state_dict(), dtype=dtype), metadata={"model": model.model_name})
    meta = {"format": FORMAT, "model": model.model_name, "config": model.config,
            "sha256": hashlib.sha256(payload).hexdigest(), "info": info or {}}
    atomic_write_bytes(checkpoint_file(stem, ".safetensors"), payload)
    atomic_write_bytes(checkpoint_file(stem, ".json"), (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    return stem


def read_meta(stem) -> dict:
    """The JSON of a checkpoint; a missing, unreadable or foreign file is named."""
    json_path = checkpoint_file(checkpoint_stem(stem), ".json")
    if not json_path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(json_path)!r} does not exist")
    try:
        meta = read_json(json_path)
    except ValueError as exc:
        raise ValueError(f"checkpoint file {str(json_path)!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint file {str(json_path)!r} is not a {FORMAT} checkpoint")
    for key in ("config", "info"):
        if not isinstance(meta.get(key), dict):
            raise ValueError(f"checkpoint file {str(json_path)!r} must hold a {key!r} object, got {meta.get(key)!r}")
    return meta


def _build(model_cls, config: dict, shapes: dict, json_path: Path) -> torch.nn.Module:
    """``model_cls(**config)`` after checking, on the meta device (no memory), that its tensors
    have the shapes the weights file declares; a config that cannot be built or does not match
    the file is a ``ValueError`` naming ``json_path``."""
    # a hostile depth (n_layers=1e5) takes long to build even on the meta device: each depth
    # parameter must equal the number of blocks the weights file holds (widths cost nothing there)
    for key, prefix in getattr(model_cls, "depth_parameters", {}).items():
        blocks = {name[len(prefix):].split(".")[0] for name in shapes if name.startswith(prefix)}
        if key in config and config[key] != len(blocks):
            raise ValueError(f"checkpoint file {str(json_path)!r} has {key}={config[key]!r}, but its weights "
                             f"file holds {len(blocks)} such blocks")
    try:
        with torch.device("meta"):
            skeleton = model_cls(**config)
        expected = {k: list(v.shape) for k, v in skeleton.state_dict().items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint file {str(json_path)!r} has a config {model_cls.__name__} cannot be "
                         f"built from: {exc}") from exc
    if expected != shapes:
        differ = sorted(set(expected) ^ set(shapes)) or sorted(k for k in expected if expected[k] != shapes[k])
        raise ValueError(f"checkpoint file {str(json_path)!r} has a config whose network does not match its "
                         f"weights file ({len(expected)} vs {len(shapes)} tensors; first difference: {differ[0]!r})")
    with torch.random.fork_rng(devices=[]):  # initial weights are overwritten: leave the global RNG alone
        return model_cls(**config)


def _verified_payload(weights_path: Path, meta: dict) -> bytes:
    """The bytes of ``weights_path`` after checking them against the SHA-256 its JSON records."""
    payload = weights_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta.get("sha256"):
        raise ValueError(f"checkpoint file {str(weights_path)!r} does not have the SHA-256 its JSON records "
                         f"({str(meta.get('sha256'))[:12]}...): the weights were altered, swapped or truncated")
    return payload


def load_model(path, model_cls, map_location="cpu") -> tuple[torch.nn.Module, dict]:
    """Build ``model_cls(**config)`` from ``STEM.json`` and load the verified ``STEM.safetensors``.

    Returns the network (in eval mode) and the JSON metadata.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import torch
    >>> from skcausal_meta.models.amortized.checkpoint import load_model, save_model
    >>> from skcausal_meta.models.avici.model import AviciModel
    >>> model = AviciModel(dim=16, n_layers=1, n_heads=2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     stem = save_model(Path(tmp) / "tiny", model)
    ...     loaded, meta = load_model(stem, AviciModel)
    ...     weights = Path(tmp, "tiny.safetensors")
    ...     _ = weights.write_bytes(weights.read_bytes()[:-8])  # a truncated weights file
    ...     load_model(stem, AviciModel)
    Traceback (most recent call last):
    ValueError: checkpoint file '...tiny.safetensors' does not have the SHA-256 its JSON records (...):
    the weights were altered, swapped or truncated
    >>> all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    True
    >>> meta["model"], meta["config"] == model.config, loaded.training
    ('avici', True, False)
    """
    stem = checkpoint_stem(path)
    json_path, weights_path = checkpoint_file(stem, ".json"), checkpoint_file(stem, ".safetensors")
    meta = read_meta(stem)
    if meta.get("model") != model_cls.model_name:
        raise ValueError(f"checkpoint file {str(json_path)!r} holds a {meta.get('model')!r} model, "
                         f"not {model_cls.model_name!r}")
    header = _header(weights_path)
    found = (header.get("__metadata__") or {}).get("model")
    if found != model_cls.model_name:
        raise ValueError(f"checkpoint file {str(weights_path)!r} holds a {found!r} model, not {model_cls.model_name!r}")
    shapes = {k: v.get("shape") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    model = _build(model_cls, meta["config"], shapes, json_path)
    tensors, _ = _read_tensors(weights_path, _verified_payload(weights_path, meta))
    model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in tensors.items()})
    return model.to(map_location).eval(), meta


def load_encoder(model: torch.nn.Module, path) -> dict:
    """Copy the encoder of the checkpoint ``path`` (AVICI or BCNP: they share the encoder class)
    into ``model.encoder``; returns its JSON. BCNP's query rows may be missing on either side (the
    target keeps its own); any other difference in names or shapes is a ``ValueError`` naming the file."""
    stem = checkpoint_stem(path)
    meta = read_meta(stem)
    source_sizes, target_sizes = _encoder_sizes(meta["config"], stem), _encoder_sizes(model.config, None)
    if source_sizes != target_sizes:  # the head split does not always change a tensor's shape
        raise ValueError(f"checkpoint file {str(checkpoint_file(stem, '.json'))!r} has an encoder with "
                         f"{source_sizes}, not {target_sizes} as {type(model).__name__}'s; give the network "
                         "the source's sizes")
    weights_path = checkpoint_file(stem, ".safetensors")
    tensors, _ = _read_tensors(weights_path, _verified_payload(weights_path, meta))
    source = {k.removeprefix("encoder."): v for k, v in tensors.items() if k.startswith("encoder.")}
    target = model.encoder.state_dict()
    optional = {"query"}
    missing = sorted(set(target) - set(source) - optional)
    unexpected = sorted(set(source) - set(target) - optional)
    shapes = sorted(k for k in set(source) & set(target) if source[k].shape != target[k].shape)
    if missing or unexpected or shapes:
        raise ValueError(f"checkpoint file {str(weights_path)!r} has no encoder matching {type(model).__name__}'s "
                         f"(missing: {missing[:5]}, unexpected: {unexpected[:5]}, other shapes: {shapes[:5]}); "
                         "give the network the source's sizes")
    model.encoder.load_state_dict({k: source[k].to(v.dtype) if k in source else v for k, v in target.items()})
    return meta


def _encoder_sizes(config: dict, stem) -> dict:
    """The sizes of a network config that fix its encoder (the head width resolved)."""
    try:
        sizes = {k: config[k] for k in ("dim", "n_layers", "n_heads", "widening_factor")}
        return {**sizes, "key_size": config.get("key_size") or sizes["dim"] // sizes["n_heads"],
                "statistics": config.get("statistics")}
    except (KeyError, TypeError, ZeroDivisionError) as exc:
        raise ValueError(f"checkpoint file {str(checkpoint_file(stem, '.json'))!r} has a config without the "
                         f"encoder's sizes: {exc!r}") from None
