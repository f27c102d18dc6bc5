"""The base class of mechanism specifications, and the mechanism of an intervened-on node.

A mechanism object is a family-level specification whose parameters may be ranges;
:meth:`Mechanism.draw_node` turns it into one node's concrete parameters and
:meth:`Mechanism.apply` evaluates ``f`` on them. The kinds are in
:mod:`skcausal_meta.datasets.mechanisms` (linear, mixtures, the registry) and
:mod:`skcausal_meta.datasets.nonlinear_mechanisms`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Mechanism", "Constant"]


class Mechanism:
    """Base class of mechanism specifications."""

    kind: str = ""
    standardize: bool = False  # fix an output affine map on a pilot sample (see datasets.mechanisms)

    def draw_node(self, n_parents: int, rng: np.random.Generator) -> dict:  # pragma: no cover
        raise NotImplementedError

    def draw_nodes(self, n_parents: list[int], rng: np.random.Generator) -> list[dict]:
        """Concrete parameters of several nodes, one dict per entry of ``n_parents``.

        By default one ``draw_node`` per node; mechanisms whose parameters are cheap
        independent draws override it to draw every node's parameters in one call per parameter
        (a family draws all nodes of an instance at once, and per-node calls cost more than the
        draws themselves).
        """
        return [self.draw_node(k, rng) for k in n_parents]

    def apply(self, params: dict, parent_values: np.ndarray) -> np.ndarray:
        """``f(pa)`` per row, including the stored output standardisation (only standardised
        mechanisms have one)."""
        raw = self._apply(params, parent_values)
        return self._standardized(params, raw) if self.standardize else raw

    @staticmethod
    def _standardized(params: dict, raw: np.ndarray) -> np.ndarray:
        """The stored output map ``(raw - out_shift) / out_scale``; ``raw`` itself when the node has
        none (shifting by 0 and dividing by 1 would only copy it)."""
        if "out_shift" not in params and "out_scale" not in params:
            return raw
        return (raw - params.get("out_shift", 0.0)) / params.get("out_scale", 1.0)

    def _apply(self, params, parent_values):  # pragma: no cover
        raise NotImplementedError

    # Post-nonlinear models transform f(pa) + noise; additive-noise models use the identity.
    def post(self, params: dict, z: np.ndarray) -> np.ndarray:
        """Outer transform applied to ``f(pa) + noise`` (identity for additive-noise models)."""
        return z

    def post_inverse(self, params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`post` and the log-absolute Jacobian ``log |d post^-1 / dx|``."""
        return x, np.zeros_like(x)

    def to_dict(self) -> dict:
        """JSON-serialisable description; ``make_mechanism(m.to_dict())`` rebuilds it."""
        return {"type": self.kind, **asdict(self)}


@dataclass
@dataclass
class Constant(Mechanism):
    """A node fixed by a perfect intervention ``do(x_j = value)``; it has no noise."""

    value: float = 0.0
    kind = "constant"

    def draw_node(self, n_parents, rng):
        return {"value": float(self.value)}

    def _apply(self, params, pa):
        return np.full(pa.shape[0], params["value"])
