"""SCM families: distributions over SCM instances, a registry of named ones, and
:func:`make_scm_family`, which turns a family into stacked data sets.

A family is graph prior x mechanism x noise x number of nodes x intervention recipe. Each of the
first three may be a list, in which case every instance picks one entry uniformly at random
(AVICI's training domain, for example, mixes ER and scale-free graphs and linear and RFF
mechanisms, one choice per data set). Families are plain data: :meth:`SCMFamily.from_dict`
builds one from a dict or YAML, and :func:`register_family` adds it to the registry.
"""

from __future__ import annotations

import copy
import os
import itertools
import numbers
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from .._validation import check_positive_int, check_random_state, parse_yaml
from ._params import draw, validate_range
from .graphs import ErdosRenyi, GeometricRandom, GraphPrior, ScaleFree, StochasticBlock, WattsStrogatz, make_graph_prior
from .interventions import InterventionSpec
from .mechanisms import (
    MLP,
    GaussianProcess,
    Linear,
    Mechanism,
    Mixture,
    Periodic,
    PostNonlinear,
    RandomFourier,
    Square,
    make_mechanism,
)
from .noise import Gaussian, Heteroscedastic, Laplace, Noise, StudentT, Uniform, make_noise
from .scm import NodeModel, SCMInstance

__all__ = [
    "SCMFamily",
    "SHIFT_AXES",
    "register_family",
    "registered_families",
    "get_family",
    "list_families",
    "make_scm_family",
]

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
    def sample_instance(self, random_state=None, n_nodes: int | None = None) -> SCMInstance:
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
            scm._forward(_PILOT_ROWS, None, rng, calibrate=True)
        return scm

    def sample_dataset(self, scm: SCMInstance, n_samples: int, n_interventional: int, random_state=None,
                       out: np.ndarray | None = None):
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

    def iter_datasets(self, random_state=None, n_nodes: int | None = None, n_samples: int | None = None,
                      n_interventional: int | None = None):
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
    def from_yaml(cls, source) -> "SCMFamily":
        """Build a family from a YAML file path or a YAML string."""
        if not isinstance(source, (str, Path)):
            raise ValueError(f"source must be a YAML file path or a YAML string, got {type(source).__name__}")
        text = Path(source).read_text() if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and Path(source).is_file()) else source
        data = parse_yaml(text, f"family definition {str(source)[:80]!r}")
        if isinstance(source, str) and "\n" not in source and not isinstance(data, dict):
            raise FileNotFoundError(f"family file {source!r} does not exist (and the text is no YAML mapping)")
        return cls.from_dict(data)


# ---------------------------------------------------------------------- registry
_REGISTRY: dict[str, SCMFamily] = {}


def _as_family(family) -> SCMFamily:
    """An :class:`SCMFamily` from itself, a dict, or a YAML path/string."""
    if isinstance(family, dict):
        family = SCMFamily.from_dict(family)
    elif isinstance(family, (str, Path)):
        family = SCMFamily.from_yaml(family)
    if not isinstance(family, SCMFamily):
        raise ValueError(f"family must be an SCMFamily, a dict or YAML, got {type(family).__name__}")
    return family


def register_family(family, overwrite: bool = False) -> SCMFamily:
    """Add a family (an :class:`SCMFamily`, a dict, or a YAML path/string) to the registry."""
    family = _as_family(family)
    if family.name in _REGISTRY and not overwrite:
        raise ValueError(f"a family named {family.name!r} is already registered (pass overwrite=True)")
    _REGISTRY[family.name] = family
    return family


@contextmanager
def registered_families(*families):
    """Register ``families`` for the duration of a ``with`` block, then put the registry back.

    A benchmark config may define families inline; they must be found by name while its data
    are made (:class:`~skcausal_meta.datasets.DatasetSpec` names its family), but must not stay
    registered, or a later config in the same process could not redefine the name. Each name
    gets back the family it had before the block (or none).
    """
    built = [_as_family(family) for family in families]
    before = {family.name: _REGISTRY.get(family.name) for family in built}
    try:
        for family in built:
            _REGISTRY[family.name] = family
        yield built
    finally:
        for name, family in before.items():
            if family is None:
                _REGISTRY.pop(name, None)
            else:
                _REGISTRY[name] = family


