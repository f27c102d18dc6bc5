"""Benchmark runner end to end on a tiny config: artifacts, report, resume, crash handling,
SIGKILL and rerun, corrupted artifacts, the dask backend and MLflow logging."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from skcausal_meta.datasets import list_families
from skcausal_meta.pipeline import load_config, load_results, run_benchmark, write_report
from skcausal_meta.pipeline.artifacts import MANIFEST, iter_artifacts, read_artifact
from skcausal_meta.pipeline.scoring import interventional_nil, metric_caption
from skcausal_meta.pipeline.report import bootstrap_interval
from skcausal_meta.pipeline.tasks import expand_tasks

REPO = Path(__file__).resolve().parents[1]
METRICS = ["e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil", "graph_entropy", "edge_entropy", "time"]
TIMING_COLUMNS = ["time", "timing_fit_s", "timing_posterior_s", "timing_metrics_s"]


def tiny_config(cache, report=False, **runtime):
    """2 families x 2 data sets x DiBS (2 parameter sets): 8 tasks of well under a second.

    Plots and distances (slow on a busy machine) only with ``report=True``."""
    return {
        "name": "tiny",
        "data": {"n_datasets": 2, "n_nodes": 4, "n_samples": 30, "n_interventional": 8, "n_test": 40,
                 "n_test_interventional": 40, "seed": 6, "cache": str(cache)},
        "families": ["id", "ood_mech_mlp"],
        "models": [{"name": "dibs", "params": {"n_particles": 3, "n_steps": 15},
                    "grid": {"edges_per_node": [1.0, 2.0]}}],
        "metrics": METRICS,
        "runtime": {"n_jobs": 1, **runtime},
        "report": {"distance_datasets": 2, "plots": report, "distances": report},
    }


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Results without the wall-clock columns, in a fixed order."""
    return frame.drop(columns=TIMING_COLUMNS).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache):
    """One uninterrupted run (two loky workers) that the other tests compare with."""
    run_dir = tmp_path_factory.mktemp("reference")
    summary = run_benchmark(tiny_config(cache, report=True, n_jobs=2), output_dir=run_dir, progress=False)
    return run_dir, summary


def test_end_to_end_artifacts_results_report_plots(reference):
    run_dir, summary = reference
    assert (summary.n_tasks, summary.n_run, summary.n_failed) == (8, 8, 0)
    folders = sorted((run_dir / "artifacts" / "dibs").iterdir())
    assert len(folders) == 8
    for folder in folders:
        names = {p.name for p in folder.iterdir()}
        assert names == {"config.json", "metrics.json", "timings.json", "environment.json", "posterior.npz", MANIFEST}
        assert json.loads((folder / "environment.json").read_text())["torch_threads"] == 1
    results = pd.read_csv(run_dir / "results.csv")
    assert len(results) == 8 and (results["status"] == "ok").all()
    assert results[METRICS].notna().all().all()
    assert ((results["edge_auroc"] >= 0) & (results["edge_auroc"] <= 1)).all()
    report = (run_dir / "report.md").read_text()
    for metric in METRICS:
        assert f"## {metric_caption(metric)}\n" in report
        assert (run_dir / "plots" / f"{metric}_by_family.png").stat().st_size > 0
        assert (run_dir / "plots" / f"{metric}_vs_distance.png").stat().st_size > 0
        assert (run_dir / "plots" / f"{metric}_heatmap.png").stat().st_size > 0
        assert (run_dir / "plots" / f"{metric}_degradation.png").stat().st_size > 0
    assert "| ood_mech_mlp |" in report and "Distance of each family from `id`" in report
    distances = json.loads((run_dir / "distances.json").read_text())
    assert set(distances["families"]) == {"id", "ood_mech_mlp"}
    sortability = json.loads((run_dir / "sortability.json").read_text())["families"]
    assert set(sortability) == {"id", "ood_mech_mlp"}
    assert all(len(family[name]) == 2 for family in sortability.values() for name in ("varsortability", "r2_sortability"))
    assert "## Sortability of each family" in report and "## Ranks" in report


