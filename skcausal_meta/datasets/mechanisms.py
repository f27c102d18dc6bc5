"""Structural mechanisms ``f_j(pa_j)``.

Like noises, a mechanism object is a family-level specification whose parameters may be ranges;
``draw_node(n_parents, rng)`` returns one node's concrete parameters (a dict of floats and
numpy arrays; :meth:`SCMInstance.to_dict` turns them into JSON), ``draw_nodes`` those of several
nodes at once (how families draw them), and ``apply(params, parent_values)`` evaluates ``f`` on an
``(n, n_parents)`` array of parent values, vectorised over rows.

Mechanisms whose outputs would otherwise blow up along long causal chains (square, MLP, GP,
periodic, post-nonlinear) are *standardised*: at instance creation a pilot sample fixes an
affine map so the mechanism's output has mean 0 and standard deviation 1 under the observational
distribution (the constants are stored in the instance, so sampling stays a pure function of
the instance and the seed). Linear and RFF mechanisms follow AVICI's domains and are left raw.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from .._validation import check_positive_float, check_positive_int
from ._params import build, draw, draw_many, draw_signed, validate_range

__all__ = [
    "Mechanism",
    "Linear",
    "RandomFourier",
    "MLP",
    "GaussianProcess",
    "Square",
    "Periodic",
    "PostNonlinear",
    "Mixture",
    "Constant",
    "MECHANISMS",
    "make_mechanism",
]


def _per_row(f, pa: np.ndarray) -> np.ndarray:
    """``f(pa)``, one value per row of the parent values ``(n, k)``.

    A root node (no parent columns) has the same value on every row, so ``f`` is evaluated on one
    row and the value repeated: the elementwise cosines, tanh or exponentials of its features
    are what costs.
    """
    if pa.shape[1]:
        return f(pa)
    return np.repeat(f(pa[:1]), pa.shape[0])


def _affine_then(ufunc, x: np.ndarray, weights: np.ndarray, offset: np.ndarray, dtype=np.float64) -> np.ndarray:
    """``ufunc(x @ weights + offset)`` in ``dtype``, computed in place in one ``(n, M)`` buffer.

    The offset is folded into the product, ``[x, 1] @ [weights; offset]``: one matrix product
    instead of a product and a broadcast sum over the large buffer (and numpy's product is slow
    for a single parent column, which the extra column also avoids).
    """
    k = x.shape[1]
    x1 = np.empty((x.shape[0], k + 1), dtype)
    x1[:, :k] = x
    x1[:, k] = 1.0
    w1 = np.empty((k + 1, weights.shape[1]), dtype)
    w1[:k] = weights
    w1[k] = offset
    out = x1 @ w1
    return ufunc(out, out=out)


class Mechanism:
    """Base class of mechanism specifications."""

    kind: str = ""
    standardize: bool = False  # fix an output affine map on a pilot sample (see module docstring)

    def draw_node(self, n_parents: int, rng: np.random.Generator) -> dict:  # pragma: no cover
        raise NotImplementedError

    def draw_nodes(self, n_parents: list[int], rng: np.random.Generator) -> list[dict]:
        """Concrete parameters of several nodes, one dict per entry of ``n_parents``.

        By default one :meth:`draw_node` per node; mechanisms whose parameters are cheap
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
class Linear(Mechanism):
    """``f(pa) = w^T pa + bias`` with ``w = sign * U(weight)`` per edge and ``bias ~ U(bias)``
    (AVICI's ``lin`` domain: weights +-U(1, 3), bias U(-3, 3))."""

    weight: float | list = (1.0, 3.0)
    bias: float | list = (-3.0, 3.0)
    kind = "linear"

    def __post_init__(self):
        validate_range(self.weight, "weight", low=0.0)
        validate_range(self.bias, "bias")

    def draw_node(self, n_parents, rng):
        return self.draw_nodes([n_parents], rng)[0]

    def draw_nodes(self, n_parents, rng):
        """All nodes' weights in one draw (node after node, each node's parents in index order),
        then all biases; node ``j`` gets a view of its own slice of the weights."""
        weights = draw_signed(self.weight, sum(n_parents), rng)
        bias = draw_many(self.bias, len(n_parents), rng).tolist()
        ends = list(itertools.accumulate(n_parents))
        return [{"weights": weights[end - k:end], "bias": b} for k, end, b in zip(n_parents, ends, bias)]

    def _apply(self, params, pa):
        # np.dot, not @: numpy's matmul takes a slow path for zero or one parent column (a
        # third of the nodes of a sparse graph), np.dot goes to BLAS or a plain loop
        out = np.dot(pa, np.asarray(params["weights"], dtype=float))
        out += params["bias"]
        return out