def get_family(name) -> SCMFamily:
    """The registered family ``name``, or the one a ``.yml``/``.yaml`` file at the path ``name``
    defines (an :class:`SCMFamily` is returned as is)."""
    if isinstance(name, SCMFamily):
        return name
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    if isinstance(name, (str, os.PathLike)) and str(name).endswith((".yml", ".yaml")) and os.path.isfile(name):
        return SCMFamily.from_yaml(Path(name))
    raise ValueError(f"unknown family {name!r} (nor a .yml/.yaml file); known families: {list_families()}")


def list_families(shift: str | None = None) -> list[str]:
    """Names of the registered families, optionally only those shifted along ``shift``."""
    if shift is not None and shift not in SHIFT_AXES + ("none",):
        raise ValueError(f"shift must be one of {SHIFT_AXES + ('none',)}, got {shift!r}")
    return [
        name for name, fam in _REGISTRY.items()
        if shift is None or shift in fam.shift or (shift == "none" and not fam.shift)
    ]


# ---------------------------------------------------------------------- data sets
def make_scm_family(
    family,
    n_datasets: int = 10,
    n_nodes: int | None = None,
    n_samples: int | None = None,
    n_interventional: int | None = None,
    random_state=None,
    return_scm: bool = False,
):
    """Draw ``n_datasets`` SCMs from a family and sample one data set from each.

    Parameters
    ----------
    family : str or SCMFamily
        A registered name (see :func:`list_families`) or a family.
    n_datasets : int
        Number of data sets ``N``.
    n_nodes : int, optional
        Number of nodes ``d`` of every data set; by default one value is drawn from the
        family's range (all data sets share it so they stack).
    n_samples, n_interventional : int, optional
        Observational and interventional rows per data set (family defaults otherwise).
    random_state : int, Generator or None
        Seed. Data set ``i`` depends only on the seed and ``i``, so a larger ``n_datasets``
        extends the stack without changing its first entries.
    return_scm : bool
        Also return the list of :class:`SCMInstance`.

    Returns
    -------
    X : ndarray (N, n, d), float64
        ``n = n_samples + n_interventional``; observational rows first.
    interventions : ndarray (N, n, d), bool
        Intervention masks (all False for unknown-target families).
    graphs : ndarray (N, d, d), int8
    scms : list of SCMInstance, only with ``return_scm=True``
    """
    fam = get_family(family)
    n_datasets = check_positive_int(n_datasets, "n_datasets")
    sizes = fam._stream_sizes(random_state, n_nodes, n_samples, n_interventional)  # the items of iter_datasets
    d, n = sizes[0], sizes[1] + sizes[2]
    X = np.empty((n_datasets, n, d))  # each data set's rows are written in place (no stacking copy)
    masks = np.empty((n_datasets, n, d), dtype=bool)
    graphs = np.empty((n_datasets, d, d), dtype=np.int8)
    scms = []
    for i in range(n_datasets):
        _, masks[i], scm = fam._stream_item(sizes, i, out=X[i])
        graphs[i] = scm.graph
        scms.append(scm)
    if not np.isfinite(X).all():
        raise FloatingPointError(f"family {fam.name!r} produced non-finite data; check its mechanism scales")
    return (X, masks, graphs, scms) if return_scm else (X, masks, graphs)


# ---------------------------------------------------------------------- built-in families
def _id_family(**overrides) -> SCMFamily:
    """AVICI's published training domain (Lorch et al. 2022), the meta-training prior."""
    spec = dict(
        name="id",
        graph=[ErdosRenyi(edges_per_node=[1, 3], cap_density=True),
               ScaleFree(edges_per_node=[1, 3], cap_density=True),
               ScaleFree(edges_per_node=[1, 3], in_degree=True, cap_density=True)],
        mechanism=[Linear(weight=(1.0, 3.0), bias=(-3.0, 3.0)),
                   RandomFourier(length_scale=(7.0, 10.0), output_scale=(10.0, 20.0), bias=(-3.0, 3.0))],
        noise=[Gaussian(scale=(0.2, 2.0))],
        n_nodes=(5, 20),
        interventions=InterventionSpec(kind="perfect", targets="single", value=(1.0, 3.0)),
        description="ER/SF 1-3 edges per node, linear or RFF, Gaussian noise, d 5-20 (AVICI's domain)",
    )
    spec.update(overrides)
    return SCMFamily(**spec)


