"""Exogenous noise distributions.

A noise object is a *family-level* specification (its parameters may be ranges); ``draw_node``
turns it into the concrete, JSON-serialisable parameters of one node (``draw_nodes``: of several
nodes in one call per parameter, as families draw them). ``draw_standard`` (the unscaled
variates of several nodes of one kind in one call, which is how
:class:`~skcausal_meta.datasets.SCMInstance` samples them), ``node_scale`` and ``log_prob`` then
act on those concrete parameters, vectorised over rows. All noises are zero-centred and scaled
by ``scale`` (heteroscedastic: a function of the parents).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ._params import build, draw_many, validate_range

__all__ = [
    "make_noise","Noise", "Gaussian", "Laplace", "StudentT", "Uniform", "Heteroscedastic", "NOISES"]

_LOG_2PI = np.log(2.0 * np.pi)
_TWO_PI_32 = np.float32(2.0 * np.pi)
_MINUS_TWO_32 = np.float32(-2.0)


def _standard_normal(size, rng: np.random.Generator) -> np.ndarray:
    """Standard normal variates of shape ``size`` by the Box-Muller transform.

    Pairs ``r cos(t), r sin(t)`` with ``r = sqrt(-2 log u)`` and the angle ``t = 2 pi v``,
    ``v ~ U[0, 1)``. The uniform ``u ~ U(0, 1]`` is drawn in double precision, which keeps the
    tails: ``r`` reaches 8.6, so they are cut at 8.6 standard deviations (probability below
    1e-17). Rounded to single precision (never to 0, the smallest ``u`` is ``2^-53``), ``u`` then
    goes through the logarithm, the square root, the sine and cosine and the products in single
    precision, where numpy vectorises them; the variates are returned in double precision. On the
    x86-64 machine measured (numpy 2.4) this takes 40% of the time of ``rng.standard_normal``
    (numpy's ziggurat), and the noise is most of a linear data set's draws. The variates are
    exact normals up to single-precision rounding (within 1e-6 relative or 5e-6 absolute of
    the double-precision formula, tested).
    """
    total = math.prod(size)
    half = (total + 1) // 2
    u = rng.random(half)
    radius = np.subtract(1.0, u, out=u).astype(np.float32)  # (0, 1]: the log is finite
    np.log(radius, out=radius)
    radius *= _MINUS_TWO_32
    np.sqrt(radius, out=radius)
    angle = rng.random(half, dtype=np.float32)
    angle *= _TWO_PI_32
    out = np.empty(2 * half)
    np.multiply(radius, np.cos(angle), out=out[:half])
    np.multiply(radius, np.sin(angle), out=out[half:])
    return out[:total].reshape(size)


@dataclass
class Noise:
    """Base class of noise specifications; ``scale`` (a number or a range, drawn per node) is the
    standard deviation of every noise kind except Student-t, where it multiplies the variate."""

    scale: float | list = (0.2, 2.0)
    kind = ""
    scale_depends_on_parents = False  # True: node_scale reads the parent values (one scale per row)

    def __post_init__(self):
        validate_range(self.scale, "scale", low=1e-12)

    def draw_node(self, n_parents: int, rng: np.random.Generator) -> dict:
        """Concrete parameters of one node's noise."""
        return self.draw_nodes([n_parents], rng)[0]

    def draw_nodes(self, n_parents: list[int], rng: np.random.Generator) -> list[dict]:
        """Concrete parameters of several nodes' noises, one dict per entry of ``n_parents``:
        all scales in one draw (subclasses add their own parameters the same way)."""
        return [{"scale": s} for s in draw_many(self.scale, len(n_parents), rng).tolist()]

    def node_scale(self, params: dict, parent_values: np.ndarray) -> np.ndarray | float:
        """Noise scale per row (constant unless heteroscedastic)."""
        return params["scale"]

    def draw_standard(self, node_params: list, n: int, rng: np.random.Generator) -> np.ndarray:
        """Unscaled variates of several nodes of this kind, ``(len(node_params), n)``, in one call.

        Row ``k`` holds ``n`` draws for the node with parameters ``node_params[k]``; multiplied by
        :meth:`node_scale` they are that node's noise.
        """
        return self._standard_sample(node_params, (len(node_params), n), rng)

    def log_prob(self, params: dict, residual: np.ndarray, parent_values: np.ndarray) -> np.ndarray:
        """Log density of the residuals ``x - f(pa)`` of one node, per row."""
        scale = self.node_scale(params, parent_values)
        return self._standard_log_prob(params, residual / scale) - np.log(scale)

    def to_dict(self) -> dict:
        """JSON-serialisable description; ``make_noise(noise.to_dict())`` rebuilds it."""
        return {"type": self.kind, **asdict(self)}

    def _standard_sample(self, node_params, size, rng):  # pragma: no cover
        raise NotImplementedError

    def _standard_log_prob(self, params, z):  # pragma: no cover
        raise NotImplementedError


@dataclass
class Gaussian(Noise):
    """Gaussian noise ``N(0, scale^2)``.

    Examples
    --------
    A ``scale`` range gives each node its own scale; the log density is per residual:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Gaussian
    >>> noise = Gaussian(scale=[0.5, 1.0])
    >>> [round(p["scale"], 2) for p in noise.draw_nodes([0, 1, 2], np.random.default_rng(0))]
    [0.82, 0.63, 0.52]
    >>> noise.log_prob({"scale": 1.0}, np.array([0.0, 1.0]), None).round(3)
    array([-0.919, -1.419])
    """

    kind = "gaussian"

    def _standard_sample(self, node_params, size, rng):
        return _standard_normal(size, rng)

    def _standard_log_prob(self, params, z):
        return -0.5 * (z * z + _LOG_2PI)


@dataclass
class Laplace(Noise):
    """Laplace noise with standard deviation ``scale`` (so it is comparable to Gaussian).

    Examples
    --------
    At the same standard deviation, Laplace noise has a higher peak and heavier tails than
    Gaussian noise (log densities at 0 and 4):

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Gaussian, Laplace
    >>> residuals = np.array([0.0, 4.0])
    >>> Laplace().log_prob({"scale": 1.0}, residuals, None).round(2)
    array([-0.35, -6.  ])
    >>> Gaussian().log_prob({"scale": 1.0}, residuals, None).round(2)
    array([-0.92, -8.92])

    In a family with no edges and no bias the data are the noise itself, with standard
    deviation ``scale``:

    >>> from skcausal_meta.datasets import ErdosRenyi, Linear, SCMFamily
    >>> family = SCMFamily("laplace_demo", graph=ErdosRenyi(edges_per_node=0.0), mechanism=Linear(bias=0.0),
    ...                    noise=Laplace(scale=2.0), n_nodes=2)
    >>> family.sample_instance(random_state=0).sample(20000, random_state=0).std(axis=0).round(1)
    array([2., 2.])
    """

    kind = "laplace"

    def _standard_sample(self, node_params, size, rng):
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), size)

    def _standard_log_prob(self, params, z):
        b = 1.0 / np.sqrt(2.0)
        return -np.abs(z) / b - np.log(2.0 * b)


