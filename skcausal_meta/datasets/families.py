"""The registry of named SCM families, and :func:`make_scm_family`, which turns a family into
stacked data sets.

Families are found by name (or a YAML path) everywhere a config or a
:class:`~skcausal_meta.datasets.DatasetSpec` names one; :func:`register_family` adds one, and the
built-in families (:mod:`skcausal_meta.datasets.builtin_families`) are registered on import.
:class:`SCMFamily` and ``SHIFT_AXES`` are re-exported from :mod:`skcausal_meta.datasets.family`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_positive_int
from .builtin_families import builtin_families
from .family import SHIFT_AXES, SCMFamily

if TYPE_CHECKING:
    from .._typing import PathLike, RandomStateLike
    from .scm import SCMInstance

__all__ = [
    "SCMFamily",
    "SHIFT_AXES",
    "register_family",
    "registered_families",
    "get_family",
    "list_families",
    "make_scm_family",
]

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


def register_family(family: SCMFamily | dict[str, Any] | PathLike, overwrite: bool = False) -> SCMFamily:
    """Add a family (an :class:`SCMFamily`, a dict, or a YAML path/string) to the registry.

    Examples
    --------
    >>> from skcausal_meta import get_family, make_scm_family, register_family
    >>> family = register_family({"name": "linear_er1", "graph": {"type": "er", "edges_per_node": 1.0},
    ...                           "mechanism": "linear", "noise": "gaussian", "n_nodes": 4},
    ...                          overwrite=True)
    >>> get_family("linear_er1") is family
    True
    >>> X, interventions, graphs = make_scm_family("linear_er1", n_datasets=2, n_samples=30,
    ...                                           n_interventional=0, random_state=0)
    >>> X.shape
    (2, 30, 4)
    """
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

    Examples
    --------
    A family given as a dict is found by name inside the block, and gone after it:

    >>> from skcausal_meta.datasets import DatasetSpec, list_families, registered_families
    >>> tiny = {"name": "tiny_linear", "graph": {"type": "er", "edges_per_node": 1.0}, "n_nodes": 3}
    >>> with registered_families(tiny):
    ...     bundle = DatasetSpec(family="tiny_linear", n_datasets=2, n_samples=20, n_interventional=0).generate()
    ...     inside = "tiny_linear" in list_families()
    >>> bundle.X.shape, inside, "tiny_linear" in list_families()
    ((2, 20, 3), True, False)
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


def get_family(name: str | PathLike | SCMFamily) -> SCMFamily:
    """The registered family ``name``, or the one a ``.yml``/``.yaml`` file at the path ``name``
    defines (an :class:`SCMFamily` is returned as is).

    Examples
    --------
    >>> from skcausal_meta import get_family
    >>> family = get_family("ood_noise_laplace")
    >>> family.shift, [noise.kind for noise in family.noise]
    (('noise',), ['laplace'])
    >>> family.sample_instance(random_state=0, n_nodes=4).n_nodes
    4
    """
    if isinstance(name, SCMFamily):
        return name
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    if isinstance(name, (str, os.PathLike)) and str(name).endswith((".yml", ".yaml")) and os.path.isfile(name):
        return SCMFamily.from_yaml(Path(name))
    raise ValueError(f"unknown family {name!r} (nor a .yml/.yaml file); known families: {list_families()}")


def list_families(shift: str | None = None) -> list[str]:
    """Names of the registered families, optionally only those shifted along ``shift``.

    Examples
    --------
    >>> from skcausal_meta import list_families
    >>> list_families()[:3]
    ['id', 'ood_graph_ws', 'ood_graph_sbm']
    >>> list_families(shift="noise")[:4]
    ['ood_noise_laplace', 'ood_noise_student', 'ood_noise_uniform', 'ood_noise_hetero']
    >>> "id" in list_families(shift="none")
    True
    """
    if shift is not None and shift not in SHIFT_AXES + ("none",):
        raise ValueError(f"shift must be one of {SHIFT_AXES + ('none',)}, got {shift!r}")
    return [
        name for name, fam in _REGISTRY.items()
        if shift is None or shift in fam.shift or (shift == "none" and not fam.shift)
    ]


# ---------------------------------------------------------------------- data sets
def make_scm_family(
    family: str | SCMFamily,
    n_datasets: int = 10,
    n_nodes: int | None = None,
    n_samples: int | None = None,
    n_interventional: int | None = None,
    random_state: RandomStateLike = None,
    return_scm: bool = False,
) -> (
    tuple[np.ndarray, np.ndarray, np.ndarray]
    | tuple[np.ndarray, np.ndarray, np.ndarray, list[SCMInstance]]
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

    Examples
    --------
    Two data sets on four nodes from the training domain ``id``, each 50 observational rows
    followed by 10 single-node interventions:

    >>> from skcausal_meta import make_scm_family
    >>> X, interventions, graphs = make_scm_family("id", n_datasets=2, n_nodes=4, n_samples=50,
    ...                                           n_interventional=10, random_state=0)
    >>> X.shape, interventions.shape, graphs.shape
    ((2, 60, 4), (2, 60, 4), (2, 4, 4))
    >>> bool(interventions[:, :50].any()), bool(interventions[:, 50:].any(axis=-1).all())
    (False, True)

    A larger ``n_datasets`` with the same seed only appends data sets, and ``return_scm`` gives
    the SCMs that generated them:

    >>> X3, _, graphs3, scms = make_scm_family("id", n_datasets=3, n_nodes=4, n_samples=50,
    ...                                        n_interventional=10, random_state=0, return_scm=True)
    >>> bool((X3[:2] == X).all()), bool((scms[2].graph == graphs3[2]).all())
    (True, True)
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


for _family in builtin_families():
    register_family(_family)
