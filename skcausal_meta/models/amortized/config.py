"""The settings of a meta-training run, validated once."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..._validation import check_positive_int

__all__ = ["TrainConfig"]


@dataclass
class TrainConfig:
    """Hyperparameters of :func:`~skcausal_meta.models.amortized.loop.meta_train` (all JSON-serialisable; saved with every state).

    Parameters
    ----------
    steps : int
        Total number of optimizer steps.
    batch_size : int
        Data sets per step; all share one number of nodes ``d``.
    n_nodes : list of two ints
        Inclusive range of ``d``, drawn uniformly per step.
    n_samples : int or list of two ints
        Observational rows per data set, or an inclusive range ``[low, high]`` drawn uniformly
        per step (so one network meets both small and large data sets).
    n_interventional : int
        Interventional rows appended to each data set in steps that have them.
    p_observational_only : float
        Probability that a step's data sets are purely observational (as in AVICI training, so
        the model works with and without interventions).
    lr, weight_decay : float
        Peak learning rate and weight decay (decoupled in AdamW, part of the update in LAMB).
    optimizer : {"adamw", "lamb"}
        ``torch.optim.AdamW`` or :class:`~skcausal_meta.models.amortized.optim.Lamb` (layer-wise trust ratio, for large batches).
    warmup_steps : int
        Linear warm-up from 0 to ``lr``.
    decay : {"cosine", "inverse_sqrt", "constant"}
        Schedule after the warm-up (cosine decays to ``min_lr_ratio * lr`` at ``steps``).
    min_lr_ratio : float
        Floor of the cosine schedule, as a fraction of ``lr``.
    grad_clip : float
        Maximal global gradient norm.
    seed : int
        Seed of the data stream and of every random draw in training.
    checkpoint_every, eval_every : int
        Steps between training-state checkpoints and between validation AUROC evaluations.
    n_validation_batches : int
        Fixed validation batches (drawn from their own stream with the same seed).
    amp : bool
        bfloat16 autocast on CUDA (ignored on CPU, where training stays float32).
    num_workers : int
        Data-loading worker processes; each data set is a pure function of (seed, step), so
        the stream does not depend on this number.

    Examples
    --------
    >>> from dataclasses import asdict
    >>> from skcausal_meta.models.amortized import TrainConfig
    >>> config = TrainConfig(steps=2000, batch_size=16, optimizer="lamb")
    >>> config.n_nodes, config.lr, config.decay  # the defaults of the other fields
    ([5, 20], 0.0003, 'cosine')
    >>> len(asdict(config))  # every field is saved with each checkpoint
    19
    >>> TrainConfig(n_samples=[100, 1000]).n_samples, TrainConfig(n_samples=[300]).n_samples
    ([100, 1000], 300)
    >>> TrainConfig(n_nodes=[1, 5])
    Traceback (most recent call last):
    ValueError: n_nodes must be [low, high] with 2 <= low <= high, got [1, 5]
    """

    steps: int = 10_000
    batch_size: int = 8
    n_nodes: list = field(default_factory=lambda: [5, 20])
    n_samples: int | list = 200
    n_interventional: int = 50
    p_observational_only: float = 0.5
    lr: float = 3e-4
    weight_decay: float = 1e-2
    optimizer: str = "adamw"
    warmup_steps: int = 500
    decay: str = "cosine"
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 500
    eval_every: int = 250
    n_validation_batches: int = 4
    amp: bool = True
    num_workers: int = 0

    def __post_init__(self):
        self.n_samples = _int_or_range(self.n_samples, "n_samples")
        for name in ("steps", "batch_size", "warmup_steps", "checkpoint_every",
                     "eval_every", "n_validation_batches", "n_interventional", "num_workers", "seed"):
            minimum = 0 if name in ("warmup_steps", "n_interventional", "num_workers", "seed") else 1
            check_positive_int(getattr(self, name), name, minimum=minimum)
        lo_hi = list(self.n_nodes)
        if len(lo_hi) != 2 or not 2 <= lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"n_nodes must be [low, high] with 2 <= low <= high, got {self.n_nodes!r}")
        self.n_nodes = [int(lo_hi[0]), int(lo_hi[1])]
        if self.optimizer not in ("adamw", "lamb"):
            raise ValueError(f"optimizer must be 'adamw' or 'lamb', got {self.optimizer!r}")
        if self.decay not in ("cosine", "inverse_sqrt", "constant"):
            raise ValueError(f"decay must be 'cosine', 'inverse_sqrt' or 'constant', got {self.decay!r}")
        for name in ("p_observational_only", "min_lr_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        for name in ("lr", "grad_clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")


def _int_or_range(value, name: str):
    """``value`` as a positive int, or as ``[low, high]`` with ``1 <= low <= high`` (a one-element
    list is its element)."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = value[0]
        elif len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value) \
                and 1 <= value[0] <= value[1]:
            return [int(value[0]), int(value[1])]
        else:
            raise ValueError(f"{name} must be a positive int or [low, high] with 1 <= low <= high, got {value!r}")
    check_positive_int(value, name)
    return int(value)