@dataclass
class StudentT(Noise):
    """Student-t noise with ``df`` degrees of freedom, multiplied by ``scale`` (``df=1``: Cauchy).

    Examples
    --------
    Each node draws its degrees of freedom from the ``df`` range; with ``df=1`` the density at
    0 is the Cauchy density ``1 / pi``:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import StudentT
    >>> noise = StudentT(scale=1.0, df=[2.0, 4.0])
    >>> round(noise.draw_node(0, np.random.default_rng(0))["df"], 2)
    3.27
    >>> density = np.exp(noise.log_prob({"scale": 1.0, "df": 1.0}, np.array([0.0]), None))
    >>> round(float(density[0]), 4), round(1.0 / np.pi, 4)
    (0.3183, 0.3183)
    """

    df: float | list = (2.0, 4.0)
    kind = "student_t"

    def __post_init__(self):
        super().__post_init__()
        validate_range(self.df, "df", low=1e-3)

    def draw_nodes(self, n_parents, rng):
        nodes = super().draw_nodes(n_parents, rng)
        for node, df in zip(nodes, draw_many(self.df, len(nodes), rng).tolist()):
            node["df"] = df
        return nodes

    def _standard_sample(self, node_params, size, rng):
        return rng.standard_t([[p["df"]] for p in node_params], size)

    def _standard_log_prob(self, params, z):
        return stats.t.logpdf(z, params["df"])


