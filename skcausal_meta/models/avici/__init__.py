"""AVICI (Lorch et al. 2022): the network and its scikit-learn estimator."""

from .estimator import AviciEstimator, project_to_dag
from .model import AviciModel

__all__ = ["AviciEstimator", "AviciModel", "project_to_dag"]
