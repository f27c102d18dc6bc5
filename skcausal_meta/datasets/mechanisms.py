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

This module holds the linear kind, mixtures and the registry of kinds (:data:`MECHANISMS`,
:func:`make_mechanism`); the base class and ``Constant`` are in
:mod:`~skcausal_meta.datasets.mechanism_base`, the nonlinear kinds in
:mod:`~skcausal_meta.datasets.nonlinear_mechanisms` and
:mod:`~skcausal_meta.datasets.additive_mechanisms`, and all are re-exported here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._params import build, draw_many, draw_signed, validate_range
from .additive_mechanisms import Periodic, Square
from .mechanism_base import Constant, Mechanism
from .nonlinear_mechanisms import MLP, GaussianProcess, PostNonlinear, RandomFourier

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


@dataclass
@dataclass
class Linear(Mechanism):
    """``f(pa) = w^T pa + bias`` with ``w = sign * U(weight)`` per edge and ``bias ~ U(bias)``
    (AVICI's ``lin`` domain: weights +-U(1, 3), bias U(-3, 3)).

    Examples
    --------
    One node with two parents; each weight gets a random sign:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Linear
    >>> mechanism = Linear(weight=2.0, bias=0.5)
    >>> params = mechanism.draw_node(2, np.random.default_rng(0))
    >>> params
    {'weights': array([ 2., -2.]), 'bias': 0.5}
    >>> mechanism.apply(params, np.array([[1.0, 1.0], [3.0, 1.0]]))
    array([0.5, 4.5])
    """

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
@dataclass
class Mixture(Mechanism):
    """Per-node mixture: each node independently takes one of ``components`` (mechanism specs
    or their dicts) with probabilities ``weights`` (uniform by default). The chosen kind is
    stored in the node's parameters, so ``node_mechanism`` dispatches to it.

    Examples
    --------
    Half linear, half quadratic nodes; each node of an instance shows the kind it drew:

    >>> from skcausal_meta.datasets import Linear, Mixture, SCMFamily, Square
    >>> mixture = Mixture(components=[Linear(), Square()], weights=[0.5, 0.5])
    >>> scm = SCMFamily("mix_demo", mechanism=mixture, n_nodes=6).sample_instance(random_state=0)
    >>> [node.mechanism.kind for node in scm.nodes]
    ['linear', 'square', 'linear', 'square', 'linear', 'linear']
    """

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


MECHANISMS = {
    cls.kind: cls
    for cls in (Linear, RandomFourier, MLP, GaussianProcess, Square, Periodic, PostNonlinear, Mixture, Constant)
}


def make_mechanism(spec) -> Mechanism:
    """A mechanism from an instance, a kind name, or a dict ``{"type": kind, **params}``."""
    return build(spec, MECHANISMS, Mechanism, "mechanism")
