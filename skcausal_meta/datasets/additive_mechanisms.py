"""Mechanisms that sum one function per parent: quadratic and periodic, both standardised.

``f(pa) = sum_i g_i(pa_i)`` with signed weights, so each parent's effect can be read apart (see
:mod:`skcausal_meta.datasets.mechanisms` for the standardisation and the registry of kinds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._params import draw_many, draw_signed, validate_range
from .mechanism_base import Mechanism

__all__ = ["Square", "Periodic"]


@dataclass
class Square(Mechanism):
    """``f(pa) = sum_i w_i pa_i^2 + v^T pa`` (signed weights), standardised.

    Examples
    --------
    With unit weights a node with one parent drew ``f(x) = x^2 - x`` (before the
    standardisation an instance adds):

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Square
    >>> mechanism = Square(weight=1.0)
    >>> params = mechanism.draw_node(1, np.random.default_rng(0))
    >>> params
    {'weights': array([1.]), 'linear': array([-1.])}
    >>> mechanism.apply(params, np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]]))
    array([6., 2., 0., 0., 2.])
    """

    weight: float | list = (0.5, 2.0)
    kind = "square"
    standardize = True

    def __post_init__(self):
        validate_range(self.weight, "weight", low=0.0)

    def draw_node(self, n_parents, rng):
        return {"weights": draw_signed(self.weight, n_parents, rng),
                "linear": draw_signed(self.weight, n_parents, rng)}

    def _apply(self, params, pa):
        return (pa * pa) @ np.asarray(params["weights"]) + pa @ np.asarray(params["linear"])


@dataclass
class Periodic(Mechanism):
    """``f(pa) = sum_i w_i sin(freq_i pa_i + phase_i)`` (signed weights), standardised.

    Examples
    --------
    Frequency 2 gives a function with period pi, bounded by the weight 1 (before the
    standardisation an instance adds):

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Periodic
    >>> mechanism = Periodic(weight=1.0, frequency=2.0)
    >>> params = mechanism.draw_node(1, np.random.default_rng(0))
    >>> x = np.linspace(-3.0, 3.0, 7)[:, None]
    >>> np.allclose(mechanism.apply(params, x), mechanism.apply(params, x + np.pi))
    True
    >>> float(np.abs(mechanism.apply(params, x)).max()) <= 1.0
    True
    """

    weight: float | list = (1.0, 3.0)
    frequency: float | list = (1.0, 3.0)
    kind = "periodic"
    standardize = True

    def __post_init__(self):
        validate_range(self.weight, "weight", low=0.0)
        validate_range(self.frequency, "frequency", low=0.0)

    def draw_node(self, n_parents, rng):
        return {
            "weights": draw_signed(self.weight, n_parents, rng),
            "frequency": draw_many(self.frequency, n_parents, rng),
            "phase": rng.uniform(0.0, 2.0 * np.pi, n_parents),
        }

    def _apply(self, params, pa):
        arg = pa * np.asarray(params["frequency"]) + np.asarray(params["phase"])
        return np.sin(arg) @ np.asarray(params["weights"])
