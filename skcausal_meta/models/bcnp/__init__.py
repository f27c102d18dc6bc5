"""BCNP (Dhir et al. 2025): meta-learned posterior over DAGs via permutations and edge logits."""

from .distribution import DAGDistribution
from .estimator import BCNPEstimator
from .model import BCNP

__all__ = ["BCNP", "BCNPEstimator", "DAGDistribution"]
