"""BayesDAG: gradient-based posterior inference over DAGs (Annadani et al. 2023), in PyTorch."""

from .estimator import BayesDAGEstimator

__all__ = ["BayesDAGEstimator"]
