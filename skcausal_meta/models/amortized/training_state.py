"""Training states of amortized networks, to resume a run: one ``OUT.train.safetensors`` file.

It holds the model and optimizer tensors, with the network config, the step, the training
settings and the optimizer's parameter groups in its metadata: the checkpoint format of
:mod:`~skcausal_meta.models.amortized.checkpoint` (no pickle), replaced atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import save as save_bytes

from ..._files import atomic_write_bytes
from .checkpoint import FORMAT, _cpu_tensors, _header, _read_tensors, checkpoint_file, checkpoint_stem

__all__ = ["training_state_path", "save_training_state", "load_training_state", "read_training_state_configs"]


def training_state_path(out) -> Path:
    """``OUT.train.safetensors``: where a run writing the checkpoint ``out`` keeps its state."""
    return checkpoint_file(checkpoint_stem(out), ".train.safetensors")


def save_training_state(path, model, optimizer: torch.optim.Optimizer, step: int, settings: dict) -> None:
    """Write model + optimizer tensors, the step and the settings to one safetensors file."""
    optim = optimizer.state_dict()
    tensors = _cpu_tensors(model.state_dict(), "model.")
    for idx, state in optim["state"].items():
        for key, value in state.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    metadata = {"format": FORMAT, "model": model.model_name, "config": json.dumps(model.config),
                "step": str(int(step)), "train_config": json.dumps(settings),
                "param_groups": json.dumps(optim["param_groups"])}
    atomic_write_bytes(Path(path), save_bytes(tensors, metadata=metadata))


def read_training_state_configs(path, model_name: str) -> tuple[dict, dict]:
    """The network config and the settings a training state was saved with (no tensor is read)."""
    path = Path(os.fspath(path))
    meta = _header(path).get("__metadata__") or {}
    if meta.get("format") != FORMAT or meta.get("model") != model_name:
        raise ValueError(f"training state {str(path)!r} holds a {meta.get('model')!r} model, not {model_name!r}")
    try:
        return json.loads(meta["config"]), json.loads(meta["train_config"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"training state {str(path)!r} is not readable (truncated or corrupt?): {exc}") from exc


def load_training_state(path, model, optimizer: torch.optim.Optimizer) -> tuple[int, dict]:
    """Restore ``model`` and ``optimizer`` in place; return ``(step, settings)``."""
    path = Path(os.fspath(path))
    config, settings = read_training_state_configs(path, model.model_name)
    if config != json.loads(json.dumps(model.config)):
        raise ValueError(f"training state {str(path)!r} was saved for another model config: "
                         f"{config} != {model.config}")
    tensors, meta = _read_tensors(path)
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v.to(device) for k, v in tensors.items() if k.startswith("model.")})
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value if name == "step" else value.to(device)
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), settings