def test_report_table_is_mean_and_bootstrap_interval_per_grid_point(reference):
    run_dir, _ = reference
    results = pd.read_csv(run_dir / "results.csv")
    variants = ["dibs[edges_per_node=1.0]", "dibs[edges_per_node=2.0]"]
    assert sorted(results["variant"].unique()) == variants
    cells = []
    for variant in variants:
        values = results[(results["family"] == "id") & (results["variant"] == variant)]["e_shd"].to_numpy()
        assert len(values) == 2
        lo, hi = bootstrap_interval(values)
        assert values.min() <= lo <= values.mean() <= hi <= values.max()
        cells.append(f"{values.mean():.3g} [{lo:.3g}, {hi:.3g}]")
    section = (run_dir / "report.md").read_text().split("## e_shd")[1]
    assert f"| family | {' | '.join(variants)} |" in section
    assert f"| id | {' | '.join(cells)} |" in section


def test_report_cli_rebuilds_from_artifacts(reference, tmp_path):
    run_dir, _ = reference
    before = (run_dir / "results.csv").read_text()
    (run_dir / "results.csv").unlink()
    (run_dir / "report.md").unlink()
    proc = subprocess.run([sys.executable, "-m", "skcausal_meta.report", str(run_dir), "--no-plots"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert (run_dir / "results.csv").read_text() == before
    assert (run_dir / "report.md").is_file()
    empty = subprocess.run([sys.executable, "-m", "skcausal_meta.report", str(tmp_path)], capture_output=True,
                           text=True, cwd=REPO)
    assert empty.returncode == 2 and "holds no task artifacts" in empty.stderr


def test_rerun_skips_finished_tasks(reference):
    run_dir, _ = reference
    stamps = {p: p.stat().st_mtime_ns for p in (run_dir / "artifacts").glob("*/*/metrics.json")}
    summary = run_benchmark(tiny_config(run_dir.parent / "unused-cache"), output_dir=run_dir, progress=False)
    assert (summary.n_skipped, summary.n_run) == (8, 0)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert not (run_dir.parent / "unused-cache").exists()  # no data loaded when nothing is pending


def test_corrupted_artifact_is_detected_and_rerun(reference, tmp_path, cache):
    run_dir, _ = reference
    work = tmp_path / "run"
    subprocess.run(["cp", "-r", str(run_dir), str(work)], check=True)
    victim = sorted((work / "artifacts" / "dibs").iterdir())[3]
    original = json.loads((victim / "metrics.json").read_text())
    tampered = {**original, "metrics": {**original["metrics"], "e_shd": 0.0}}
    (victim / "metrics.json").write_text(json.dumps(tampered))
    with pytest.warns(UserWarning, match="corrupt artifact"):
        assert read_artifact(victim) is None
    with pytest.warns(UserWarning, match="corrupt artifact"):
        summary = run_benchmark(tiny_config(cache), output_dir=work, progress=False)
    assert (summary.n_run, summary.n_failed) == (1, 0)
    restored = json.loads((victim / "metrics.json").read_text())["metrics"]
    original["metrics"].pop("time"), restored.pop("time")
    assert restored == original["metrics"]
    assert comparable(load_results(work)).equals(comparable(load_results(run_dir)))


def test_crashing_task_is_recorded_and_the_run_goes_on(tmp_path, cache):
    config = tiny_config(cache)
    # values each valid alone (the config loads), refused together by the fit: thinning 20 keeps
    # no sample of 10 steps
    config["models"] = [{"name": "bayesdag", "params": {"n_chains": 2, "n_steps": 10, "burn_in": 0.5},
                         "grid": {"thinning": [1, 20]}}]
    config["families"] = ["id"]
    summary = run_benchmark(config, output_dir=tmp_path, progress=False)
    assert (summary.n_tasks, summary.n_failed) == (4, 2)
    results = pd.read_csv(tmp_path / "results.csv")
    failed = results[results["status"] == "error"]
    refused = "ValueError: n_steps=10 with burn_in=0.5 leaves fewer than thinning=20 steps"
    assert len(failed) == 2 and failed["error"].str.contains(refused, regex=False).all()
    assert results.loc[results["status"] == "ok", "e_shd"].notna().all()
    report = (tmp_path / "report.md").read_text()
    assert "4 tasks: 2 finished, 2 failed" in report and "## Failed tasks" in report
    folder = next(f for f, r in iter_artifacts(tmp_path) if r["metrics"]["status"] == "error")
    assert "Traceback" in json.loads((folder / "metrics.json").read_text())["error"]
    assert not (folder / "posterior.npz").exists()
    again = run_benchmark(config, output_dir=tmp_path, progress=False)  # failed tasks are retried
    assert (again.n_skipped, again.n_run, again.n_failed) == (2, 2, 2)


def test_a_family_whose_data_cannot_be_made_fails_its_tasks_and_the_run_goes_on(tmp_path, cache):
    config = tiny_config(cache)
    config["models"][0]["grid"] = {"edges_per_node": [1.0]}
    config["report"]["distances"] = True
    # 2 edges per node cannot fit in a DAG of 4 nodes (at most 1.5): found only when the data are drawn
    config["families"] = ["id", {"name": "too_dense", "definition": {"graph": [{"type": "er", "edges_per_node": 2.0}]}}]
    summary = run_benchmark(config, output_dir=tmp_path, progress=False)
    distances = json.loads((tmp_path / "distances.json").read_text())
    assert set(distances["families"]) == {"id"} and set(distances["failed"]) == {"too_dense"}
    assert "No distance for `too_dense`: the data sets of 'too_dense' could not be made" in summary.report["report"].read_text()
    assert (summary.n_tasks, summary.n_failed) == (4, 2)
    results = pd.read_csv(tmp_path / "results.csv")
    failed = results[results["status"] == "error"]
    assert set(failed["family"]) == {"too_dense"}
    assert failed["error"].str.contains("edges_per_node=2.0 is impossible for n_nodes=4").all()
    assert results.loc[results["family"] == "id", "status"].eq("ok").all()
    folder = next(f for f, r in iter_artifacts(tmp_path) if r["metrics"]["status"] == "error")
    error = json.loads((folder / "metrics.json").read_text())["error"]
    assert "the data sets of family 'too_dense' could not be made" in error


def test_inline_families_stay_inside_their_run(tmp_path, cache):
    """A config's inline family is not left in the registry, so another config may reuse the name."""
    config = tiny_config(cache)
    config["models"][0]["grid"] = {"edges_per_node": [1.0]}
    config["data"]["n_datasets"] = 1
    for k, prior in enumerate(["er", "sf"]):
        config["families"] = [{"name": "mine", "definition": {"graph": [{"type": prior, "edges_per_node": 1.0}]}}]
        # the second run finds the first's data under the same name, made by the other definition
        with contextlib.nullcontext() if k == 0 else pytest.warns(UserWarning, match="stale data-set cache"):
            summary = run_benchmark(config, output_dir=tmp_path / str(k), progress=False)
        assert summary.n_failed == 0
        assert "mine" not in list_families()
    graphs = [json.loads(f.joinpath("config.json").read_text())["family_definition"]["graph"][0]["type"]
              for k in "01" for f, _ in iter_artifacts(tmp_path / k)]
    assert graphs == ["er", "sf"]


def test_sigkill_then_rerun_equals_uninterrupted_run(reference, tmp_path, cache):
    run_dir, _ = reference
    config_path = tmp_path / "tiny.yml"
    config_path.write_text(yaml.safe_dump(tiny_config(cache)))
    work = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "skcausal_meta.run", "--config", str(config_path),
                             "--output-dir", str(work), "--no-progress"], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def complete():  # pathlib's "*" also matches the hidden temporary folders, which do not count
        return [p for p in work.glob("artifacts/*/*/manifest.json") if not p.parent.name.startswith(".")]

    deadline = time.monotonic() + 120
    while len(complete()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(complete())
    assert 2 <= finished < 8, "the kill should land partway through the run"
    assert not (work / "results.csv").exists()

    summary = run_benchmark(config_path, output_dir=work, progress=False)
    assert summary.n_skipped >= finished and summary.n_run == 8 - summary.n_skipped
    visible = [p for p in (work / "artifacts" / "dibs").iterdir()]
    assert all(not p.name.startswith(".") for p in visible), "a temporary artifact folder was left behind"
    assert sorted(p.name for p in visible) == sorted(t.run_id for t in expand_tasks(load_config(config_path)))
    assert len(list(iter_artifacts(work))) == 8
    assert comparable(load_results(work)).equals(comparable(load_results(run_dir)))




def test_dask_local_cluster_equals_loky(reference, tmp_path, cache):
    pytest.importorskip("distributed", reason="the dask backend needs the 'dask' extra (dask[distributed])")
    from distributed import LocalCluster

    run_dir, _ = reference
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        summary = run_benchmark(tiny_config(cache, backend="dask", address=cluster.scheduler_address, n_jobs=2),
                                output_dir=tmp_path, progress=False)
    assert (summary.n_run, summary.n_failed) == (8, 0)
    assert comparable(load_results(tmp_path)).equals(comparable(load_results(run_dir)))


def test_mlflow_local_store_one_run_per_task(tmp_path, cache):
    pytest.importorskip("mlflow", reason="MLflow logging needs the 'mlflow' extra")
    from mlflow.tracking import MlflowClient

    config = {**tiny_config(cache), "families": ["id"], "mlflow": {"experiment": "tiny-test"}}
    summary = run_benchmark(config, output_dir=tmp_path, progress=False)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tiny-test")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == summary.n_tasks == 4
    results = load_results(tmp_path).set_index("run_id")
    for run in runs:
        task_id = run.data.tags["skcausal_meta.run_id"]
        assert run.info.run_name == task_id and run.info.status == "FINISHED"
        assert run.data.metrics["e_shd"] == pytest.approx(results.loc[task_id, "e_shd"])
        assert run.data.params["family"] == "id"
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"metrics.json", "posterior.npz", "config.json"} <= artifacts
    rerun = run_benchmark(config, output_dir=tmp_path, progress=False)  # nothing new, nothing logged
    assert rerun.n_run == 0 and len(client.search_runs([experiment.experiment_id])) == 4
    # a kill between writing a task's artifact and logging it: the next call logs it from the artifact
    lost = runs[0]
    client.delete_run(lost.info.run_id)
    run_benchmark(config, output_dir=tmp_path, progress=False)
    again = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["skcausal_meta.run_id"] for r in again) == sorted(results.index)
    back = next(r for r in again if r.data.tags["skcausal_meta.run_id"] == lost.data.tags["skcausal_meta.run_id"])
    assert back.data.metrics == lost.data.metrics and back.data.params == lost.data.params
    assert back.info.status == "FINISHED"
    # another run folder logging the same config to the same experiment keeps its own runs
    shared = {**config, "mlflow": {"experiment": "tiny-test", "tracking_uri": client.tracking_uri}}
    run_benchmark(shared, output_dir=tmp_path / "other", progress=False)
    by_folder = {}
    for run in client.search_runs([experiment.experiment_id]):
        by_folder.setdefault(run.data.tags["skcausal_meta.run_dir"], []).append(run)
    assert sorted(len(runs) for runs in by_folder.values()) == [4, 4]


