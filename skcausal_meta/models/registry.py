"""Estimator registry: short names (as used in benchmark configs) -> estimator classes.

Classes are named by ``"module:Class"`` strings and imported on first use, so that listing or
validating names does not import torch or any model package. Adding an estimator is one entry
in :data:`ESTIMATORS` (or a call to :func:`register_estimator` from user code).
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["ESTIMATORS", "get_estimator_class", "list_estimators", "register_estimator"]

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
    """Registered estimator names, in registration order."""
    return list(ESTIMATORS)


def register_estimator(name: str, target, overwrite: bool = False) -> None:
    """Register an estimator under ``name``.

    Parameters
    ----------
    name : str
        Name used in configs.
    target : str or type
        A ``"module:Class"`` string (imported lazily) or the class itself.
    overwrite : bool, default=False
        Replace an existing entry of the same name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if name in ESTIMATORS and not overwrite:
        raise ValueError(f"an estimator named {name!r} is already registered (pass overwrite=True)")
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"target must be a class or a 'module:Class' string, got {target!r}")
    ESTIMATORS[name] = target


def get_estimator_class(name: str) -> type:
    """The estimator class registered as ``name`` (its module is imported now)."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown model {name!r}; registered models: {list_estimators()}")
    module, _, attribute = ESTIMATORS[name].partition(":")
    return getattr(import_module(module), attribute)