@dataclass
class Uniform(Noise):
    """Uniform noise with standard deviation ``scale``: ``U(-sqrt(3) scale, sqrt(3) scale)``.

    Examples
    --------
    With ``scale=1`` the support ends at ``sqrt(3) = 1.732``; outside it the log density is
    ``-inf``:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Uniform
    >>> Uniform(scale=1.0).log_prob({"scale": 1.0}, np.array([0.0, 1.7, 1.8]), None).round(3)
    array([-1.242, -1.242,   -inf])
    """

    kind = "uniform"

    def _standard_sample(self, node_params, size, rng):
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size)

    def _standard_log_prob(self, params, z):
        inside = np.abs(z) <= np.sqrt(3.0)
        return np.where(inside, -np.log(2.0 * np.sqrt(3.0)), -np.inf)


@dataclass
class Heteroscedastic(Noise):
    """Gaussian noise whose scale depends on the parents:
    ``scale(pa) = scale * softplus(a^T pa + b) / softplus(b)`` with ``a ~ N(0, strength^2)``.

    Roots have no parents, so their scale is the constant ``scale``.

    Examples
    --------
    A node with one parent: its noise scale moves with the parent's value and equals ``scale``
    where the parent is 0:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Heteroscedastic
    >>> noise = Heteroscedastic(scale=1.0, strength=1.0)
    >>> params = noise.draw_node(1, np.random.default_rng(0))
    >>> noise.node_scale(params, np.array([[-2.0], [0.0], [2.0]])).round(2)
    array([0.86, 1.  , 1.16])
    """

    strength: float | list = 0.5
    kind = "heteroscedastic"
    scale_depends_on_parents = True

    def __post_init__(self):
        super().__post_init__()
        validate_range(self.strength, "strength", low=0.0)

    def draw_nodes(self, n_parents, rng):
        """Scales, then every node's weights ``N(0, strength^2)`` (a strength drawn per node) in
        one draw, then the offsets ``U(0.5, 1.5)``."""
        nodes = super().draw_nodes(n_parents, rng)
        strength = draw_many(self.strength, len(nodes), rng)
        weights = rng.standard_normal(sum(n_parents))
        weights *= np.repeat(strength, n_parents)
        offsets = draw_many((0.5, 1.5), len(nodes), rng).tolist()
        for node, end, k, offset in zip(nodes, itertools.accumulate(n_parents), n_parents, offsets):
            node["weights"], node["offset"] = weights[end - k:end], offset
        return nodes

    def node_scale(self, params, parent_values):
        w = np.asarray(params["weights"], dtype=float)
        if w.size == 0:
            return params["scale"]
        b = params["offset"]
        return params["scale"] * np.logaddexp(0.0, parent_values @ w + b) / np.logaddexp(0.0, b)

    def _standard_sample(self, node_params, size, rng):
        return _standard_normal(size, rng)

    def _standard_log_prob(self, params, z):
        return -0.5 * (z * z + _LOG_2PI)


NOISES = {cls.kind: cls for cls in (Gaussian, Laplace, StudentT, Uniform, Heteroscedastic)}


def make_noise(spec) -> Noise:
    """A noise from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, NOISES, Noise, "noise")
