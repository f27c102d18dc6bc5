"""The nonlinear mechanism kinds of several parents at once: random Fourier features, MLPs, GP
sample paths and post-nonlinear.

All but random Fourier features are standardised (see :mod:`skcausal_meta.datasets.mechanisms`),
and all evaluate their features in one ``(n, M)`` buffer per node (:func:`_affine_then`). The
sums of one-parent functions (quadratic, periodic) are in
:mod:`~skcausal_meta.datasets.additive_mechanisms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_float, check_positive_int
from ._params import draw, validate_range
from .mechanism_base import Mechanism

__all__ = ["RandomFourier", "MLP", "GaussianProcess", "PostNonlinear"]


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


@dataclass
@dataclass
class RandomFourier(Mechanism):
    """A draw from a GP with squared-exponential kernel, approximated by ``n_features`` random
    Fourier features: ``f(x) = c sqrt(2/M) sum_m w_m cos(omega_m^T x / l + b_m) + bias`` with
    ``omega ~ N(0, I)``, ``b ~ U(0, 2 pi)``, ``w ~ N(0, 1)`` (AVICI's ``rff`` domain: length scale
    ``l ~ U(7, 10)``, output scale ``c ~ U(10, 20)``, bias U(-3, 3)). The features are evaluated
    in single precision (see ``_apply``).

    Examples
    --------
    One node with two parents has one frequency row per feature; ``output_scale`` multiplies
    the function (here, the same draw with 10 times the scale):

    >>> import numpy as np
    >>> from skcausal_meta.datasets import RandomFourier
    >>> X = np.random.default_rng(1).normal(size=(1000, 2))
    >>> small, large = RandomFourier(output_scale=1.0, bias=0.0), RandomFourier(output_scale=10.0, bias=0.0)
    >>> params = small.draw_node(2, np.random.default_rng(0))
    >>> params["omega"].shape, params["coef"].shape
    ((100, 2), (100,))
    >>> f_small, f_large = small.apply(params, X), large.apply(large.draw_node(2, np.random.default_rng(0)), X)
    >>> round(float(f_large.std() / f_small.std()), 3)
    10.0
    """

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
    """One-hidden-layer tanh network with Gaussian weights (``hidden`` units), standardised.

    Examples
    --------
    In an instance, a node with three parents has a ``(3, 8)`` first layer and stored output
    constants, so its ``f`` has mean about 0 and standard deviation about 1 on fresh
    observational rows:

    >>> from skcausal_meta.datasets import MLP, ErdosRenyi, SCMFamily
    >>> family = SCMFamily("mlp_demo", graph=ErdosRenyi(edges_per_node=1.0), mechanism=MLP(hidden=8), n_nodes=4)
    >>> scm = family.sample_instance(random_state=0)
    >>> node, parents = scm.nodes[2], scm.graph[:, 2] == 1
    >>> int(parents.sum()), node.mechanism_params["w1"].shape, sorted(node.mechanism_params)
    (3, (3, 8), ['b1', 'out_scale', 'out_shift', 'w1', 'w2'])
    >>> f = node.mechanism.apply(node.mechanism_params, scm.sample(5000, random_state=1)[:, parents])
    >>> round(float(f.mean()), 1), round(float(f.std()), 1)
    (0.0, 1.0)
    """

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

    Examples
    --------
    A node with one parent: 20 anchors, a smooth function near them, and the prior mean 0 far
    from every anchor:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import GaussianProcess
    >>> mechanism = GaussianProcess(length_scale=1.0, n_anchors=20)
    >>> params = mechanism.draw_node(1, np.random.default_rng(0))
    >>> params["anchors"].shape, params["alpha"].shape
    ((20, 1), (20,))
    >>> mechanism.apply(params, np.array([[0.0], [0.1], [0.2]])).round(2)
    array([ 0.24,  0.1 , -0.05])
    >>> bool(mechanism.apply(params, np.array([[50.0]]))[0] == 0.0)
    True
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
class PostNonlinear(MLP):
    """Post-nonlinear model ``x = g(f(pa) + noise)`` with ``f`` a standardised MLP and the
    invertible ``g(z) = sign(z) |z|^p``, ``p ~ U(power)``. Not additive noise, but the log
    density is still exact: ``log p(x) = log p_noise(g^-1(x) - f(pa)) + log |dg^-1/dx|``.

    Examples
    --------
    With ``power=2`` the outer map is the signed square; its inverse comes with the log
    Jacobian the density needs:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import PostNonlinear
    >>> mechanism = PostNonlinear(hidden=4, power=2.0)
    >>> params = mechanism.draw_node(1, np.random.default_rng(0))
    >>> mechanism.post(params, np.array([-2.0, 0.5, 3.0]))
    array([-4.  ,  0.25,  9.  ])
    >>> z, log_jacobian = mechanism.post_inverse(params, np.array([-4.0, 0.25, 9.0]))
    >>> z, log_jacobian.round(3)
    (array([-2. ,  0.5,  3. ]), array([-1.386,  0.   , -1.792]))
    """

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
