"""The meta-training loop: short steps, resumable, every random draw a function of (seed, step).

Network contract
----------------
Any ``torch.nn.Module`` with a class attribute ``model_name``, a JSON-serialisable ``config`` (its
constructor keyword arguments), ``loss(x, graphs, generator) -> (loss, stats)`` on inputs
``[B, n, d, 2]`` (:func:`~.inputs.make_model_input`) and 0/1 graphs ``[B, d, d]``,
``edge_probs(x) -> [B, d, d]`` and optionally ``after_step(step, stats)`` (state it changes lives in
buffers) can be meta-trained here and saved by :mod:`.checkpoint`.

The batch of step ``t`` is drawn from ``SeedSequence([seed, 0, t])``; the loss generator and
dropout are seeded from ``(seed, t)``; the learning rate is a function of ``t``. A training state
therefore needs only the weights, the optimizer moments and ``t`` to resume exactly: training
``2k`` steps equals training ``k``, saving, loading and training ``k`` (for the cosine schedule,
whose rates depend on ``steps``, only with the same ``steps``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from ...datasets import get_family
from ..devices import resolve_device
from .checkpoint import checkpoint_stem, save_model
from .training_state import load_training_state, save_training_state, training_state_path
from .config import TrainConfig
from .optim import learning_rate, make_optimizer
from .stream import TRAIN, VALIDATION, DatasetStream

__all__ = ["meta_train", "train_step", "validation_auroc"]

# settings that do not change the trained weights, so a resumed run may change them
_FREE_ON_RESUME = {"steps", "num_workers", "eval_every", "checkpoint_every", "n_validation_batches"}


def _auroc(probs: np.ndarray, graph: np.ndarray) -> float:
    off = ~np.eye(graph.shape[0], dtype=bool)
    labels = graph[off]
    return float("nan") if labels.min() == labels.max() else float(roc_auc_score(labels, probs[off]))


@torch.no_grad()
def validation_auroc(model, batches, device) -> float:
    """Mean per-data-set edge AUROC of ``model.edge_probs`` on fixed batches (data sets whose graph
    is empty or complete are skipped)."""
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
    """One optimizer step on the batch of ``step``: its learning rate, seeded loss generator and
    dropout, bfloat16 autocast on CUDA if ``config.amp``, clipped gradients, ``model.after_step``.
    Returns the step's statistics (``loss``, ``grad_norm`` and the model's own)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, config)
    seed = _step_seed(config.seed, step)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
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


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def _settings(config: TrainConfig, family_spec: dict, exclude_hashes) -> dict:
    """What a training state records of its run and a resumed run must match."""
    joined = "\n".join(sorted(exclude_hashes)).encode()
    excluded = {"count": len(exclude_hashes), "sha256": hashlib.sha256(joined).hexdigest()}
    stream = {k: v for k, v in family_spec.items() if k not in ("name", "description")}
    return {**asdict(config), "excluded_graphs": excluded, "family_stream": stream}


def _resume(state_path: Path, model, optimizer, config: TrainConfig, settings: dict) -> int:
    """Restore a training state and return its step, after checking it belongs to this run."""
    start, saved = load_training_state(state_path, model, optimizer)
    mismatched = sorted(k for k in set(saved) | set(settings)
                        if k not in _FREE_ON_RESUME and saved.get(k) != settings.get(k))
    if mismatched:
        raise ValueError(f"training state {str(state_path)!r} was written with other settings for {mismatched}; "
                         "use a new out path or resume=False")
    if config.decay == "cosine" and saved["steps"] != config.steps:
        raise ValueError(f"training state {str(state_path)!r} belongs to a cosine schedule over {saved['steps']} "
                         f"steps; other steps ({config.steps}) would change its learning rates from step {start} on. "
                         f"Finish it with steps={saved['steps']}, or train on from its checkpoint with a new out "
                         "path (init_from); 'inverse_sqrt' and 'constant' runs can be extended")
    if config.steps < start:
        raise ValueError(f"training state {str(state_path)!r} is at step {start}, beyond steps={config.steps}; "
                         "give at least as many steps (the same number reruns nothing)")
    return start


def _check_before_training(model, config: TrainConfig, out, log_path) -> None:
    """Fail now, not at the first checkpoint: unwritable folders, nodes beyond the network's support."""
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    if out is not None:
        checkpoint_stem(out).parent.mkdir(parents=True, exist_ok=True)
    max_nodes = getattr(model, "config", {}).get("max_nodes")
    if max_nodes is not None and config.n_nodes[1] > max_nodes:
        raise ValueError(f"n_nodes={list(config.n_nodes)} reaches beyond the network's max_nodes={max_nodes}")


def _due(step: int, every: int, steps: int) -> bool:
    """Whether the 0-based ``step`` ends a period of ``every`` steps or the run."""
    return (step + 1) % every == 0 or step + 1 == steps


def _log(log_path, record: dict) -> None:
    if log_path is not None:
        with open(log_path, "a") as fh:
            fh.write(json.dumps(record) + "\n")