@dataclass
class RandomFourier(Mechanism):
    """A draw from a GP with squared-exponential kernel, approximated by ``n_features`` random
    Fourier features: ``f(x) = c sqrt(2/M) sum_m w_m cos(omega_m^T x / l + b_m) + bias`` with
    ``omega ~ N(0, I)``, ``b ~ U(0, 2 pi)``, ``w ~ N(0, 1)`` (AVICI's ``rff`` domain: length scale
    ``l ~ U(7, 10)``, output scale ``c ~ U(10, 20)``, bias U(-3, 3)). The features are evaluated
    in single precision (see ``_apply``)."""

    length_scale: float | list = (7.0, 10.0)
    output_scale: float | list = (10.0, 20.0)
    bias: float | list = (-3.0, 3.0)
    n_features: int = 100
    kind = "rff"

    def __post_init__(self):
        validate_range(self.length_scale, "length_scale", low=1e-12)
        validate_range(self.output_scale, "output_scale", low=0.0)
        validate_range(self.bias, "bias")
        check_positive_int(self.n_features, "n_features")

    def draw_node(self, n_parents, rng):
        m = self.n_features
        ls = draw(self.length_scale, rng)
        return {
            "omega": (rng.standard_normal((m, n_parents)) / ls),
            "phase": rng.uniform(0.0, 2.0 * np.pi, m),
            "coef": (rng.standard_normal(m) * draw(self.output_scale, rng) * np.sqrt(2.0 / m)),
            "bias": float(draw(self.bias, rng)),
        }

    def _apply(self, params, pa):
        # The features are computed in single precision, where numpy's cosine is vectorised (an
        # order of magnitude faster than in double, and the cosines are nearly all of the cost);
        # the function values agree with the double-precision formula to a few 1e-6 of the
        # output scale (tested). Parameters stay float64, and so does the returned value.
        phase = np.asarray(params["phase"])
        omega = np.asarray(params["omega"], dtype=float).reshape(phase.size, pa.shape[1])
        coef = np.asarray(params["coef"], dtype=np.float32)
        f = _per_row(lambda x: _affine_then(np.cos, x, omega.T, phase, np.float32) @ coef, pa)
        out = f.astype(float)
        out += params["bias"]
        return out


@dataclass
class MLP(Mechanism):
    """One-hidden-layer tanh network with Gaussian weights (``hidden`` units), standardised."""

    hidden: int = 16
    weight_scale: float | list = (1.0, 2.0)
    kind = "mlp"
    standardize = True

    def __post_init__(self):
        check_positive_int(self.hidden, "hidden")
        validate_range(self.weight_scale, "weight_scale", low=0.0)

    def draw_node(self, n_parents, rng):
        s = draw(self.weight_scale, rng)
        h = self.hidden
        return {
            "w1": (rng.standard_normal((n_parents, h)) * s),
            "b1": rng.standard_normal(h),
            "w2": (rng.standard_normal(h) / np.sqrt(h)),
        }

    def _apply(self, params, pa):
        b1 = np.asarray(params["b1"])
        w1 = np.asarray(params["w1"], dtype=float).reshape(pa.shape[1], b1.size)
        w2 = np.asarray(params["w2"])
        return _per_row(lambda x: _affine_then(np.tanh, x, w1, b1) @ w2, pa)


