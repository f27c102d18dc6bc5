"""DiBS: differentiable Bayesian structure learning (Lorch et al. 2021), in PyTorch."""

from .estimator import DibsEstimator
from .presets import PRESETS

__all__ = ["DibsEstimator", "PRESETS"]
