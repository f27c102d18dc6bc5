"""Amortized (meta-trained) causal discovery: what AVICI and BCNP share.

``inputs`` (data set -> network input), ``stream`` (seeded training data sets, held-out graphs),
``config`` (training settings), ``optim`` (schedules, LAMB), ``loop`` (the training loop),
``checkpoint`` (safetensors + JSON), ``training`` (the one entry point of the CLI and
``meta_fit``) and ``estimator`` (the scikit-learn base class).
"""

from .config import TrainConfig
from .estimator import AmortizedEstimator
from .inputs import make_model_input
from .training import train

__all__ = ["AmortizedEstimator", "TrainConfig", "make_model_input", "train"]
