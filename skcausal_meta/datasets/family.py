"""SCMFamily: a distribution over SCM instances, plain data.

A family is graph prior x mechanism x noise x number of nodes x intervention recipe. Each of the
first three may be a list, in which case every instance picks one entry uniformly at random
(AVICI's training domain, for example, mixes ER and scale-free graphs and linear and RFF
mechanisms, one choice per data set). :meth:`SCMFamily.from_dict` builds one from a dict or YAML;
the registry of named families is :mod:`skcausal_meta.datasets.families`.
"""

from __future__ import annotations

import copy
import itertools
import numbers
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._validation import check_positive_int, check_random_state, parse_yaml
from ._params import draw, validate_range
from .ancestral import forward
from .graphs import ErdosRenyi, GraphPrior, make_graph_prior
from .interventions import InterventionSpec
from .mechanisms import Linear, Mechanism, Mixture, make_mechanism
from .noise import Gaussian, Noise, make_noise
from .node_model import NodeModel
from .scm import SCMInstance

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._typing import RandomStateLike

__all__ = ["SCMFamily", "SHIFT_AXES"]

SHIFT_AXES = ("graph", "density", "mechanism", "noise", "interventions", "nodes", "samples")
_PILOT_ROWS = 2000


def _as_list(value, builder, name):
    items = value if isinstance(value, (list, tuple)) and not _is_range(value) else [value]
    if not items:
        raise ValueError(f"{name} must name at least one choice")
    return [builder(item) for item in items]


def _pick(choices: list, rng: np.random.Generator):
    """One of ``choices`` uniformly at random; a single choice draws nothing (as
    ``rng.integers(1)`` does not), so skipping the call leaves the stream unchanged."""
    return choices[0] if len(choices) == 1 else choices[rng.integers(len(choices))]


def _draw_grouped(mechanisms: list, n_parents: list[int], rng: np.random.Generator) -> list[dict]:
    """The parameters of node ``j`` under ``mechanisms[j]``: one :meth:`Mechanism.draw_nodes`
    call per distinct mechanism (in order of first use), covering its nodes in index order."""
    groups: dict[int, list[int]] = {}
    for j, mechanism in enumerate(mechanisms):
        groups.setdefault(id(mechanism), []).append(j)
    params = [None] * len(mechanisms)
    for nodes in groups.values():
        drawn = mechanisms[nodes[0]].draw_nodes([n_parents[j] for j in nodes], rng)
        for j, node_params in zip(nodes, drawn):
            params[j] = node_params
    return params


def _is_range(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)


