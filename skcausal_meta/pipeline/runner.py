"""Run a benchmark: expand the config into tasks, run the unfinished ones in parallel, report.

The parent process expands the grid, skips tasks whose artifact is complete and intact (resume),
prepares the data of the rest (data-set cache plus held-out rows), and hands them to
``joblib.Parallel`` (``loky`` by default, ``dask`` on a ``distributed`` cluster, or ``ray``).
Workers only compute (:func:`~skcausal_meta.pipeline.evaluate.run_task`) and return results; the
parent writes each task's artifact atomically as soon as its result arrives (in completion order,
or, on a backend that cannot yield results as they finish, such as ray's, one wave of ``n_jobs``
tasks at a time), updates a tqdm bar, and logs to MLflow when asked. A worker the runner started
exits when the runner dies. The runner holds the run folder's lock (:mod:`.lock`) throughout, so
a second runner on the same folder refuses (or waits). Devices are assigned round robin. A task
that raises is recorded with its traceback (and rerun by the next invocation); the run goes on.
``tasks.json`` lists the run ids of the current config, so that the report leaves out artifacts of
an earlier, different config. Finally the family distances, the families' sortabilities
(:mod:`.sortability`) and the report are (re)built.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import traceback
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from joblib import Parallel, delayed, parallel_config
from joblib.parallel import get_active_backend

from .._files import atomic_write_bytes
from .artifacts import TASKS_FILE, clean_partial, read_artifact, task_dir, write_artifact
from .config import Config, load_config
from .distances import compute_distances
from .evaluate import TaskResult, run_task
from .lock import run_lock
from .report import write_report
from .sortability import compute_sortability
from .tasks import expand_tasks, load_task_data

__all__ = ["RunSummary", "run_benchmark", "assign_devices"]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class RunSummary:
    """What a call of :func:`run_benchmark` did.

    Examples
    --------
    >>> import tempfile
    >>> from skcausal_meta.pipeline import run_benchmark
    >>> config = {"name": "tiny", "families": ["id"], "models": [{"name": "empty"}, {"name": "random_dag"}],
    ...           "data": {"n_datasets": 1, "n_nodes": 3, "n_samples": 50, "n_test": 20, "n_test_interventional": 20},
    ...           "metrics": ["e_shd"], "report": {"plots": False, "distances": False}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config["data"]["cache"] = f"{tmp}/cache"
    ...     summary = run_benchmark(config, output_dir=tmp, progress=False)
    ...     written = {name: path.relative_to(tmp).as_posix() for name, path in summary.report.items()
    ...                if name != "plots"}
    >>> summary.n_tasks, summary.n_skipped, summary.n_run, summary.n_failed
    (2, 0, 2, 0)
    >>> written
    {'results': 'results.csv', 'report': 'report.md'}
    """

    run_dir: Path
    n_tasks: int
    n_skipped: int  # already finished
    n_run: int
    n_failed: int  # among those run now
    report: dict  # name -> path of the files written by the report


def _devices(config: Config) -> list[str]:
    if config.runtime.devices != "auto":
        return list(config.runtime.devices)
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] or ["cpu"]


def assign_devices(tasks, devices) -> list:
    """Round robin: task ``i`` gets ``devices[i % len(devices)]`` as its estimator's ``device``,
    unless its parameters fix one or its estimator has no ``device`` parameter."""
    from ..models.registry import get_estimator_class

    out = []
    for i, task in enumerate(tasks):
        if "device" not in task.params and "device" in get_estimator_class(task.estimator)().get_params():
            task = replace(task, params={**task.params, "device": devices[i % len(devices)]})
        out.append(task)
    return out


def _is_finished(task, run_dir) -> bool:
    record = read_artifact(task_dir(run_dir, task.model, task.run_id))
    return record is not None and record["metrics"].get("status") == "ok"


def _artifact_files(task, result) -> dict[str, bytes]:
    dump = lambda obj: json.dumps(obj, indent=1, sort_keys=True, default=str).encode()  # noqa: E731
    files = {
        "config.json": dump(task.resolved()),
        "metrics.json": dump({"status": result.status, "metrics": result.metrics, "metric_errors": result.metric_errors,
                              "warnings": result.warnings, "error": result.error}),
        "timings.json": dump(result.timings),
        "environment.json": dump(result.environment),
    }
    if result.posterior_npz is not None:
        files["posterior.npz"] = result.posterior_npz
    return files


@contextlib.contextmanager
def _backend(config: Config):
    """The joblib backend of the config, with one BLAS thread per worker process."""
    for name in _THREAD_VARIABLES:
        os.environ.setdefault(name, "1")  # inherited by loky workers started from now on
    runtime = config.runtime
    cores = os.cpu_count() or 1
    if runtime.backend == "loky" and runtime.n_jobs > cores:
        warnings.warn(f"runtime.n_jobs={runtime.n_jobs} is more than the {cores} CPU cores of this machine: the "
                      "workers share the cores (no faster) and each holds its own copy of the models and data "
                      f"(hundreds of MB); use n_jobs <= {cores}, or -1 for all cores", stacklevel=3)
    if runtime.backend == "dask":
        from distributed import Client

        with Client(runtime.address) as client, parallel_config("dask", client=client, n_jobs=runtime.n_jobs):
            yield
    elif runtime.backend == "ray":
        from ray.util.joblib import register_ray

        register_ray()
        with parallel_config("ray", n_jobs=runtime.n_jobs):
            yield
    else:
        with parallel_config("loky", n_jobs=runtime.n_jobs, inner_max_num_threads=1):
            yield


def _pending_work(config: Config, tasks):
    """``(task, data)`` pairs in task order, loading each family's data once, and the failed
    results of the tasks of the families whose data sets could not be made (e.g. a graph prior
    too dense for the configured number of nodes), so that the other families still run."""
    by_family = {}
    for task in tasks:
        by_family.setdefault(task.family, set()).add(task.dataset)
    entries = {entry.name: entry for entry in config.families}
    data, failed = {}, {}
    for name, indices in by_family.items():
        try:
            data[name] = load_task_data(config, entries[name], sorted(indices))
        except ValueError:
            failed[name] = f"the data sets of family {name!r} could not be made:\n{traceback.format_exc()}"
    work = [(task, data[task.family][task.dataset]) for task in tasks if task.family in data]
    errors = [TaskResult(task.run_id, "error", error=failed[task.family]) for task in tasks if task.family in failed]
    return work, errors


def _results(work):
    """The results of ``work`` (``(task, data)`` pairs) from the active joblib backend.

    Each comes as soon as it is done where the backend can yield results unordered; other
    backends (ray's) get the tasks in waves of ``n_jobs``, each wave's results in task order, so
    that artifacts are still written as the run goes (a killed run keeps its finished waves).
    """
    from ..models.registry import estimator_target

    calls = [delayed(run_task)(task, data, estimator_target(task.estimator), os.getpid()) for task, data in work]
    backend, n_jobs = get_active_backend()
    if backend.supports_return_generator:
        yield from Parallel(return_as="generator_unordered", batch_size=1)(calls)
        return
    wave = max(1, backend.effective_n_jobs(n_jobs))
    with Parallel(batch_size=1) as parallel:
        for start in range(0, len(calls), wave):
            yield from parallel(calls[start:start + wave])


def run_benchmark(config, output_dir=None, progress: bool = True, wait: bool = False) -> RunSummary:
    """Run (or resume) the benchmark described by ``config`` and write its report.

    Parameters
    ----------
    config : path, YAML string, dict or Config
        The benchmark (validated before any work; see ``skcausal_meta.pipeline.config``).
    output_dir : path-like, default=None
        Overrides the config's ``output_dir``.
    progress : bool, default=True
        Show a tqdm progress bar.
    wait : bool, default=False
        When another runner is working in the run folder, wait for it to finish (and then skip
        what it finished) instead of refusing.

    Returns
    -------
    RunSummary

    Raises
    ------
    RunLockedError
        When another live runner holds the run folder and ``wait`` is False.

    Examples
    --------
    Two cheap baselines on two data sets of the ``id`` family; a second call finds every task
    done and only rebuilds the report:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcausal_meta.pipeline import run_benchmark
    >>> config = {"name": "tiny", "families": ["id"], "models": [{"name": "empty"}, {"name": "correlation"}],
    ...           "data": {"n_datasets": 2, "n_nodes": 3, "n_samples": 50, "n_test": 20, "n_test_interventional": 20},
    ...           "metrics": ["e_shd", "edge_auroc"], "report": {"plots": False, "distances": False}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config["data"]["cache"] = f"{tmp}/cache"  # the data-set cache stays in the folder too
    ...     first = run_benchmark(config, output_dir=tmp, progress=False)
    ...     again = run_benchmark(config, output_dir=tmp, progress=False)
    ...     report = Path(first.report["report"]).read_text()
    >>> (first.n_tasks, first.n_run, first.n_failed), (again.n_skipped, again.n_run)
    ((4, 4, 0), (4, 0))
    >>> print(report[report.index("## edge_auroc"):report.index("## Ranks")])
    ## edge_auroc (higher is better)
    <BLANKLINE>
    | family | correlation | empty |
    |---|---|---|
    | id | 0.719 [0.688, 0.75] | 0.5 [0.5, 0.5] |
    """
    config = load_config(config)
    run_dir = Path(output_dir) if output_dir is not None else config.run_dir
    with run_lock(run_dir, wait=wait):
        return _run_locked(config, run_dir, progress)


def _run_locked(config: Config, run_dir: Path, progress: bool) -> RunSummary:
    """:func:`run_benchmark` once the run folder's lock is held."""
    dumped = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    atomic_write_bytes(run_dir / "config.yaml", dumped.encode())
    clean_partial(run_dir)

    tasks = expand_tasks(config)
    atomic_write_bytes(run_dir / TASKS_FILE, json.dumps(sorted(t.run_id for t in tasks), indent=0).encode())
    pending = [task for task in tasks if not _is_finished(task, run_dir)]
    pending = assign_devices(pending, _devices(config))
    tracker = _tracker(config, run_dir, tasks, pending)
    with _backend(config):
        n_failed = _run_pending(config, run_dir, pending, tracker, progress) if pending else 0
        if config.report.distances:
            compute_distances(config, run_dir)
    compute_sortability(config, run_dir)
    report = write_report(run_dir, plots=config.report.plots,  # drawn on this machine's cores
                          n_jobs=config.runtime.n_jobs if config.runtime.backend == "loky" else 1)
    return RunSummary(run_dir, len(tasks), len(tasks) - len(pending), len(pending), n_failed, report)


def _tracker(config: Config, run_dir: Path, tasks, pending):
    """The MLflow tracker of the run (None without an ``mlflow`` section), after logging the
    finished tasks it misses (a run killed between writing an artifact and logging it)."""
    if config.mlflow is None:
        return None
    from .tracking import MlflowTracker

    tracker = MlflowTracker(config.mlflow, run_dir, default_experiment=config.name)
    pending_ids = {task.run_id for task in pending}
    for task in tracker.missing([t for t in tasks if t.run_id not in pending_ids]):
        folder = task_dir(run_dir, task.model, task.run_id)
        record = read_artifact(folder)
        task = replace(task, params=record["config"]["params"])  # with the device it ran on
        tracker.log(task, TaskResult(task.run_id, record["metrics"]["status"], metrics=record["metrics"]["metrics"],
                                     timings=record["timings"]), folder)
    return tracker


def _run_pending(config: Config, run_dir: Path, pending, tracker, progress: bool) -> int:
    """Run the pending tasks, writing (and logging) each result as it comes; the failures' count."""
    from tqdm.auto import tqdm

    n_failed = 0
    work, data_errors = _pending_work(config, pending)
    by_id = {task.run_id: task for task in pending}
    with tqdm(total=len(pending), desc=config.name, disable=not progress) as bar:
        for result in itertools.chain(data_errors, _results(work)):
            task = by_id[result.run_id]
            folder = task_dir(run_dir, task.model, task.run_id)
            write_artifact(folder, _artifact_files(task, result))
            if tracker is not None:
                tracker.log(task, result, folder)
            n_failed += result.status != "ok"
            bar.set_postfix(failed=n_failed)
            bar.update()
    return n_failed
