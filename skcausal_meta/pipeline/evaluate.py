"""What a worker does with one task: fit the estimator, read its posterior, compute the metrics.

This is the only part of the pipeline that runs in worker processes. It returns a
:class:`TaskResult` and writes nothing: the parent process owns the artifacts and the logging.
Heavy libraries (torch, the model packages) are imported here, inside the functions.
"""

from __future__ import annotations

import os
import platform
import tempfile
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import numpy as np


from .scoring import METRICS

if TYPE_CHECKING:
    from .tasks import Task, TaskData

__all__ = ["TaskResult", "run_task", "exit_with_parent"]


@dataclass
class _Context:
    """Everything a metric may look at."""

    truth: np.ndarray
    posterior: object
    estimator: object
    data: TaskData
    inference_s: float


@dataclass
class TaskResult:
    """What a worker sends back: metrics, timings, the posterior as ``.npz`` bytes, the error."""

    run_id: str
    status: str  # "ok" or "error"
    metrics: dict = field(default_factory=dict)
    metric_errors: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    posterior_npz: bytes | None = None
    error: str | None = None
    warnings: list = field(default_factory=list)  # distinct warnings raised by fit and posterior


def _environment(device) -> dict:
    import torch

    from ..models.devices import resolve_device

    packages = {}
    for name in ("skcausal-meta", "numpy", "scipy", "scikit-learn", "torch"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": platform.node(),
        "pid": os.getpid(),
        "device": None if device is None else str(resolve_device(device)),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "packages": packages,
    }


@contextmanager
def _one_thread():
    """One BLAS/OpenMP and one torch thread for the task (restored afterwards).

    Several threads per worker on a few cores thrash in the many small linear solves of the
    estimators and the plug-in likelihoods; the libraries must be loaded before the limit.
    """
    import scipy.linalg  # noqa: F401  (loads scipy's bundled BLAS so that the limit reaches it)
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)


def _posterior_bytes(posterior) -> bytes:
    """The posterior as written by ``GraphPosterior.save`` (an ``.npz`` archive)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "posterior.npz")
        posterior.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def _compute_metrics(names, context: _Context):
    values, errors = {}, {}
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined metrics return nan with a warning
            try:
                values[name] = float(METRICS[name].compute(context))
            except Exception as exc:  # one failing metric must not lose the others
                values[name] = float("nan")
                errors[name] = f"{type(exc).__name__}: {exc}"
    return values, errors


_WATCHED: list[int] = []  # the parent pid this process watches, once started


def exit_with_parent(parent_pid: int | None) -> None:
    """End this process as soon as its parent ``parent_pid`` is gone.

    Called in a worker process started by the runner (``parent_pid`` the runner's pid): a daemon
    thread polls the parent pid twice a second and exits when the process is re-parented, so
    that killing the runner, even with ``kill -9``, does not leave workers computing (and holding
    their memory) for nobody. Does nothing in a process that is not the runner's child (the
    runner itself with ``n_jobs=1``, a dask or ray worker) or that already watches.
    """
    if parent_pid is None or os.getppid() != parent_pid or _WATCHED:
        return
    _WATCHED.append(parent_pid)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def run_task(task: Task, data: TaskData, target: str | None = None, parent_pid: int | None = None) -> TaskResult:
    """Fit ``task``'s estimator on ``data`` and evaluate it; never raises on estimator errors.

    An exception in the estimator is caught and returned as a result with ``status="error"``
    and its traceback, so that one crashing task does not stop a benchmark.

    Parameters
    ----------
    task : Task
    data : TaskData
    target : str, default=None
        The estimator's ``"module:Class"`` (the runner passes it, so that estimators registered
        in the parent process only work in workers); ``None`` looks ``task.estimator`` up in
        this process's registry.
    parent_pid : int, default=None
        The runner's pid: a worker it started exits when it dies (:func:`exit_with_parent`).
    """
    from ..models.registry import get_estimator_class, import_estimator

    exit_with_parent(parent_pid)
    try:
        estimator_class = import_estimator(target) if target is not None else get_estimator_class(task.estimator)
        estimator = estimator_class(**task.params)
        with _one_thread(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            estimator.fit(data.X, interventions=data.mask)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            posterior = estimator.predict_graph_posterior()
            posterior_s = time.perf_counter() - start
            raised = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
            start = time.perf_counter()
            context = _Context(data.graph, posterior, estimator, data, fit_s + posterior_s)
            values, errors = _compute_metrics(task.metrics, context)
            timings = {"fit_s": fit_s, "posterior_s": posterior_s, "metrics_s": time.perf_counter() - start}
            environment = _environment(estimator.get_params().get("device"))
        return TaskResult(task.run_id, "ok", values, errors, timings, environment, _posterior_bytes(posterior),
                          warnings=raised)
    except Exception:
        return TaskResult(task.run_id, "error", error=traceback.format_exc(), environment=_environment(None))