def test_mlflow_keeps_one_run_per_task_when_failed_tasks_are_retried(tmp_path, cache):
    pytest.importorskip("mlflow", reason="MLflow logging needs the 'mlflow' extra")
    from mlflow.tracking import MlflowClient

    config = {**tiny_config(cache), "mlflow": {"experiment": "retried"}}
    config["models"][0]["grid"] = {"edges_per_node": [1.0]}
    config["families"] = [{"name": "too_dense", "definition": {"graph": [{"type": "er", "edges_per_node": 2.0}]}}]
    for _ in range(2):  # failed tasks run again on the second call
        assert run_benchmark(config, output_dir=tmp_path, progress=False).n_failed == 2
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("retried").experiment_id])
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FAILED"}


def test_interventional_nil_averages_per_target_groups():
    """I-NIL through ``score`` equals the mean of each target group's -score, weighting groups equally."""

    class Scorer:
        def score(self, X, interventions=None):
            return -float(X[:, 0].mean()) - 10 * float(interventions[:, 1].any())

    X = np.array([[1.0, 0], [3.0, 0], [5.0, 0], [10.0, 0]])
    mask = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=bool)
    # group {node 0}: rows 0-2, NIL 3; group {node 1}: row 3, NIL 10 + 10
    assert interventional_nil(Scorer(), X, mask) == pytest.approx((3.0 + 20.0) / 2)


