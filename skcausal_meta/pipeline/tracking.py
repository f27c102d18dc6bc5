"""Optional MLflow logging, done by the parent process only: one MLflow run per task.

A task that ran again (a failed one retried by a rerun) replaces its earlier MLflow run, and a
finished task whose run is missing (the process was killed between writing the artifact and
logging it) is logged from its artifact on the next call, so the experiment ends up with one run
per task, its last attempt. Runs are told apart by task and run folder, so several folders (a CPU
and a GPU run of one config, say) may share an experiment.

Each run is named by the task's ``run_id`` and records the task's parameters (model, family,
data set, estimator parameters), its metrics, its status and timings as tags, and the task's
artifact folder. The default store is local: an SQLite database ``{run_dir}/mlflow.db`` with
artifacts under ``{run_dir}/mlartifacts`` (MLflow 3 refuses its plain-file store by default).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from .config import MlflowConfig

__all__ = ["MlflowTracker"]

_MAX_PARAM_CHARS = 500
_TASK_TAG = "skcausal_meta.run_id"
_FOLDER_TAG = "skcausal_meta.run_dir"


class MlflowTracker:
    """Logs tasks to MLflow through an explicit client (no global MLflow state is changed).

    Parameters
    ----------
    config : MlflowConfig
        Tracking URI and experiment name (defaults: the local store, ``default_experiment``).
    run_dir : path-like
        The benchmark's output folder, home of the default local store.
    default_experiment : str
        Experiment name when the config gives none.
    """

    def __init__(self, config: MlflowConfig, run_dir, default_experiment: str):
        from mlflow.tracking import MlflowClient

        run_dir = Path(run_dir).resolve()
        self.run_dir = str(run_dir)  # several run folders may log to one experiment
        self.tracking_uri = config.tracking_uri or f"sqlite:///{run_dir / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        name = config.experiment or default_experiment
        experiment = self.client.get_experiment_by_name(name)
        self.experiment_id = experiment.experiment_id if experiment is not None else self.client.create_experiment(
            name, artifact_location=None if config.tracking_uri else (run_dir / "mlartifacts").as_uri())

    def _runs(self, task_id: str | None = None) -> list:
        """This run folder's MLflow runs (of one task, or all), every page."""
        query = "" if task_id is None else f"tags.`{_TASK_TAG}` = '{task_id}'"
        runs, token = [], None
        while True:
            page = self.client.search_runs([self.experiment_id], query, max_results=1000, page_token=token)
            runs += [run for run in page if run.data.tags.get(_FOLDER_TAG) == self.run_dir]
            token = page.token
            if not token:
                return runs

    def missing(self, tasks) -> list:
        """Those of ``tasks`` that have no MLflow run from this run folder."""
        logged = {run.data.tags.get(_TASK_TAG) for run in self._runs()}
        return [task for task in tasks if task.run_id not in logged]

    def log(self, task, result, folder) -> str:
        """Record one task, replacing the run of an earlier attempt; returns the MLflow run id."""
        from mlflow.entities import Metric, Param, RunTag

        for earlier in self._runs(task.run_id):
            self.client.delete_run(earlier.info.run_id)
        run = self.client.create_run(self.experiment_id, run_name=task.run_id)
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        params = {"model": task.model, "estimator": task.estimator, "family": task.family,
                  "dataset": task.dataset, **{f"param.{k}": v for k, v in task.params.items()}}
        metrics = {**result.metrics, **{f"timing.{k}": v for k, v in result.timings.items()}}
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items() if math.isfinite(v)],
            params=[Param(k, str(v)[:_MAX_PARAM_CHARS]) for k, v in params.items()],
            tags=[RunTag("status", result.status), RunTag(_TASK_TAG, task.run_id), RunTag(_FOLDER_TAG, self.run_dir)],
        )
        self.client.log_artifacts(run_id, str(folder))
        self.client.set_terminated(run_id, "FINISHED" if result.status == "ok" else "FAILED")
        return run_id
