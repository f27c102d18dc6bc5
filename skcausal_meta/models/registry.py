"""Estimator registry: short names (as used in benchmark configs) -> estimator classes.

Classes are named by ``"module:Class"`` strings and imported on first use, so that listing or
validating names does not import torch or any model package. Adding an estimator is one entry
in :data:`ESTIMATORS` (or a call to :func:`register_estimator` from user code). A registration
lives in the process that made it; the benchmark runner hands the ``"module:Class"`` string
(:func:`estimator_target`) to its worker processes, which import it with
:func:`import_estimator`, so the class's module must be importable there too.
"""

from __future__ import annotations

import os
from importlib import import_module

__all__ = ["ESTIMATORS", "estimator_target", "get_estimator_class", "import_estimator", "list_estimators",
           "register_estimator"]

# name -> "module:Class"; one line per estimator
ESTIMATORS: dict[str, str] = {
    "dibs": "skcausal_meta.models.dibs:DibsEstimator",
    "avici": "skcausal_meta.models.avici:AviciEstimator",
    "bcnp": "skcausal_meta.models.bcnp:BCNPEstimator",
    "bayesdag": "skcausal_meta.models.bayesdag:BayesDAGEstimator",
    "pc": "skcausal_meta.models.baselines:PCEstimator",
    "ges": "skcausal_meta.models.baselines:GESEstimator",
    "empty": "skcausal_meta.models.baselines:EmptyGraphEstimator",
    "random_dag": "skcausal_meta.models.baselines:RandomDAGEstimator",
    "correlation": "skcausal_meta.models.baselines:CorrelationEstimator",
    "partial_correlation": "skcausal_meta.models.baselines:PartialCorrelationEstimator",
    "var_sortnregress": "skcausal_meta.models.baselines:VarSortnRegressEstimator",
    "r2_sortnregress": "skcausal_meta.models.baselines:R2SortnRegressEstimator",
}


def list_estimators() -> list[str]:
    """Registered estimator names, in registration order.

    These are the names a benchmark config's ``models`` entries may use.

    Examples
    --------
    >>> from skcausal_meta.models.registry import list_estimators
    >>> list_estimators()
    ['dibs', 'avici', 'bcnp', 'bayesdag', 'pc', 'ges', 'empty', 'random_dag', 'correlation',
     'partial_correlation', 'var_sortnregress', 'r2_sortnregress']
    """
    return list(ESTIMATORS)


def register_estimator(name: str, target, overwrite: bool = False) -> None:
    """Register an estimator under ``name``.

    Parameters
    ----------
    name : str
        Name used in configs.
    target : str or type
        A ``"module:Class"`` string (imported lazily) or the class itself; either way a class
        that can be imported by name (defined at the top level of a module, not inside a
        function), so that worker processes can import it.
    overwrite : bool, default=False
        Replace an existing entry of the same name.

    Examples
    --------
    >>> from skcausal_meta.models.baselines import CorrelationEstimator
    >>> from skcausal_meta.models.registry import ESTIMATORS, get_estimator_class, list_estimators, register_estimator
    >>> register_estimator("my_correlation", CorrelationEstimator)  # a benchmark config may now name it
    >>> list_estimators()[-1], get_estimator_class("my_correlation").__name__
    ('my_correlation', 'CorrelationEstimator')
    >>> register_estimator("my_correlation", "skcausal_meta.models.baselines:EmptyGraphEstimator")
    Traceback (most recent call last):
    ValueError: an estimator named 'my_correlation' is already registered (pass overwrite=True)
    >>> del ESTIMATORS["my_correlation"]  # a registration lasts as long as its process
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if name in ESTIMATORS and not overwrite:
        raise ValueError(f"an estimator named {name!r} is already registered (pass overwrite=True)")
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"target must be a class or a 'module:Class' string, got {target!r}")
    if "<locals>" in target:
        raise ValueError(f"target {target!r} is defined inside a function, so no other process can import it by "
                         "name; define the class at the top level of a module")
    ESTIMATORS[name] = target


def estimator_target(name: str) -> str:
    """The ``"module:Class"`` string registered as ``name``."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown model {name!r}; registered models: {list_estimators()}")
    return ESTIMATORS[name]


def import_estimator(target: str) -> type:
    """The class named by a ``"module:Class"`` string.

    Raises
    ------
    ImportError
        Naming the target and the process, and saying how to make it importable.
    """
    module, _, attribute = target.partition(":")
    try:
        owner = import_module(module)
        for part in attribute.split("."):
            owner = getattr(owner, part)
    except (ImportError, AttributeError) as exc:
        raise ImportError(
            f"estimator {target!r} cannot be imported in process {os.getpid()} ({type(exc).__name__}: {exc}); "
            "its module must be importable in every process that fits it: install it, or put its folder on "
            "PYTHONPATH (benchmark workers start from the runner's sys.path), or run with n_jobs=1") from exc
    return owner


def get_estimator_class(name: str) -> type:
    """The estimator class registered as ``name`` (its module is imported now).

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.models.registry import get_estimator_class
    >>> cls = get_estimator_class("var_sortnregress")
    >>> cls.__name__, sorted(cls().get_params())  # what a config's params and grid may set
    ('VarSortnRegressEstimator', ['device', 'random_state', 'standardize'])
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=300); x1 = 2 * x0 + rng.normal(size=300)
    >>> cls(random_state=0).fit(np.column_stack([x0, x1])).graph_.directed_edges()
    [('x0', 'x1')]
    """
    return import_estimator(estimator_target(name))