@dataclass
class GaussianProcess(Mechanism):
    """An exact GP sample path (squared-exponential kernel) pinned at ``n_anchors`` anchor inputs.

    The function values at anchors ``A ~ N(0, anchor_scale^2 I)`` are drawn jointly from the GP
    prior (exact, an ``n_anchors``-dimensional Gaussian); elsewhere ``f`` is the GP conditional
    mean given those values, ``k(x, A) K_AA^-1 f_A``, so the function is fixed once drawn and
    new samples reuse it. Cost grows with ``n_anchors`` (meant for small graphs). Standardised.
    """

    length_scale: float | list = (0.5, 2.0)
    n_anchors: int = 50
    anchor_scale: float = 2.0
    kind = "gp"
    standardize = True

    def __post_init__(self):
        validate_range(self.length_scale, "length_scale", low=1e-12)
        check_positive_int(self.n_anchors, "n_anchors")
        check_positive_float(self.anchor_scale, "anchor_scale")

    def draw_node(self, n_parents, rng):
        ls = draw(self.length_scale, rng)
        anchors = rng.standard_normal((self.n_anchors, n_parents)) * self.anchor_scale
        gram = self._kernel(anchors, anchors, ls) + 1e-6 * np.eye(self.n_anchors)
        chol = np.linalg.cholesky(gram)
        values = chol @ rng.standard_normal(self.n_anchors)
        alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, values))
        return {"anchors": anchors, "alpha": alpha, "length_scale": float(ls)}

    @staticmethod
    def _kernel(a, b, ls):
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :]
        sq -= 2.0 * a @ b.T
        # exp(-0.5 * max(sq, 0) / ls^2), one operation at a time in place (same bits, no temporaries)
        np.maximum(sq, 0.0, out=sq)
        sq *= -0.5
        sq /= ls**2
        return np.exp(sq, out=sq)

    def _apply(self, params, pa):
        alpha = np.asarray(params["alpha"])
        anchors = np.asarray(params["anchors"], dtype=float).reshape(alpha.size, pa.shape[1])
        return _per_row(lambda x: self._kernel(x, anchors, params["length_scale"]) @ alpha, pa)


@dataclass
class Square(Mechanism):
    """``f(pa) = sum_i w_i pa_i^2 + v^T pa`` (signed weights), standardised."""

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
    """``f(pa) = sum_i w_i sin(freq_i pa_i + phase_i)`` (signed weights), standardised."""

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


@dataclass
class PostNonlinear(MLP):
    """Post-nonlinear model ``x = g(f(pa) + noise)`` with ``f`` a standardised MLP and the
    invertible ``g(z) = sign(z) |z|^p``, ``p ~ U(power)``. Not additive noise, but the log
    density is still exact: ``log p(x) = log p_noise(g^-1(x) - f(pa)) + log |dg^-1/dx|``."""

    power: float | list = (1.5, 2.5)
    kind = "pnl"

    def __post_init__(self):
        super().__post_init__()
        validate_range(self.power, "power", low=1e-3)

    def draw_node(self, n_parents, rng):
        return {**super().draw_node(n_parents, rng), "power": float(draw(self.power, rng))}

    def post(self, params, z):
        return np.sign(z) * np.abs(z) ** params["power"]

    def post_inverse(self, params, x):
        p = params["power"]
        ax = np.maximum(np.abs(x), 1e-300)
        return np.sign(x) * ax ** (1.0 / p), np.log(1.0 / p) + (1.0 / p - 1.0) * np.log(ax)


@dataclass
class Mixture(Mechanism):
    """Per-node mixture: each node independently takes one of ``components`` (mechanism specs
    or their dicts) with probabilities ``weights`` (uniform by default). The chosen kind is
    stored in the node's parameters, so :func:`node_mechanism` dispatches to it."""

    components: list = None
    weights: list | None = None
    kind = "mixture"

    def __post_init__(self):
        if not self.components:
            raise ValueError("components must be a non-empty list of mechanisms")
        self.components = [make_mechanism(c) for c in self.components]
        if any(isinstance(c, Mixture) for c in self.components):
            raise ValueError("components of a Mixture cannot themselves be mixtures")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.shape != (len(self.components),) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"weights must be {len(self.components)} non-negative numbers, got {self.weights!r}")

    def choose(self, n_nodes: int, rng: np.random.Generator) -> list[Mechanism]:
        """Pick the component each of ``n_nodes`` nodes uses (independent draws, one call)."""
        p = None if self.weights is None else np.asarray(self.weights, float) / np.sum(self.weights)
        return [self.components[k] for k in rng.choice(len(self.components), size=n_nodes, p=p).tolist()]

    def to_dict(self):
        return {"type": self.kind, "components": [c.to_dict() for c in self.components], "weights": self.weights}


@dataclass
class Constant(Mechanism):
    """A node fixed by a perfect intervention ``do(x_j = value)``; it has no noise."""

    value: float = 0.0
    kind = "constant"

    def draw_node(self, n_parents, rng):
        return {"value": float(self.value)}

    def _apply(self, params, pa):
        return np.full(pa.shape[0], params["value"])


MECHANISMS = {
    cls.kind: cls
    for cls in (Linear, RandomFourier, MLP, GaussianProcess, Square, Periodic, PostNonlinear, Mixture, Constant)
}


def make_mechanism(spec) -> Mechanism:
    """A mechanism from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, MECHANISMS, Mechanism, "mechanism")
