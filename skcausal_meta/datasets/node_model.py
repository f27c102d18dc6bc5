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
    """Concrete model of one node: a mechanism and a noise, each with drawn parameters.

    Families draw these; building them by hand gives an SCM with chosen parameters.

    Examples
    --------
    ``X0 ~ N(0, 1)`` and ``X1 = 2 X0 + 1 + N(0, 0.1^2)``; a line fitted to the samples recovers
    the slope and the intercept:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Gaussian, Linear, SCMInstance
    >>> from skcausal_meta.datasets.node_model import NodeModel
    >>> root = NodeModel(Linear(), {"weights": np.zeros(0), "bias": 0.0}, Gaussian(), {"scale": 1.0})
    >>> child = NodeModel(Linear(), {"weights": np.array([2.0]), "bias": 1.0}, Gaussian(), {"scale": 0.1})
    >>> X = SCMInstance([[0, 1], [0, 0]], [root, child]).sample(1000, random_state=0)
    >>> np.polyfit(X[:, 0], X[:, 1], 1).round(2)
    array([2., 1.])
    >>> child.to_dict()["mechanism_params"]  # JSON-ready: arrays become lists
    {'weights': [2.0], 'bias': 1.0}
    """

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
