"""Exogenous noise distributions.

A noise object is a *family-level* specification (its parameters may be ranges); ``draw_node``
turns it into the concrete, JSON-serialisable parameters of one node. ``sample`` and
``log_prob`` then act on those concrete parameters, vectorised over rows. All noises are
zero-centred and scaled by ``scale`` (heteroscedastic: a function of the parents).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ._params import build, draw, draw_many, validate_range

__all__ = [
    "make_noise","Noise", "Gaussian", "Laplace", "StudentT", "Uniform", "Heteroscedastic", "NOISES"]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass
class Noise:
    """Base class of noise specifications; ``scale`` (a number or a range, drawn per node) is the
    standard deviation of every noise kind except Student-t, where it multiplies the variate."""

    scale: float | list = (0.2, 2.0)
    kind = ""

    def __post_init__(self):
        validate_range(self.scale, "scale", low=1e-12)

    def draw_node(self, n_parents: int, rng: np.random.Generator) -> dict:
        """Concrete parameters of one node's noise."""
        return {"scale": float(draw(self.scale, rng))}

    def node_scale(self, params: dict, parent_values: np.ndarray) -> np.ndarray | float:
        """Noise scale per row (constant unless heteroscedastic)."""
        return params["scale"]

    def sample(self, params: dict, parent_values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` noise draws for one node."""
        return self.node_scale(params, parent_values) * self._standard_sample(params, n, rng)

    def log_prob(self, params: dict, residual: np.ndarray, parent_values: np.ndarray) -> np.ndarray:
        """Log density of the residuals ``x - f(pa)`` of one node, per row."""
        scale = self.node_scale(params, parent_values)
        return self._standard_log_prob(params, residual / scale) - np.log(scale)

    def to_dict(self) -> dict:
        """JSON-serialisable description; ``make_noise(noise.to_dict())`` rebuilds it."""
        return {"type": self.kind, **asdict(self)}

    def _standard_sample(self, params, n, rng):  # pragma: no cover
        raise NotImplementedError

    def _standard_log_prob(self, params, z):  # pragma: no cover
        raise NotImplementedError


@dataclass
class Gaussian(Noise):
    """Gaussian noise ``N(0, scale^2)``."""

    kind = "gaussian"

    def _standard_sample(self, params, n, rng):
        return rng.standard_normal(n)

    def _standard_log_prob(self, params, z):
        return -0.5 * (z * z + _LOG_2PI)


@dataclass
class Laplace(Noise):
    """Laplace noise with standard deviation ``scale`` (so it is comparable to Gaussian)."""

    kind = "laplace"

    def _standard_sample(self, params, n, rng):
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), n)

    def _standard_log_prob(self, params, z):
        b = 1.0 / np.sqrt(2.0)
        return -np.abs(z) / b - np.log(2.0 * b)


@dataclass
class StudentT(Noise):
    """Student-t noise with ``df`` degrees of freedom, multiplied by ``scale`` (``df=1``: Cauchy)."""

    df: float | list = (2.0, 4.0)
    kind = "student_t"

    def __post_init__(self):
        super().__post_init__()
        validate_range(self.df, "df", low=1e-3)

    def draw_node(self, n_parents, rng):
        return {"scale": float(draw(self.scale, rng)), "df": float(draw(self.df, rng))}

    def _standard_sample(self, params, n, rng):
        return rng.standard_t(params["df"], n)

    def _standard_log_prob(self, params, z):
        return stats.t.logpdf(z, params["df"])


@dataclass
class Uniform(Noise):
    """Uniform noise with standard deviation ``scale``: ``U(-sqrt(3) scale, sqrt(3) scale)``."""

    kind = "uniform"

    def _standard_sample(self, params, n, rng):
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), n)

    def _standard_log_prob(self, params, z):
        inside = np.abs(z) <= np.sqrt(3.0)
        return np.where(inside, -np.log(2.0 * np.sqrt(3.0)), -np.inf)


@dataclass
class Heteroscedastic(Noise):
    """Gaussian noise whose scale depends on the parents:
    ``scale(pa) = scale * softplus(a^T pa + b) / softplus(b)`` with ``a ~ N(0, strength^2)``.

    Roots have no parents, so their scale is the constant ``scale``.
    """

    strength: float | list = 0.5
    kind = "heteroscedastic"

    def __post_init__(self):
        super().__post_init__()
        validate_range(self.strength, "strength", low=0.0)

    def draw_node(self, n_parents, rng):
        strength = draw(self.strength, rng)
        return {
            "scale": float(draw(self.scale, rng)),
            "weights": (rng.standard_normal(n_parents) * strength),
            "offset": float(draw_many((0.5, 1.5), 1, rng)[0]),
        }

    def node_scale(self, params, parent_values):
        w = np.asarray(params["weights"], dtype=float)
        if w.size == 0:
            return params["scale"]
        b = params["offset"]
        return params["scale"] * np.logaddexp(0.0, parent_values @ w + b) / np.logaddexp(0.0, b)

    def _standard_sample(self, params, n, rng):
        return rng.standard_normal(n)

    def _standard_log_prob(self, params, z):
        return -0.5 * (z * z + _LOG_2PI)


NOISES = {cls.kind: cls for cls in (Gaussian, Laplace, StudentT, Uniform, Heteroscedastic)}


def make_noise(spec) -> Noise:
    """A noise from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, NOISES, Noise, "noise")
