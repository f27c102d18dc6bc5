"""skcausal_meta: Bayesian and amortized causal discovery under distribution shift.

Public names only. Estimators (which need torch) are imported lazily, on first access, so that
``import skcausal_meta`` and the data/metric modules stay light.
"""

from importlib import import_module

from . import metrics
from .datasets import (
    SCMFamily,
    SCMInstance,
    get_family,
    list_families,
    load_sachs,
    make_scm_family,
    register_family,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first attribute access)
_LAZY = {
    "GraphPosterior": "skcausal_meta.models.posterior",
    "BaseCausalEstimator": "skcausal_meta.models.base",
    "AviciEstimator": "skcausal_meta.models.avici",
    "BCNPEstimator": "skcausal_meta.models.bcnp",
    "DibsEstimator": "skcausal_meta.models.dibs",
    "BayesDAGEstimator": "skcausal_meta.models.bayesdag",
    "PCEstimator": "skcausal_meta.models.baselines",
    "GESEstimator": "skcausal_meta.models.baselines",
    "EmptyGraphEstimator": "skcausal_meta.models.baselines",
    "RandomDAGEstimator": "skcausal_meta.models.baselines",
}

__all__ = [
    "SCMFamily",
    "SCMInstance",
    "get_family",
    "list_families",
    "make_scm_family",
    "register_family",
    "load_sachs",
    "metrics",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skcausal_meta' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
