"""The concrete model of one node of an SCM: a mechanism and a noise with drawn parameters, and
their JSON form (how instances are cached and compared).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mechanisms import MECHANISMS, Mechanism
from .noise import NOISES, Noise

__all__ = ["NodeModel"]


@dataclass
class NodeModel:
    """Concrete model of one node: a mechanism and a noise, each with drawn parameters."""

    mechanism: Mechanism
    mechanism_params: dict
    noise: Noise | None
    noise_params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-serialisable form (arrays become nested lists)."""
        return {
            "mechanism": self.mechanism.kind,
            "mechanism_params": _to_json(self.mechanism_params),
            "noise": None if self.noise is None else self.noise.kind,
            "noise_params": _to_json(self.noise_params),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "NodeModel":
        """Inverse of :meth:`to_dict`. Only the drawn parameters matter once a node exists, so
        default specifications of its mechanism and noise kinds suffice."""
        noise = None if data["noise"] is None else NOISES[data["noise"]]()
        return cls(MECHANISMS[data["mechanism"]](), _from_json(data["mechanism_params"]), noise,
                   _from_json(data["noise_params"]))


def _to_json(params: dict) -> dict:
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in params.items()}


def _from_json(params: dict) -> dict:
    return {k: np.asarray(v, dtype=float) if isinstance(v, list) else v for k, v in params.items()}