def test_artifacts_of_an_earlier_config_are_left_out(reference, tmp_path):
    run_dir, _ = reference
    subprocess.run(["cp", "-r", str(run_dir / "artifacts"), str(tmp_path / "artifacts")], check=True)
    kept = sorted(p.name for p in (tmp_path / "artifacts" / "dibs").iterdir())[:5]
    (tmp_path / "tasks.json").write_text(json.dumps(kept))
    with pytest.warns(UserWarning, match="3 artifacts .* belong to an earlier config"):
        results = load_results(tmp_path)
    assert sorted(results["run_id"]) == kept


def test_devices_are_assigned_round_robin_unless_fixed(cache):
    from skcausal_meta.pipeline.runner import assign_devices

    config = tiny_config(cache)
    tasks = expand_tasks(load_config(config))
    assigned = assign_devices(tasks, ["cuda:0", "cuda:1", "cpu"])
    assert [t.params["device"] for t in assigned[:4]] == ["cuda:0", "cuda:1", "cpu", "cuda:0"]
    assert [t.run_id for t in assigned] == [t.run_id for t in tasks]  # the device is not part of the result
    config["models"][0]["params"]["device"] = "cpu"
    fixed = assign_devices(expand_tasks(load_config(config)), ["cuda:0", "cuda:1"])
    assert {t.params["device"] for t in fixed} == {"cpu"}


