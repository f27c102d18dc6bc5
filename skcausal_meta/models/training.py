"""Meta-training loop for amortized causal-discovery models (AVICI, BCNP).

Model contract
--------------
Any ``torch.nn.Module`` that provides the following can be meta-trained by :func:`meta_train`,
saved by :mod:`~skcausal_meta.models.checkpoint_io` and trained from the command line:

``model_name`` : str (class attribute)
    Registry name, e.g. ``"avici"``; checkpoints record it so that loading the wrong model fails.
``config`` : dict
    JSON-serialisable constructor keyword arguments, so ``type(model)(**model.config)``
    rebuilds the architecture (use lists, not tuples).
``loss(x, graphs, generator) -> (loss, stats)``
    ``x`` is a float32 tensor ``[B, n, d, 2]`` (per-data-set z-scored values in channel 0, the
    0/1 intervention flag in channel 1, see :func:`make_model_input`), ``graphs`` a float32
    0/1 tensor ``[B, d, d]`` (``graphs[b, i, j] == 1`` for ``i -> j``), ``generator`` a seeded
    ``torch.Generator`` on the model's device for any sampling inside the loss (Gumbel noise,
    power-iteration starts). Returns a scalar tensor to minimise and a dict of floats to log.
``edge_probs(x) -> [B, d, d]``
    Marginal edge probabilities with a zero diagonal (used for validation AUROC and by the
    estimators).
``after_step(step, stats)`` (optional)
    Called under ``torch.no_grad()`` after every optimizer step with the 0-based step index and
    the stats of that step; AVICI updates its dual variable here. State it changes must live in
    registered buffers so that it is checkpointed with the weights.

Every source of randomness is a pure function of ``(seed, step)``: the training batch of step
``t`` is drawn from ``SeedSequence([seed, 0, t])``, the loss generator and the (forked, restored)
global torch RNG used by dropout are seeded from it, and the learning rate is a function of
``t``. A training state therefore only needs the weights, the optimizer moments and ``t`` to
resume exactly: training ``2k`` steps equals training ``k``, saving, loading and training ``k``
(for the cosine schedule, whose learning rates depend on ``steps``, only with the same ``steps``
throughout, so :func:`meta_train` refuses to extend a cosine run).

The optimizer is AdamW or :class:`Lamb` (``TrainConfig.optimizer``); both keep their moments
in ``optimizer.state``, which the training state stores.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from .._validation import check_adjacency_stack, check_positive_int
from ..datasets import DatasetSpec, SCMFamily, canonical_graph_hash, get_family, make_scm_family
from ..datasets.spec import atomic_write_bytes
from .devices import resolve_device
from .checkpoint_io import (
    IN_MEMORY_SOURCE,
    SOURCE_KEYS,
    checkpoint_file,
    checkpoint_stem,
    list_shipped_checkpoints,
    load_training_state,
    save_model,
    save_training_state,
    source_record_keys,
    training_state_path,
)

__all__ = [
    "TrainConfig",
    "DatasetStream",
    "Lamb",
    "make_optimizer",
    "make_model_input",
    "learning_rate",
    "train_step",
    "validation_auroc",
    "meta_train",
    "held_out_graph_hashes",
    "read_graph_hashes",
    "run_identity",
    "write_graph_hashes",
]

_TRAIN, _VALIDATION = 0, 1
_MAX_ATTEMPTS = 100  # redraws of one batch before the excluded graphs are declared to cover the family
# settings that do not change the trained weights, so a resumed run may change them; ``steps``
# only where the learning-rate schedule does not depend on it (not for "cosine")
_FREE_ON_RESUME = {"steps", "num_workers", "eval_every", "checkpoint_every", "n_validation_batches"}


def make_model_input(X, masks) -> np.ndarray:
    """Stack z-scored data and intervention flags into the ``[..., n, d, 2]`` model input.

    Each data set (the last two axes of ``X``) is standardised per column over its rows, so the
    network sees neither the scale nor the location of a variable (both are shortcuts in
    simulated data, e.g. variance growing along the causal order).

    Parameters
    ----------
    X : array-like of shape (..., n, d)
    masks : array-like of bool, shape (..., n, d), or None

    Returns
    -------
    ndarray of float32, shape (..., n, d, 2)
    """
    X = np.asarray(X, dtype=np.float64)
    flags = np.zeros(X.shape, dtype=bool) if masks is None else np.asarray(masks, dtype=bool)
    if flags.shape != X.shape:
        raise ValueError(f"masks must have the shape of X {X.shape}, got {flags.shape}")
    std = X.std(axis=-2, keepdims=True)
    Z = (X - X.mean(axis=-2, keepdims=True)) / np.where(std > 0, std, 1.0)
    return np.stack([Z, flags], axis=-1).astype(np.float32)


@dataclass
class TrainConfig:
    """Hyperparameters of :func:`meta_train` (all JSON-serialisable; saved with every state).

    Parameters
    ----------
    steps : int
        Total number of optimizer steps.
    batch_size : int
        Data sets per step; all share one number of nodes ``d``.
    n_nodes : list of two ints
        Inclusive range of ``d``, drawn uniformly per step.
    n_samples : int
        Observational rows per data set.
    n_interventional : int
        Interventional rows appended to each data set in steps that have them.
    p_observational_only : float
        Probability that a step's data sets are purely observational (as in AVICI training, so
        the model works with and without interventions).
    lr, weight_decay : float
        Peak learning rate and weight decay (decoupled in AdamW, part of the update in LAMB).
    optimizer : {"adamw", "lamb"}
        ``torch.optim.AdamW`` or :class:`Lamb` (layer-wise trust ratio, for large batches).
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
    """

    steps: int = 10_000
    batch_size: int = 8
    n_nodes: list = field(default_factory=lambda: [5, 20])
    n_samples: int = 200
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
        for name in ("steps", "batch_size", "n_samples", "warmup_steps", "checkpoint_every",
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


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate at (0-based) ``step``: linear warm-up, then the configured decay."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.decay == "constant":
        return config.lr
    if config.decay == "inverse_sqrt":
        return config.lr * math.sqrt(max(config.warmup_steps, 1) / (step + 1))
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.min_lr_ratio
    return config.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class Lamb(torch.optim.Optimizer):
    """LAMB: Adam moments with a layer-wise trust ratio (You et al. 2020, Algorithm 2).

    For every parameter tensor ``w`` (a "layer") with gradient ``g`` at step ``t``::

        m = beta1 m + (1 - beta1) g           v = beta2 v + (1 - beta2) g^2
        r = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay * w
        w = w - lr * (||w|| / ||r||) * r

    The trust ratio ``||w|| / ||r||`` (Euclidean norms over the whole tensor) is replaced by 1
    when either norm is 0 and for tensors with at most one dimension (biases, normalisation gains,
    scalars such as AVICI's logit bias and temperature), which are excluded from layer adaptation
    as in the authors' BERT implementation: for a scalar the ratio would make every step
    ``lr * |w|``, so a parameter could never cross or leave zero. It rescales every weight
    matrix's step to a fixed fraction of its norm (the paper's remedy for unstable large-batch
    training). Weight decay is part of the update, so it is rescaled by the trust ratio too
    (unlike AdamW).

    Parameters
    ----------
    params : iterable of tensors or dicts
        Parameters or parameter groups, as for any ``torch.optim.Optimizer``.
    lr : float, default=1e-3
    betas : tuple of two floats, default=(0.9, 0.999)
        Decay rates of the first and second moments.
    eps : float, default=1e-6
        Added to the root of the second moment (the paper's value).
    weight_decay : float, default=0.0

    Notes
    -----
    The state of each parameter is ``step`` (a float32 CPU scalar tensor, as in Adam),
    ``exp_avg`` and ``exp_avg_sq``, so a state dict saves and restores it exactly.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two floats in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One LAMB update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(w)
                    state["exp_avg_sq"] = torch.zeros_like(w)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(w.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(w.grad, w.grad, value=1 - beta2)
                update = (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + group["eps"])
                update.add_(w, alpha=group["weight_decay"])
                w_norm, u_norm = torch.linalg.vector_norm(w), torch.linalg.vector_norm(update)
                adapt = (w_norm > 0) & (u_norm > 0) & (w.ndim > 1)
                trust = torch.where(adapt, w_norm / u_norm, torch.ones_like(w_norm))
                w.sub_(group["lr"] * trust * update)
        return loss


def make_optimizer(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` with ``config.lr`` and ``config.weight_decay``."""
    if config.optimizer == "lamb":
        return Lamb(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)


class DatasetStream(torch.utils.data.Dataset):
    """Endless, seeded stream of training batches from an SCM family, indexed by step.

    ``stream[t]`` is the batch of step ``t``: a number of nodes ``d`` and whether the step has
    interventional rows are drawn from ``SeedSequence([seed, stream_id, t])``, then
    ``batch_size`` data sets from :func:`skcausal_meta.datasets.make_scm_family`. Data sets whose
    graph hash is in ``exclude_hashes`` (the test graphs, of any sizes) are replaced by data sets
    drawn with the next attempt counter, ``SeedSequence([seed, stream_id, t, attempt])``, with the
    same ``d`` and row counts, so the batch is a pure function of ``(seed, stream_id, t)``
    whatever process draws it (this is what makes multi-worker loading and resuming exact).

    Parameters
    ----------
    family : str or SCMFamily
        Passed to ``make_scm_family``.
    config : TrainConfig
    stream_id : int, default=0
        0 for training, 1 for validation (independent streams with the same seed).
    exclude_hashes : collection of str, default=()
        Canonical hashes of graphs that must never be trained on.
    graph_hash : callable, default=None
        ``graph_hash(adjacency) -> str``; required when ``exclude_hashes`` is not empty.
    """

    def __init__(self, family, config: TrainConfig, stream_id: int = _TRAIN,
                 exclude_hashes=(), graph_hash=None):
        self.family = family
        self.config = config
        self.stream_id = stream_id
        self.exclude_hashes = frozenset(exclude_hashes)
        if self.exclude_hashes and graph_hash is None:
            raise ValueError("graph_hash must be given when exclude_hashes is not empty")
        self.graph_hash = graph_hash

    def __len__(self) -> int:  # a DataLoader needs a length; steps beyond it are still valid
        return self.config.steps

    def _draw(self, step: int, attempt: int):
        """Data sets of ``attempt`` at ``step``; ``d`` and the row counts come from attempt 0."""
        c = self.config

        def rng_of(k):
            return np.random.default_rng(np.random.SeedSequence([c.seed, self.stream_id, step, k]))

        rng = rng_of(0)
        d = int(rng.integers(c.n_nodes[0], c.n_nodes[1] + 1))
        n_int = 0 if rng.random() < c.p_observational_only else c.n_interventional
        if attempt:
            rng = rng_of(attempt)
        return make_scm_family(self.family, n_datasets=c.batch_size, n_nodes=d, n_samples=c.n_samples,
                               n_interventional=n_int, random_state=rng)

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        kept, attempt = [], 0
        while len(kept) < self.config.batch_size:
            if attempt == _MAX_ATTEMPTS:
                raise RuntimeError(f"step {step}: found {len(kept)} of {self.config.batch_size} data sets "
                                   f"outside the {len(self.exclude_hashes)} excluded graph hashes in "
                                   f"{_MAX_ATTEMPTS} attempts; the excluded graphs cover (almost) every "
                                   f"graph of the family at this size")
            X, masks, graphs = self._draw(int(step), attempt)
            kept += [(x, m, g) for x, m, g in zip(X, masks, graphs)
                     if not self.exclude_hashes or self.graph_hash(g) not in self.exclude_hashes]
            attempt += 1
        X, masks, graphs = (np.stack(arrays) for arrays in zip(*kept[: self.config.batch_size]))
        x = make_model_input(X, masks)
        return torch.from_numpy(x), torch.from_numpy(graphs.astype(np.float32))


def held_out_graph_hashes(family, n_nodes, seeds, n_datasets: int, split: str | None = "test") -> list[str]:
    """Canonical hashes of the graphs of held-out data sets, to exclude from meta-training.

    For every ``d`` in ``n_nodes`` and ``seed`` in ``seeds``, the graphs of ``n_datasets`` data
    sets are drawn the way a test set draws them, then hashed with
    :func:`~skcausal_meta.datasets.canonical_graph_hash` (which includes ``d``, so graphs of
    different sizes never share a hash).

    Parameters
    ----------
    family : str
        Registered family of the held-out data sets.
    n_nodes : iterable of int
        Graph sizes ``d`` of the held-out data sets.
    seeds : iterable of int
        Seeds of the held-out sets.
    n_datasets : int
        Data sets per ``(d, seed)``.
    split : {"test", "val", "train"} or None, default="test"
        A split name draws the graphs of ``DatasetSpec(family, split, n_datasets, n_nodes=d,
        seed=seed)`` (the data sets of the benchmark runner); ``None`` draws those of
        ``make_scm_family(family, n_datasets, n_nodes=d, random_state=seed)`` (the held-out
        evaluations in ``docs/training.md``).

    Returns
    -------
    list of str
        Sorted unique hashes.

    Notes
    -----
    A data set's graph depends on the family, split, seed, ``d`` and its index only, not on the
    row counts, so the data sets are drawn with two observational rows (fast).
    """
    n_datasets = check_positive_int(n_datasets, "n_datasets")
    hashes = set()
    for d in n_nodes:
        for seed in seeds:
            if split is None:
                graphs = make_scm_family(family, n_datasets=n_datasets, n_nodes=int(d), n_samples=2,
                                         n_interventional=0, random_state=int(seed))[2]
            else:
                graphs = DatasetSpec(family=family, split=split, n_datasets=n_datasets, n_nodes=int(d),
                                     n_samples=2, n_interventional=0, seed=int(seed)).generate().graphs
            hashes.update(canonical_graph_hash(g) for g in graphs)
    return sorted(hashes)


def write_graph_hashes(path, hashes, header: str = "") -> Path:
    """Write graph hashes one per line (after ``#`` comment lines from ``header``), atomically."""
    path = Path(path)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    atomic_write_bytes(path, (comments + "".join(f"{h}\n" for h in hashes)).encode())
    return path


def read_graph_hashes(paths) -> frozenset:
    """The union of the canonical graph hashes in ``paths`` (files of any graph sizes).

    Each file is either a ``.npy`` stack ``(S, d, d)`` (or one ``(d, d)`` graph) of adjacency
    matrices, hashed here, or a text file of hashes, one per line, as written by
    :func:`write_graph_hashes` (blank lines and ``#`` comments are ignored).

    Raises
    ------
    ValueError
        Naming the file, if an array is not a stack of square matrices or a line is not a hash.
    """
    hashes = set()
    for path in map(Path, paths):
        if path.suffix.lower() == ".npy":
            try:
                graphs = np.load(path, allow_pickle=False)
            except ValueError as error:  # e.g. an object array
                raise ValueError(f"graph file {str(path)!r} is not a numeric .npy array: {error}") from None
            try:
                graphs = check_adjacency_stack(graphs, name="the stack")
            except ValueError as error:
                raise ValueError(f"graph file {str(path)!r} must hold an (S, d, d) stack of adjacency "
                                 f"matrices: {error}") from None
            hashes.update(canonical_graph_hash(g) for g in graphs)
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f"graph-hash file {str(path)!r} is not text; graph stacks must end in .npy") from None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not re.fullmatch(r"[0-9a-f]{16}", line):
                raise ValueError(f"line {number} of graph-hash file {str(path)!r} is not a canonical graph "
                                 f"hash (16 hex digits): {line[:40]!r}")
            hashes.add(line)
    return frozenset(hashes)


def _auroc(probs: np.ndarray, graph: np.ndarray) -> float:
    off = ~np.eye(graph.shape[0], dtype=bool)
    labels = graph[off]
    if labels.min() == labels.max():
        return float("nan")
    return float(roc_auc_score(labels, probs[off]))


@torch.no_grad()
def validation_auroc(model, batches, device) -> float:
    """Mean per-data-set edge AUROC (off-diagonal) of ``model.edge_probs`` on fixed batches.

    Data sets whose graph is empty or complete (AUROC undefined) are skipped.
    """
    was_training = model.training
    model.eval()
    scores = []
    for x, graphs in batches:
        probs = model.edge_probs(x.to(device)).float().cpu().numpy()
        scores += [_auroc(p, g) for p, g in zip(probs, graphs.numpy())]
    model.train(was_training)
    return float(np.nanmean(scores)) if not np.isnan(scores).all() else float("nan")


def _step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, 2, step]).generate_state(1, dtype=np.uint64)[0] >> 1)


def train_step(model, optimizer, x, graphs, step: int, config: TrainConfig, device) -> dict:
    """One optimizer step of :func:`meta_train` on the batch ``(x, graphs)`` of ``step``.

    Sets the learning rate of ``step``, seeds the loss generator and dropout from
    ``(config.seed, step)``, back-propagates (bfloat16 autocast on CUDA if ``config.amp``), clips
    the global gradient norm, steps ``optimizer`` and calls ``model.after_step``. Returns the
    step's statistics (``loss``, ``grad_norm`` and the model's own).
    """
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, config)
    seed = _step_seed(config.seed, step)
    generator = torch.Generator(device=device).manual_seed(seed)
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)  # dropout draws, restored on exit
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda"):
            loss, stats = model.loss(x, graphs, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    if not (torch.isfinite(loss.detach()) and torch.isfinite(grad_norm)):
        raise FloatingPointError(f"meta-training diverged at step {step}: loss {float(loss.detach()):.4g}, "
                                 f"gradient norm {float(grad_norm):.4g}; the weights were not updated")
    optimizer.step()
    stats = {"loss": float(loss.detach()), "grad_norm": float(grad_norm), **stats}
    if hasattr(model, "after_step"):
        with torch.no_grad():
            model.after_step(step, stats)
    return stats


def _excluded_graphs_record(hashes) -> dict:
    """How many graph hashes training excludes, and a SHA-256 of their sorted list (provenance,
    and what a resumed run must match)."""
    joined = "\n".join(sorted(hashes)).encode()
    return {"count": len(hashes), "sha256": hashlib.sha256(joined).hexdigest()}


def _checkpoint_info(out) -> dict:
    """The ``info`` of the model checkpoint ``OUT.json`` a run wrote (empty when there is none)."""
    try:
        info = json.loads(checkpoint_file(checkpoint_stem(out), ".json").read_text())["info"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return info if isinstance(info, dict) else {}


def _absolute_label(label: str) -> str:
    """A source label as :func:`~.checkpoint_io.checkpoint_label` writes it now: checkpoints from
    before 2026-11-26 recorded paths relative to the training command's working directory."""
    if label == IN_MEMORY_SOURCE or label in list_shipped_checkpoints() or os.path.isabs(label):
        return label
    return os.path.abspath(label)


def _family_stream_spec(spec: dict) -> dict:
    """What of a family definition fixes its data stream: all but its name and description, with
    the defaults of the current code filled in (so a definition saved by older code compares
    equal)."""
    try:
        spec = SCMFamily.from_dict(spec).to_dict()
    except (ValueError, TypeError, KeyError):
        pass
    return {k: v for k, v in _json_safe(spec).items() if k not in ("name", "description")}


def run_identity(info: dict) -> str | None:
    """What a training run keeps when it is continued, from a checkpoint's ``info``: a digest of
    its settings (all but those free on resume, with the defaults of options added since filled
    in, as a resume does), its family's stream, its excluded graphs and the checkpoints it started
    from; ``None`` for a checkpoint that does not record them."""
    if not {"train_config", "family_spec"} <= set(info):
        return None
    known = {f.name for f in fields(TrainConfig)}
    settings = {k: v for k, v in info["train_config"].items() if k in known}
    try:
        settings = asdict(TrainConfig(**settings))
    except (TypeError, ValueError):
        pass
    sources = {k: info[k] for key in SOURCE_KEYS for k in source_record_keys(key) if k in info}
    payload = [{k: v for k, v in settings.items() if k not in _FREE_ON_RESUME},
               _family_stream_spec(info["family_spec"]),
               info.get("excluded_graphs") or _excluded_graphs_record(()), sources]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _json_safe(value):
    """``value`` with numpy arrays and scalars turned into lists and Python numbers."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def meta_train(model, family, config: TrainConfig | None = None, out=None, resume: bool = True,
               device="auto", progress: bool = True, log_path=None, exclude_hashes=(),
               graph_hash=None, info: dict | None = None) -> list[dict]:
    """Meta-train an amortized model on an endless seeded stream of data sets from ``family``.

    Parameters
    ----------
    model : torch.nn.Module
        A model following the contract in this module's docstring; trained in place.
    family : str or SCMFamily
        The SCM family to draw training (and validation) data sets from.
    config : TrainConfig, default=None
        Hyperparameters; ``None`` uses the defaults.
    out : path-like, default=None
        Checkpoint stem. Every ``checkpoint_every`` steps and at the end, the training state is
        written to ``OUT.train.safetensors`` and the model to ``OUT.safetensors`` + ``OUT.json``
        (loadable by the estimators' ``checkpoint=``). ``None`` keeps everything in memory.
    resume : bool, default=True
        Continue from ``OUT.train.safetensors`` if it exists. The saved training config must
        match ``config`` except for ``steps``, ``num_workers``, ``eval_every``,
        ``checkpoint_every`` and ``n_validation_batches``, which do not change the weights
        (``steps`` does with the cosine schedule, so there it must match too; and it may not be
        below the state's step, while the state's step itself reruns nothing), the
        family must define the same stream (its name and description may differ), and the
        excluded graphs must be the same set (states from before exclusions were recorded count
        as excluding none).
    device : "auto", str or torch.device, default="auto"
    progress : bool, default=True
        Show a tqdm bar with the running loss and the last validation AUROC.
    log_path : path-like, default=None
        Append one JSON line per evaluation (step, mean loss, validation AUROC, lr, elapsed s).
    exclude_hashes, graph_hash
        Test-graph hashes never to train on, and the hash function (see :class:`DatasetStream`).
    info : dict, default=None
        Extra JSON metadata stored in the exported model checkpoint (e.g. the command line), next
        to the family's full definition (``family_spec``), the steps and the training config. Its
        ``warm_start_from`` and ``encoder_from`` (the checkpoint the first weights came from) are
        kept in the training state: a resumed run records them without being given them again,
        and refuses other ones.

    Returns
    -------
    history : list of dict
        The logged evaluation records of this call.
    """
    config = TrainConfig() if config is None else config
    device = resolve_device(device)
    model.to(device).train()
    optimizer = make_optimizer(model.parameters(), config)
    state_path = None if out is None else training_state_path(out)
    excluded = _excluded_graphs_record(exclude_hashes)
    family_spec = _json_safe(get_family(family).to_dict())
    info = {"family_spec": family_spec, **(info or {})}
    source_keys = tuple(k for key in SOURCE_KEYS for k in source_record_keys(key))
    sources = {k: info[k] for k in source_keys if k in info}
    labels = lambda record: {k: record[k] for k in SOURCE_KEYS if k in record}  # noqa: E731
    settings = {**asdict(config), "excluded_graphs": excluded, "sources": sources, "family_spec": family_spec}
    start = 0
    if state_path is not None and resume and state_path.is_file():
        start, saved = load_training_state(state_path, model, optimizer)
        saved.setdefault("optimizer", "adamw")  # states written before these options existed
        saved.setdefault("excluded_graphs", _excluded_graphs_record(()))
        if "sources" not in saved or "family_spec" not in saved:  # as their run's checkpoint says
            recorded = _checkpoint_info(out)
            saved.setdefault("sources", {k: _absolute_label(recorded[k]) for k in SOURCE_KEYS if k in recorded}
                             if recorded else sources)
            saved.setdefault("family_spec", recorded.get("family_spec", family_spec))
        mismatched = {k for k, v in saved.items()
                      if k not in _FREE_ON_RESUME | {"sources", "family_spec"} and settings.get(k) != v}
        if _family_stream_spec(saved["family_spec"]) != _family_stream_spec(family_spec):
            mismatched.add("family")
        if mismatched:
            raise ValueError(f"training state {str(state_path)!r} was written with other settings "
                             f"for {sorted(mismatched)}; use a new out path or resume=False")
        if config.decay == "cosine" and saved["steps"] != config.steps:
            raise ValueError(
                f"training state {str(state_path)!r} belongs to a cosine schedule over {saved['steps']} "
                f"steps; other steps ({config.steps}) would change its learning rates from step {start} "
                f"on. Finish it with steps={saved['steps']}, or train on from its checkpoint with a new "
                "out path (--init-from / warm_start=True); 'inverse_sqrt' and 'constant' runs can be extended")
        if config.steps < start:
            raise ValueError(f"training state {str(state_path)!r} is at step {start}, beyond steps={config.steps}; "
                             "give at least as many steps (the same number reruns nothing)")
        if sources and labels(sources) != labels(saved["sources"]):
            raise ValueError(f"training state {str(state_path)!r} continues a run that started from "
                             f"{labels(saved['sources']) or 'fresh weights'}, not {labels(sources)}; resume "
                             "without naming another source, or use a new out path or resume=False")
        # the source as it was when the run began (its file may hold other weights by now)
        settings["sources"] = saved["sources"]
        info = {**{k: v for k, v in info.items() if k not in source_keys}, **saved["sources"]}

    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    if out is not None:  # a folder that cannot be made fails now, not at the first checkpoint
        checkpoint_stem(out).parent.mkdir(parents=True, exist_ok=True)
    max_nodes = getattr(model, "config", {}).get("max_nodes")
    if max_nodes is not None and config.n_nodes[1] > max_nodes:
        raise ValueError(f"n_nodes={list(config.n_nodes)} reaches beyond the network's max_nodes={max_nodes}")
    stream = DatasetStream(family, config, _TRAIN, exclude_hashes, graph_hash)
    validation = [DatasetStream(family, config, _VALIDATION, exclude_hashes, graph_hash)[i]
                  for i in range(config.n_validation_batches)]
    loader = torch.utils.data.DataLoader(stream, batch_size=None, sampler=range(start, config.steps),
                                         num_workers=config.num_workers)

    def checkpoint(step):
        if out is None:
            return
        save_training_state(state_path, model, optimizer, step, settings)
        save_model(out, model, {**info, "steps": step, "train_config": asdict(config),
                                "excluded_graphs": excluded})

    history, running, t0, auroc = [], [], time.perf_counter(), float("nan")
    bar = tqdm(total=config.steps, initial=start, disable=not progress, dynamic_ncols=True)
    for step, (x, graphs) in zip(range(start, config.steps), loader):
        stats = train_step(model, optimizer, x.to(device), graphs.to(device), step, config, device)
        running.append(stats["loss"])
        done = step + 1
        if done % config.eval_every == 0 or done == config.steps:
            auroc = validation_auroc(model, validation, device)
            record = {"step": done, "loss": float(np.mean(running)), "val_auroc": auroc,
                      "lr": learning_rate(step, config), "elapsed_s": time.perf_counter() - t0,
                      **{k: v for k, v in stats.items() if k != "loss"}}
            history.append(record)
            running = []
            if log_path is not None:
                with open(log_path, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
        if done % config.checkpoint_every == 0 or done == config.steps:
            checkpoint(done)
        bar.update(1)
        bar.set_postfix(loss=f"{stats['loss']:.4f}", val_auroc=f"{auroc:.3f}")
    bar.close()
    model.eval()
    return history
