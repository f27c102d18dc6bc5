"""Torch devices and generators of the estimators: ``device="auto"`` and seeded generators."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["resolve_device", "torch_generator"]


def resolve_device(device) -> torch.device:
    """Turn an estimator's ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks ``cuda`` when a CUDA device is available and ``cpu`` otherwise; any other
    string or :class:`torch.device` is used as given, and asking for CUDA without one is an error.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA device is available")
    return resolved


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from the numpy generator ``rng``.

    This keeps all randomness derived from the estimator's ``random_state`` and never touches
    torch's global RNG.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**63 - 1)))
    return generator
