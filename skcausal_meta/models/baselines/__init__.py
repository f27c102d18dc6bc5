"""Classical and reference baselines behind the estimator contract.

PC and GES come from causal-learn (the optional extra ``baselines``) as point estimates and as
bootstrap posteriors; the empty graph and random Erdos-Renyi DAGs are the reference rows.
"""

from .classical import GESEstimator, PCEstimator
from .cpdag import pdag_from_causallearn, sample_consistent_extension
from .reference import EmptyGraphEstimator, RandomDAGEstimator

__all__ = [
    "PCEstimator",
    "GESEstimator",
    "EmptyGraphEstimator",
    "RandomDAGEstimator",
    "pdag_from_causallearn",
    "sample_consistent_extension",
]