@dataclass
class SCMFamily:
    """A distribution over SCM instances.

    Parameters
    ----------
    name : str
        Registry name.
    graph, mechanism, noise : spec or list of specs
        Graph prior(s), mechanism(s) and noise(s): instances, kind names or dicts
        ``{"type": ..., **params}``. A list is a uniform choice per instance.
    n_nodes : int or [low, high]
        Number of nodes (a range is drawn per data set stack by :func:`make_scm_family`).
    n_samples, n_interventional : int
        Default numbers of observational and interventional rows per data set.
    interventions : InterventionSpec or dict
        How interventional rows are generated.
    shift : tuple of str
        The axes along which this family differs from ``id`` (empty for ``id``), a subset of
        ``SHIFT_AXES``; used to group families in reports.
    description : str
        One line for reports.

    Examples
    --------
    A family of sparse linear SCMs with Gaussian or Laplace noise on 3 to 6 nodes; one instance
    and one data set of 20 observational and 5 interventional rows:

    >>> from skcausal_meta import SCMFamily
    >>> family = SCMFamily("linear_er1", graph={"type": "er", "edges_per_node": 1.0},
    ...                    mechanism="linear", noise=["gaussian", "laplace"], n_nodes=[3, 6])
    >>> [g.kind for g in family.graph], [n.kind for n in family.noise]
    (['er'], ['gaussian', 'laplace'])
    >>> scm = family.sample_instance(random_state=0, n_nodes=4)
    >>> X, mask = family.sample_dataset(scm, n_samples=20, n_interventional=5, random_state=0)
    >>> X.shape, int(mask.sum())
    ((25, 4), 5)
    >>> SCMFamily.from_dict(family.to_dict()) == family
    True

    The same from YAML (a file path or a string):

    >>> SCMFamily.from_yaml("name: small\\nn_nodes: 3\\nmechanism: {type: linear}\\n").n_nodes
    3
    """

    name: str
    graph: list = field(default_factory=lambda: [ErdosRenyi()])
    mechanism: list = field(default_factory=lambda: [Linear()])
    noise: list = field(default_factory=lambda: [Gaussian()])
    n_nodes: int | list = (5, 20)
    n_samples: int = 500
    n_interventional: int = 100
    interventions: InterventionSpec = field(default_factory=InterventionSpec)
    shift: tuple = ()
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        self.graph = _as_list(self.graph, make_graph_prior, "graph")
        self.mechanism = _as_list(self.mechanism, make_mechanism, "mechanism")
        self.noise = _as_list(self.noise, make_noise, "noise")
        sizes = self.n_nodes if isinstance(self.n_nodes, (list, tuple)) else [self.n_nodes]
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in sizes):
            raise ValueError(f"n_nodes must be an integer or a [low, high] pair of integers, got {self.n_nodes!r}")
        validate_range(self.n_nodes, "n_nodes", low=2)
        check_positive_int(self.n_samples, "n_samples")
        check_positive_int(self.n_interventional, "n_interventional", minimum=0)
        if isinstance(self.interventions, dict):
            unknown = set(self.interventions) - {f.name for f in fields(InterventionSpec)}
            if unknown:
                raise ValueError(f"unknown interventions keys {sorted(unknown)}; allowed: "
                                 f"{sorted(f.name for f in fields(InterventionSpec))}")
            self.interventions = InterventionSpec(**self.interventions)
        if not isinstance(self.interventions, InterventionSpec):
            raise ValueError(f"interventions must be a mapping of InterventionSpec fields or an InterventionSpec, "
                             f"got {self.interventions!r}")
        if isinstance(self.shift, str) or not isinstance(self.shift, (list, tuple)):
            raise ValueError(f"shift must be a list of axes from {SHIFT_AXES}, got {self.shift!r}")
        self.shift = tuple(self.shift)
        unknown = set(self.shift) - set(SHIFT_AXES)
        if unknown:
            raise ValueError(f"shift axes {sorted(unknown)} unknown; allowed: {SHIFT_AXES}")

    # ------------------------------------------------------------------ instances
    def sample_instance(self, random_state: RandomStateLike = None, n_nodes: int | None = None) -> SCMInstance:
        """Draw one SCM; the same ``random_state`` always gives the same instance.

        Standardised mechanisms are calibrated on a pilot sample drawn from the instance's own
        seed stream, so the instance is a pure function of ``random_state``.
        """
        rng = check_random_state(random_state)
        d = int(n_nodes) if n_nodes is not None else int(draw(self.n_nodes, rng))
        if d < 2:
            raise ValueError(f"n_nodes must be >= 2, got {d}")
        prior: GraphPrior = _pick(self.graph, rng)
        graph = prior.sample(d, rng)
        mechanism: Mechanism = _pick(self.mechanism, rng)
        noise: Noise = _pick(self.noise, rng)
        n_parents = graph.sum(axis=0).tolist()
        if isinstance(mechanism, Mixture):
            mechanisms = mechanism.choose(d, rng)
            mechanism_params = _draw_grouped(mechanisms, n_parents, rng)
            standardize = any(m.standardize for m in mechanisms)
        else:
            mechanisms, mechanism_params = [mechanism] * d, mechanism.draw_nodes(n_parents, rng)
            standardize = mechanism.standardize
        noise_params = noise.draw_nodes(n_parents, rng)
        nodes = list(map(NodeModel, mechanisms, mechanism_params, [noise] * d, noise_params))
        scm = SCMInstance._from_prior(graph, nodes)
        if standardize:
            forward(scm, _PILOT_ROWS, None, rng, calibrate=True)
        return scm

    def sample_dataset(
        self,
        scm: SCMInstance,
        n_samples: int,
        n_interventional: int,
        random_state: RandomStateLike = None,
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observational rows followed by interventional rows from ``scm``.

        Returns ``X (n, d)`` and the mask ``(n, d)`` the estimator sees (all False when the
        family's targets are unknown). ``X`` is written into ``out`` when it is given (a C-ordered
        float64 array of that shape, as in :meth:`SCMInstance.sample`).
        """
        rng = check_random_state(random_state)
        d = scm.n_nodes
        if not n_interventional:
            return scm.sample(n_samples, random_state=rng, out=out), np.zeros((n_samples, d), dtype=bool)
        # one forward pass over all rows: the observational ones are those the interventions leave free
        iv = self.interventions.draw(n_interventional, d, rng, n_observational=n_samples)
        X = scm.sample(n_samples + n_interventional, iv, random_state=rng, out=out)
        return X, (np.zeros_like(iv.mask) if self.interventions.unknown_targets else iv.mask)

    def iter_datasets(
        self,
        random_state: RandomStateLike = None,
        n_nodes: int | None = None,
        n_samples: int | None = None,
        n_interventional: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray, SCMInstance]]:
        """An endless stream of ``(X, mask, scm)`` data sets sharing one number of nodes.

        Item ``i`` depends only on ``random_state`` and ``i`` (each item has its own seed
        stream, which draws the instance and then its rows), so a prefix of the stream never
        changes. Sizes default to the family's; a ``n_nodes`` range is drawn once for the whole
        stream.
        """
        sizes = self._stream_sizes(random_state, n_nodes, n_samples, n_interventional)
        return (self._stream_item(sizes, i) for i in itertools.count())

    def _stream_sizes(self, random_state, n_nodes, n_samples, n_interventional) -> tuple[int, int, int, int]:
        """``(d, n_samples, n_interventional, base)`` of a stream: the sizes, checked, and the
        seed from which item ``i`` draws (:meth:`_stream_item`)."""
        n_samples = check_positive_int(self.n_samples if n_samples is None else n_samples, "n_samples")
        n_int = check_positive_int(self.n_interventional if n_interventional is None else n_interventional,
                                   "n_interventional", minimum=0)
        rng = check_random_state(random_state)
        d = check_positive_int(int(draw(self.n_nodes, rng)) if n_nodes is None else n_nodes, "n_nodes", minimum=2)
        return d, n_samples, n_int, int(rng.integers(2**62))

    def _stream_item(self, sizes: tuple[int, int, int, int], i: int, out: np.ndarray | None = None):
        """Item ``i`` of the stream with these ``sizes``: ``(X, mask, scm)``, ``X`` written into
        ``out`` when given."""
        d, n_samples, n_int, base = sizes
        rng = np.random.default_rng([base, i, 0])
        scm = self.sample_instance(rng, n_nodes=d)
        X, mask = self.sample_dataset(scm, n_samples, n_int, rng, out=out)
        return X, mask, scm

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """Plain-data description (the inverse of :meth:`from_dict`)."""
        return {
            "name": self.name,
            "graph": [g.to_dict() for g in self.graph],
            "mechanism": [m.to_dict() for m in self.mechanism],
            "noise": [n.to_dict() for n in self.noise],
            "n_nodes": list(self.n_nodes) if isinstance(self.n_nodes, (list, tuple)) else self.n_nodes,
            "n_samples": self.n_samples,
            "n_interventional": self.n_interventional,
            "interventions": self.interventions.to_dict(),
            "shift": list(self.shift),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SCMFamily":
        """Build a family from a dict; unknown keys raise ``ValueError`` naming them."""
        if not isinstance(data, dict):
            raise ValueError(f"a family definition must be a mapping, got {type(data).__name__}")
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown family keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        if "name" not in data:
            raise ValueError("a family definition needs a 'name'")
        return cls(**copy.deepcopy(data))

    @classmethod
    def from_yaml(cls, source: str | Path) -> "SCMFamily":
        """Build a family from a YAML file path or a YAML string."""
        if not isinstance(source, (str, Path)):
            raise ValueError(f"source must be a YAML file path or a YAML string, got {type(source).__name__}")
        text = Path(source).read_text() if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and Path(source).is_file()) else source
        data = parse_yaml(text, f"family definition {str(source)[:80]!r}")
        if isinstance(source, str) and "\n" not in source and not isinstance(data, dict):
            raise FileNotFoundError(f"family file {source!r} does not exist (and the text is no YAML mapping)")
        return cls.from_dict(data)
