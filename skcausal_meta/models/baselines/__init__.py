"""Classical and reference baselines behind the estimator contract.

PC and GES come from causal-learn (the optional extra ``baselines``) as point estimates and as
bootstrap posteriors; the empty graph and random Erdos-Renyi DAGs are the reference rows; the
trivial baselines (|correlation|, |partial correlation|, Var- and R2-SortnRegress) show what a
single statistic or the sortability of simulated data already gives.
"""

from .classical import GESEstimator, PCEstimator
from .cpdag import pdag_from_causallearn, sample_consistent_extension
from .reference import EmptyGraphEstimator, RandomDAGEstimator
from .dependence import CorrelationEstimator, PartialCorrelationEstimator
from .sortnregress import R2SortnRegressEstimator, VarSortnRegressEstimator

__all__ = [
    "PCEstimator",
    "GESEstimator",
    "EmptyGraphEstimator",
    "RandomDAGEstimator",
    "CorrelationEstimator",
    "PartialCorrelationEstimator",
    "VarSortnRegressEstimator",
    "R2SortnRegressEstimator",
    "pdag_from_causallearn",
    "sample_consistent_extension",
]