def test_estimator_warnings_are_recorded(reference):
    run_dir, _ = reference
    recorded = [message for path in (run_dir / "artifacts").glob("*/*/metrics.json")
                for message in json.loads(path.read_text())["warnings"]]
    # with these seeds, some DiBS fits end with every particle cyclic, which DiBS warns about
    assert any(m.startswith("RuntimeWarning: DiBS: every particle graph is cyclic") for m in recorded)


def test_write_report_without_distances(reference, tmp_path):
    run_dir, _ = reference
    subprocess.run(["cp", "-r", str(run_dir / "artifacts"), str(tmp_path / "artifacts")], check=True)
    paths = write_report(tmp_path)
    assert "Distance of each family" not in paths["report"].read_text()
    assert {p.name.rsplit("_", 1)[-1] for p in paths["plots"]} == {"family.png", "heatmap.png"}


def sachs_config(**changes):
    """The real family ``sachs`` next to ``id``: 2 splits x (empty graph, tiny DiBS), 8 tasks."""
    config = {
        "name": "tiny-sachs",
        "data": {"n_datasets": 2, "n_nodes": 4, "n_samples": 30, "n_interventional": 8, "n_test": 50,
                 "n_test_interventional": 60, "seed": 5},
        "families": ["id", {"name": "sachs", "n_samples": 60, "n_interventional": 70}],
        "models": [{"name": "empty"}, {"name": "dibs", "params": {"n_particles": 3, "n_steps": 15}}],
        "metrics": ["e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil"],
        "runtime": {"n_jobs": 1},
        "report": {"distance_datasets": 2, "plots": False},
    }
    return {**config, **changes}


def _gaussian_nil(X_train, mask_train, X, mask):
    """NIL of the empty graph, independently: each node an MLE Gaussian fitted on the training rows
    where it is not intervened; intervened nodes' terms dropped; the mean of -log density per row."""
    from scipy.stats import norm

    log_density = np.zeros(len(X))
    for j in range(X.shape[1]):
        rows = X_train[~mask_train[:, j], j]
        log_density += np.where(mask[:, j], 0.0, norm.logpdf(X[:, j], rows.mean(), rows.std()))
    return -log_density.mean()