def _builtin_families() -> list[SCMFamily]:
    idf = _id_family()
    mlp = MLP()
    return [
        idf,
        # graph structure
        _id_family(name="ood_graph_ws", graph=WattsStrogatz(neighbors=[1, 2], rewire_prob=0.3), shift=("graph",),
                   description="Watts-Strogatz small-world graphs"),
        _id_family(name="ood_graph_sbm", graph=StochasticBlock(edges_per_node=[1, 3]), shift=("graph",),
                   description="stochastic block model graphs"),
        _id_family(name="ood_graph_geo", graph=GeometricRandom(radius=(0.25, 0.4)), shift=("graph",),
                   description="random geometric graphs"),
        # density
        _id_family(name="ood_dense", graph=[ErdosRenyi(edges_per_node=[4, 6], cap_density=True),
                                            ScaleFree(edges_per_node=[4, 6], cap_density=True)],
                   shift=("density",), description="ER/SF with 4-6 edges per node (capped at complete DAGs)"),
        _id_family(name="ood_sparse", graph=ErdosRenyi(edges_per_node=(0.25, 0.75)), shift=("density",),
                   description="ER with 0.25-0.75 edges per node"),
        # mechanisms
        _id_family(name="ood_mech_mlp", mechanism=mlp, shift=("mechanism",), description="random tanh MLPs"),
        _id_family(name="ood_mech_gp", mechanism=GaussianProcess(), n_nodes=(5, 10), shift=("mechanism",),
                   description="exact GP sample paths (d 5-10)"),
        _id_family(name="ood_mech_square", mechanism=Square(), shift=("mechanism",), description="quadratic"),
        _id_family(name="ood_mech_periodic", mechanism=Periodic(), shift=("mechanism",), description="sinusoidal"),
        _id_family(name="ood_mech_pnl", mechanism=PostNonlinear(), shift=("mechanism",),
                   description="post-nonlinear g(f(pa) + e)"),
        _id_family(name="ood_mech_mixture",
                   mechanism=Mixture(components=[Linear(), RandomFourier(), MLP(), Square(), Periodic()]),
                   shift=("mechanism",), description="per-node mixture of five mechanism kinds"),
        # noise
        _id_family(name="ood_noise_laplace", noise=Laplace(), shift=("noise",), description="Laplace noise"),
        _id_family(name="ood_noise_student", noise=StudentT(df=(2.0, 4.0)), shift=("noise",),
                   description="Student-t noise, 2-4 degrees of freedom"),
        _id_family(name="ood_noise_uniform", noise=Uniform(), shift=("noise",), description="uniform noise"),
        _id_family(name="ood_noise_hetero", noise=Heteroscedastic(), shift=("noise",),
                   description="heteroscedastic Gaussian noise"),
        # interventions
        _id_family(name="ood_interv_soft", interventions=InterventionSpec(kind="shift", value=(1.0, 3.0)),
                   shift=("interventions",), description="mean-shift (soft) interventions"),
        _id_family(name="ood_interv_fraction", interventions=InterventionSpec(targets=0.3, value=(1.0, 3.0)),
                   shift=("interventions",), description="do-interventions on 30% of nodes per block"),
        _id_family(name="ood_interv_unknown", interventions=InterventionSpec(unknown_targets=True),
                   shift=("interventions",), description="single-node do-interventions with unknown targets"),
        # size
        _id_family(name="ood_nodes_large", n_nodes=(30, 50), shift=("nodes",), description="30-50 nodes"),
        _id_family(name="ood_nodes_small", n_nodes=(3, 4), shift=("nodes",), description="3-4 nodes"),
        _id_family(name="ood_samples_small", n_samples=50, n_interventional=10, shift=("samples",),
                   description="50 observational + 10 interventional rows"),
        _id_family(name="ood_samples_large", n_samples=2000, n_interventional=400, shift=("samples",),
                   description="2000 observational + 400 interventional rows"),
        # combinations
        _id_family(name="ood_combo_graph_mech", graph=WattsStrogatz(neighbors=[1, 2]), mechanism=mlp,
                   shift=("graph", "mechanism"), description="small-world graphs with MLP mechanisms"),
        _id_family(name="ood_combo_mech_noise", mechanism=mlp, noise=Heteroscedastic(),
                   shift=("mechanism", "noise"), description="MLP mechanisms with heteroscedastic noise"),
        _id_family(name="ood_combo_all", graph=StochasticBlock(edges_per_node=[3, 5]),
                   mechanism=Mixture(components=[MLP(), Square(), Periodic()]), noise=StudentT(df=(2.0, 4.0)),
                   interventions=InterventionSpec(kind="shift"),
                   shift=("graph", "density", "mechanism", "noise", "interventions"),
                   description="dense SBM, nonlinear mixtures, heavy tails, soft interventions"),
    ]


for _family in _builtin_families():
    register_family(_family)