def meta_train(model, family, config: TrainConfig | None = None, out=None, resume: bool = True,
               device="auto", progress: bool = True, log_path=None, exclude_hashes=(),
               info: dict | None = None) -> list[dict]:
    """Meta-train ``model`` in place on an endless seeded stream of data sets from ``family``.

    Parameters
    ----------
    model : torch.nn.Module
        A network following the contract of this module's docstring.
    family : str or SCMFamily
        The SCM family of the training (and validation) data sets.
    config : TrainConfig, default=None
        Settings; ``None`` uses the defaults.
    out : path-like, default=None
        Checkpoint stem: every ``checkpoint_every`` steps and at the end the training state
        ``OUT.train.safetensors`` and the checkpoint ``OUT.safetensors`` + ``OUT.json`` are
        written. ``None`` keeps everything in memory.
    resume : bool, default=True
        Continue from ``OUT.train.safetensors`` if it exists; its settings must match ``config``
        except ``steps`` (not for the cosine schedule), ``num_workers``, ``eval_every``,
        ``checkpoint_every`` and ``n_validation_batches``, and the family's stream and the
        excluded graphs must be the same.
    device : "auto", str or torch.device, default="auto"
    progress : bool, default=True
        A tqdm bar with the running loss and the last validation AUROC.
    log_path : path-like, default=None
        Append one JSON line per evaluation (step, mean loss, validation AUROC, lr, elapsed s).
    exclude_hashes : collection of str, default=()
        Canonical hashes of test graphs never to train on.
    info : dict, default=None
        Extra JSON metadata for the checkpoint (the command, ``init_from``), stored next to the
        family's definition, the steps and the settings.

    Returns
    -------
    list of dict
        The evaluation records of this call.

    Examples
    --------
    Two steps, then two more that resume from the training state the first call wrote:

    >>> import tempfile
    >>> import torch
    >>> from skcausal_meta.models.amortized import TrainConfig
    >>> from skcausal_meta.models.amortized.loop import meta_train
    >>> from skcausal_meta.models.avici.model import AviciModel
    >>> _ = torch.manual_seed(0)
    >>> model = AviciModel(dim=16, n_layers=1, n_heads=2)
    >>> tiny = dict(batch_size=2, n_nodes=[3, 3], n_samples=20, warmup_steps=1, decay="constant", eval_every=2,
    ...             n_validation_batches=1, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = meta_train(model, "id", TrainConfig(steps=2, **tiny), out=f"{tmp}/run", device="cpu",
    ...                        progress=False)
    ...     rest = meta_train(model, "id", TrainConfig(steps=4, **tiny), out=f"{tmp}/run", device="cpu",
    ...                       progress=False)
    >>> [record["step"] for record in first], [record["step"] for record in rest], model.training
    ([2], [4], False)
    """
    config = TrainConfig() if config is None else config
    device = resolve_device(device)
    model.to(device).train()
    optimizer = make_optimizer(model.parameters(), config)
    family_spec = _json_safe(get_family(family).to_dict())
    settings = _settings(config, family_spec, exclude_hashes)
    info = {"family_spec": family_spec, **(info or {}), "train_config": asdict(config),
            "excluded_graphs": settings["excluded_graphs"]}
    state_path = None if out is None else training_state_path(out)
    resuming = state_path is not None and resume and state_path.is_file()
    start = _resume(state_path, model, optimizer, config, settings) if resuming else 0
    _check_before_training(model, config, out, log_path)
    stream = DatasetStream(family, config, TRAIN, exclude_hashes)
    validation = [DatasetStream(family, config, VALIDATION, exclude_hashes)[i]
                  for i in range(config.n_validation_batches)]
    loader = torch.utils.data.DataLoader(stream, batch_size=None, sampler=range(start, config.steps),
                                         num_workers=config.num_workers)
    history, running, t0, auroc = [], [], time.perf_counter(), float("nan")
    bar = tqdm(total=config.steps, initial=start, disable=not progress, dynamic_ncols=True)
    for step, (x, graphs) in zip(range(start, config.steps), loader):
        stats = train_step(model, optimizer, x.to(device), graphs.to(device), step, config, device)
        running.append(stats["loss"])
        if _due(step, config.eval_every, config.steps):
            auroc = validation_auroc(model, validation, device)
            history.append({"step": step + 1, "loss": float(np.mean(running)), "val_auroc": auroc,
                            "lr": learning_rate(step, config), "elapsed_s": time.perf_counter() - t0,
                            **{k: v for k, v in stats.items() if k != "loss"}})
            _log(log_path, history[-1])
            running = []
        if out is not None and _due(step, config.checkpoint_every, config.steps):
            save_training_state(state_path, model, optimizer, step + 1, settings)
            save_model(out, model, {**info, "steps": step + 1})
        bar.update(1)
        bar.set_postfix(loss=f"{stats['loss']:.4f}", val_auroc=f"{auroc:.3f}")
    bar.close()
    model.eval()
    return history