def test_real_family_sachs_end_to_end(tmp_path):
    from skcausal_meta.datasets import load_sachs
    from skcausal_meta.pipeline.tasks import load_task_data

    config = load_config({**sachs_config(), "data": {**sachs_config()["data"], "cache": str(tmp_path / "cache")}})
    summary = run_benchmark(config, output_dir=tmp_path / "run", progress=False)
    assert (summary.n_tasks, summary.n_failed) == (8, 0)
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    sachs = results[results["family"] == "sachs"]
    assert len(sachs) == 4 and set(sachs["shift"]) == {"real"} and set(sachs["model"]) == {"empty", "dibs"}
    assert np.isfinite(sachs[["e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil"]].to_numpy()).all()
    empty = sachs[sachs["model"] == "empty"].sort_values("dataset")
    assert (empty["e_shd"] == 17).all() and (empty["edge_auroc"] == 0.5).all()  # the 17-edge consensus graph
    # held-out NIL and I-NIL of the empty graph equal an independent Gaussian computation on the split
    data = load_task_data(config, config.families[1], [0, 1])
    for row in empty.itertuples():
        d = data[row.dataset]
        assert d.X.shape == (130, 11) and d.X_test.shape == (50, 11) and d.X_int.shape == (60, 11)
        assert row.nil == pytest.approx(_gaussian_nil(d.X, d.mask, d.X_test, np.zeros_like(d.X_test, dtype=bool)))
        _, group = np.unique(d.mask_int, axis=0, return_inverse=True)
        groups = [group.ravel() == g for g in np.unique(group)]
        assert len(groups) == 6  # Akt, PKC (two reagents), PIP2, Mek, PIP3, PKA
        expected = np.mean([_gaussian_nil(d.X, d.mask, d.X_int[g], d.mask_int[g]) for g in groups])
        assert row.i_nil == pytest.approx(expected)
        assert not d.mask[:60].any() and d.mask[60:].any(axis=1).all()  # observational rows first
        assert (d.mask_int.sum(axis=1) == 1).all()
    # the two data sets are different splits of the same rows
    assert not np.array_equal(data[0].X, data[1].X)
    rows = load_sachs()[0].to_numpy()
    assert all((d.X[:, None, :] == rows[None]).all(-1).any(-1).all() for d in data.values())
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Real data (sachs)" in report
    assert report.split("## e_shd")[1].split("| id |")[1].count("| sachs |") == 1  # real data after id
    distances = json.loads((tmp_path / "run" / "distances.json").read_text())["families"]["sachs"]
    assert all(np.isfinite(v) for k, v in distances.items() if k != "key")


def test_cyclic_consensus_graph_records_sid_as_nan_with_its_reason(tmp_path):
    config = sachs_config(families=[{"name": "sachs", "n_samples": 60, "n_interventional": 70,
                                     "options": {"graph": "18"}}],
                          models=[{"name": "empty"}], metrics=["e_shd", "e_sid"],
                          report={"plots": False, "distances": False})
    config["data"]["n_datasets"] = 1
    summary = run_benchmark(config, output_dir=tmp_path, progress=False)
    assert summary.n_failed == 0
    (folder, record), = list(iter_artifacts(tmp_path))
    assert np.isnan(record["metrics"]["metrics"]["e_sid"]) and record["metrics"]["metric_errors"]["e_sid"]
    assert record["metrics"]["metrics"]["e_shd"] == 18


def test_a_report_names_the_tasks_without_artifacts(reference, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(reference[0], run_dir)
    gone = sorted((run_dir / "artifacts" / "dibs").iterdir())[0]
    shutil.rmtree(gone)
    with pytest.warns(UserWarning, match=rf"1 of the 8 tasks of .* have no artifact .*e\.g\. {gone.name}"):
        frame = load_results(run_dir)
    assert len(frame) == 7
