"""Robustness: hostile and damaged files, two runners on one folder, killed runners, and the clear
error or warning of every bad input in :data:`BAD_INPUTS` (issue 24).

The runner tests use a tiny config (4 nodes, a few short DiBS fits); the fuzz test runs the
config and JSON loaders in a child process whose time and peak memory it bounds.
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta._validation import read_json
from skcausal_meta.datasets import DatasetSpec
from skcausal_meta.metrics import edge_auroc
from skcausal_meta.models.base import BaseCausalEstimator
from skcausal_meta.models.baselines import EmptyGraphEstimator, PCEstimator
from skcausal_meta.models.bayesdag import BayesDAGEstimator
from skcausal_meta.models.dibs import DibsEstimator
from skcausal_meta.models.posterior import GraphPosterior
from skcausal_meta.models.registry import ESTIMATORS, register_estimator
from skcausal_meta.pipeline import ConfigError, RunLockedError, load_config, load_results, run_benchmark, write_report
from skcausal_meta.pipeline.artifacts import read_artifact, write_artifact
from skcausal_meta.pipeline.distances import DISTANCES_FILE, compute_distances
from skcausal_meta.pipeline.lock import LOCK_FILE
from skcausal_meta.run import main as run_main

REPO = Path(__file__).resolve().parents[1]
X = np.random.default_rng(0).normal(size=(40, 4))


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: ``levels`` lists of 9 aliases of the previous one (9**levels strings)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def tiny_config(cache, model=None, n_datasets=2, **runtime) -> dict:
    return {
        "name": "tiny", "data": {"n_datasets": n_datasets, "n_nodes": 4, "n_samples": 30, "n_interventional": 0,
                                 "n_test": 20, "n_test_interventional": 20, "seed": 3, "cache": str(cache)},
        "families": ["id"], "models": [model or {"name": "empty"}], "metrics": ["e_shd", "nil"],
        "runtime": {"n_jobs": 1, **runtime}, "report": {"plots": False, "distances": False},
    }


class _IgnoresSeed(BaseCausalEstimator):
    """A model whose fit draws nothing, so only the base class can refuse a bad random_state."""

    def __init__(self, standardize=True, device="auto", random_state=None):
        self.standardize, self.device, self.random_state = standardize, device, random_state

    def _fit(self, X, mask):
        self.d_ = X.shape[1]

    def _posterior(self, n_graphs, rng):
        return GraphPosterior(np.zeros((1, self.d_, self.d_), dtype=np.int8))


def _deep_json_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def _non_npz(tmp_path):
    path = tmp_path / "posterior.npz"
    path.write_bytes(b"this is not an npz archive\n" * 4)
    return path


def _d50_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # stop the 67-minute fit at its warning
        DibsEstimator(random_state=0).fit(np.random.default_rng(1).normal(size=(60, 50)))


def _n_jobs_above_cores(tmp_path):
    config = tiny_config(tmp_path / "cache", n_jobs=(os.cpu_count() or 1) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # stop the run at its warning, before any worker starts
        run_benchmark(config, output_dir=tmp_path / "run", progress=False)


def _huge_row_score(estimator):
    bad = X.copy()
    bad[0, 0] = 1e300
    estimator.fit(X).score(bad)


# (case, call(tmp_path), expected exception or warning class, regex its message must match);
# the ids name the item
BAD_INPUTS = [
    ("1-yaml-alias-bomb", lambda p: load_config(billion_laughs()), ConfigError, r"aliases \(\*a0\) are not allowed"),
    ("1-alias-bomb-in-params", lambda p: load_config(
        billion_laughs() + "name: x\nfamilies: [id]\nmodels: [{name: dibs, params: {hidden_layers: *a8}}]\n"),
     ConfigError, r"aliases \(\*a0\) are not allowed"),
    ("1-yaml-100k-deep", lambda p: load_config("x: " + "[" * 100_000 + "]" * 100_000 + "\ny: 1\n"), ConfigError,
     r"nests deeper than 64 levels"),
    ("5-json-100k-deep", lambda p: read_json(_deep_json_file(p)), ValueError, r"deep.json' nests 100000 levels deep"),
    ("8-score-1e300-dibs", lambda p: _huge_row_score(DibsEstimator(n_particles=2, n_steps=3, random_state=0)),
     ValueError, r"X\[0, 0\] = 1e\+300 is too large to score"),
    ("8-score-1e300-empty", lambda p: _huge_row_score(EmptyGraphEstimator()), ValueError,
     r"X\[0, 0\] = 1e\+300 is too large to score"),
    ("9-dibs-learning-rate-1e6", lambda p: DibsEstimator(n_steps=20, learning_rate=1e6, random_state=0).fit(X),
     FloatingPointError, r"DiBS diverged at step 0: .*learning_rate \(got 1e\+06\)"),
    ("9-bayesdag-learning-rate-1e6", lambda p: BayesDAGEstimator(n_chains=2, n_steps=20, thinning=5,
                                                                 learning_rate=1e6, random_state=0).fit(X),
     FloatingPointError, r"BayesDAG diverged at step 0: .*learning_rate \(got 1e\+06\)"),
    ("10-pc-chisq-continuous", lambda p: PCEstimator(indep_test="chisq").fit(X), ValueError,
     r"indep_test='chisq' tests discrete data .* column 0 has 40 distinct values in 40 rows"),
    ("10-pc-two-rows", lambda p: PCEstimator().fit(X[:2]), ValueError, r"n_samples=2 is too few for PCEstimator"),
    ("11-edge-auroc-strings", lambda p: edge_auroc(np.triu(np.ones((3, 3)), 1), np.full((3, 3), "a")), ValueError,
     r"prediction must be a numeric"),
    ("11-config-txt-path", lambda p: load_config("cfg.txt"), ConfigError, r"config file 'cfg.txt' does not exist"),
    ("11-config-YML-path", lambda p: load_config("cfg.YML"), ConfigError, r"config file 'cfg.YML' does not exist"),
    ("11-posterior-load-non-npz", lambda p: GraphPosterior.load(_non_npz(p)), ValueError,
     r"posterior.npz' is not a GraphPosterior file \(an .npz archive"),
    ("11-random-state-minus-one", lambda p: _IgnoresSeed(random_state=-1).fit(X), InvalidParameterError,
     r"The 'random_state' parameter of _IgnoresSeed must be None, an int in the range \[0, inf\).* Got -1 instead"),
    ("12-dibs-d50-defaults", lambda p: _d50_fit(), UserWarning, r"d=50 nodes .* estimated to take about \d+ minutes"),
    ("12-n-jobs-above-cores", _n_jobs_above_cores, UserWarning, r"runtime.n_jobs=\d+ is more than the \d+ CPU cores"),
]


@pytest.mark.parametrize("call, expected, match", [case[1:] for case in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_clear_error(call, expected, match, tmp_path):
    with pytest.raises(expected, match=match) as info:
        call(tmp_path)
    assert "allow_pickle" not in str(info.value) and len(str(info.value)) < 2000


def test_register_a_class_defined_in_a_function_is_refused():
    class Inner(EmptyGraphEstimator):
        pass

    with pytest.raises(ValueError, match="is defined inside a function"):
        register_estimator("inner", Inner)
    assert "inner" not in ESTIMATORS


def test_a_config_file_of_any_suffix_is_read_as_a_file(tmp_path):
    text = yaml.safe_dump(tiny_config(tmp_path))
    for name in ("cfg.txt", "cfg.YML"):
        (tmp_path / name).write_text(text)
        assert load_config(str(tmp_path / name)).name == "tiny"


def test_progress_bars_only_when_verbose(capsys):
    for estimator in (DibsEstimator(n_particles=2, n_steps=3, random_state=0),
                      BayesDAGEstimator(n_chains=1, n_steps=4, thinning=2, random_state=0)):
        estimator.fit(X)
        assert capsys.readouterr().err == ""
        estimator.set_params(verbose=True).fit(X)
        assert re.search(r"(DiBS|BayesDAG): 100%.*[34]/[34]", capsys.readouterr().err)


def test_bootstrap_progress_of_pc_and_ges_only_when_verbose(capsys):
    pytest.importorskip("causallearn", reason="PC and GES need the baselines extra (causal-learn)")
    from skcausal_meta import GESEstimator, PCEstimator

    for estimator in (PCEstimator(n_bootstrap=3, random_state=0), GESEstimator(n_bootstrap=2, random_state=0)):
        estimator.fit(X)
        assert capsys.readouterr().err == ""
        estimator.set_params(verbose=True).fit(X)
        assert re.search(r"(PC|GES): 100%.*[23]/[23]", capsys.readouterr().err)
    PCEstimator(verbose=True, random_state=0).fit(X)  # one fit on all rows: nothing to follow
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="verbose"):
        PCEstimator(verbose="loud").fit(X)


# ------------------------------------------------------------------ hostile files
# The child's own peak memory in MB. Not ru_maxrss: on Linux it keeps the high-water mark of the
# process that forked the child (pytest, large late in the suite) across exec.
PEAK_MB = textwrap.dedent("""
    def peak_mb():
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
""")

FUZZ_CHILD = textwrap.dedent("""
    import json, random, resource, sys, time
    from skcausal_meta._validation import parse_json
    from skcausal_meta.pipeline import ConfigError, load_config
    docs = json.loads(sys.stdin.read())
    rng = random.Random(0)
    docs += [rng.randbytes(rng.randint(0, 4096)).decode("latin-1") for _ in range(300)]
    alphabet = "[]{}:,-&*!|>'\\"# \\n\\tab01"
    docs += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 2000))) for _ in range(300)]
    start, outcomes = time.perf_counter(), {}
    for doc in docs:
        try:
            load_config(doc if "\\n" in doc else doc + "\\n")
            outcome = "config"
        except ConfigError:
            outcome = "ConfigError"
        try:
            parse_json(doc, "fuzz.json")
        except ValueError:
            pass
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "outcomes": outcomes}))
""")


def test_fuzzed_config_and_json_loaders_fail_cleanly_in_bounded_time_and_memory():
    """Random bytes, random YAML/JSON punctuation and adversarial documents: every one gives a
    ConfigError (never another exception, a crash or a hang), all within 30 s and 1 GB."""
    adversarial = [billion_laughs(k) for k in (2, 5, 9, 12)] + [
        "[" * 100_000, "{a: " * 50_000, "- " * 100_000 + "x", "a:\n" + "  - " * 5_000 + "x",
        "\n".join(f"k{i}: {i}" for i in range(200_000)), "!!python/object/apply:os.system ['echo hi']",
        "a: !!binary " + "QUJD" * 100_000, "\x00\x01\xff", "\ufeffname: x", "x: " + "9" * 100_000,
        '{"a": ' * 100_000, "&a [*a]", "a: &a\n  b: *a\n",
    ]
    result = subprocess.run([sys.executable, "-c", PEAK_MB + FUZZ_CHILD], input=json.dumps(adversarial), cwd=REPO, timeout=120,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    print("fuzz:", report)  # the closing note quotes these figures
    assert report["outcomes"] == {"ConfigError": len(adversarial) + 600}
    assert report["seconds"] < 30 and report["peak_mb"] < 1024


def test_deep_scm_json_in_the_data_cache_is_regenerated(tmp_path):
    spec = DatasetSpec(family="id", n_datasets=1, n_nodes=3, n_samples=10, n_interventional=0, seed=1)
    first = spec.load(tmp_path)
    folder = spec.path(tmp_path)
    hostile = ("[" * 100_000 + "]" * 100_000).encode()
    (folder / "scm.json").write_bytes(hostile)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"]["scm.json"] = hashlib.sha256(hostile).hexdigest()  # a hostile file with a matching hash
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=r"scm.json' nests 100000 levels deep.*regenerating"):
        again = spec.load(tmp_path)
    np.testing.assert_array_equal(again.X, first.X)


def test_truncated_distances_json_is_recomputed(tmp_path):
    config = load_config(tiny_config(tmp_path / "cache"))
    config = load_config({**config.model_dump(mode="json"), "report": {"plots": False, "distances": True,
                                                                        "distance_datasets": 2}})
    run_dir = tmp_path / "run"
    run_benchmark(config, output_dir=run_dir, progress=False)
    good = json.loads((run_dir / DISTANCES_FILE).read_text())
    (run_dir / DISTANCES_FILE).write_text(json.dumps(good)[:40])
    with pytest.warns(UserWarning, match="ignoring the unreadable distances cache"):
        paths = write_report(run_dir, plots=False)
    assert "Distance of each family" not in paths["report"].read_text()
    with pytest.warns(UserWarning, match="ignoring the unreadable distances cache"):
        assert compute_distances(config, run_dir) == good
    assert json.loads((run_dir / DISTANCES_FILE).read_text()) == good
    assert "Distance of each family" in write_report(run_dir, plots=False)["report"].read_text()


def test_reads_during_artifact_replaces_never_report_corruption(tmp_path):
    folder = tmp_path / "artifacts" / "m" / "task"
    versions = [{name: json.dumps({"v": k, "pad": "x" * 20_000}).encode() for name in
                 ("config.json", "metrics.json", "timings.json")} for k in range(2)]
    write_artifact(folder, versions[0])
    done = threading.Event()

    def writer():
        k = 0
        while not done.is_set():
            k += 1
            write_artifact(folder, versions[k % 2])

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(1500):
                record = read_artifact(folder)
                seen.append(None if record is None else record["config"]["v"])
    finally:
        done.set()
        thread.join()
    assert not [w for w in caught if "corrupt" in str(w.message) or "manifest" in str(w.message)]
    assert {0, 1} <= set(seen)
    for record_version in set(seen) - {None}:
        assert record_version in (0, 1)


# ------------------------------------------------------------------ runners and workers
SLOW_DIBS = {"name": "dibs", "params": {"n_particles": 4, "n_steps": 300}}


def _start_runner(tmp_path, config, run_dir):
    path = tmp_path / "slow.yml"
    path.write_text(yaml.safe_dump(config))
    return path, subprocess.Popen([sys.executable, "-m", "skcausal_meta.run", "--config", str(path), "--output-dir",
                                   str(run_dir), "--no-progress"], cwd=REPO, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _children(pid) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _finished(run_dir) -> int:
    return len([p for p in run_dir.glob("artifacts/*/*/manifest.json") if not p.parent.name.startswith(".")])


def test_kill_9_of_the_runner_ends_its_workers_and_the_rerun_resumes(tmp_path):
    config = tiny_config(tmp_path / "cache", SLOW_DIBS, n_datasets=4, n_jobs=2)
    run_dir = tmp_path / "run"
    path, proc = _start_runner(tmp_path, config, run_dir)
    try:
        _wait_for(lambda: _finished(run_dir) >= 1 and len(_children(proc.pid)) >= 2, 180, "a finished task")
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        finished = _finished(run_dir)
        assert 1 <= finished < 4, "the kill should land partway through the run"
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 15, f"the runner's {len(workers)} children to exit")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    one_job = load_config({**load_config(path).model_dump(mode="json"), "runtime": {"n_jobs": 1}})  # same tasks
    with pytest.warns(UserWarning, match=rf"taking over the lock of a runner .*pid {proc.pid}"):
        summary = run_benchmark(one_job, output_dir=run_dir, progress=False)
    assert summary.n_skipped >= finished and summary.n_skipped + summary.n_run == 4 and summary.n_failed == 0
    assert (load_results(run_dir)["status"] == "ok").sum() == 4


def test_a_second_runner_refuses_or_waits_and_never_repeats_work(tmp_path):
    config = tiny_config(tmp_path / "cache", SLOW_DIBS, n_datasets=2)
    run_dir = tmp_path / "run"
    path, proc = _start_runner(tmp_path, config, run_dir)
    try:
        _wait_for(lambda: (run_dir / "tasks.json").is_file(), 60, "the first runner to list its tasks")
        in_flight = run_dir / "artifacts" / "dibs" / ".task.in-flight.tmp"
        in_flight.mkdir(parents=True)  # as the first runner's temporary folder, which a cleanup would remove
        with pytest.raises(RunLockedError, match=rf"in use by another runner \(pid {proc.pid} on host"):
            run_benchmark(path, output_dir=run_dir, progress=False)
        assert run_main(["--config", str(path), "--output-dir", str(run_dir), "--no-progress"]) == 3
        assert in_flight.is_dir(), "the refused runner must not touch the folder"
        in_flight.rmdir()
        summary = run_benchmark(path, output_dir=run_dir, progress=False, wait=True)
        assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert (summary.n_tasks, summary.n_skipped, summary.n_run) == (2, 2, 0)
    assert (run_dir / LOCK_FILE).read_text() == "", "a runner that ends normally leaves no owner behind"


def test_a_registered_module_class_estimator_runs_in_worker_processes(tmp_path):
    register_estimator("empty_alias", "skcausal_meta.models.baselines:EmptyGraphEstimator")
    try:
        summary = run_benchmark(tiny_config(tmp_path / "cache", {"name": "empty_alias"}, n_jobs=2),
                                output_dir=tmp_path / "run", progress=False)
    finally:
        del ESTIMATORS["empty_alias"]
    assert (summary.n_run, summary.n_failed) == (2, 0)


def test_ray_backend_runs_the_tiny_config(tmp_path):
    pytest.importorskip("ray", reason="the ray backend needs the 'ray' extra (pip install 'skcausal-meta[ray]')")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_benchmark(tiny_config(tmp_path / "cache", n_datasets=3, backend="ray", n_jobs=2),
                                output_dir=tmp_path / "ray", progress=False)
    finally:
        ray.shutdown()
    reference = run_benchmark(tiny_config(tmp_path / "cache", n_datasets=3), output_dir=tmp_path / "loky",
                              progress=False)
    assert (summary.n_run, summary.n_failed, reference.n_failed) == (3, 0, 0)
    columns = ["run_id", "e_shd", "nil"]
    assert load_results(tmp_path / "ray")[columns].equals(load_results(tmp_path / "loky")[columns])


CHECKPOINT_FUZZ_CHILD = """
import json, resource, sys, time
from pathlib import Path
import numpy as np
from skcausal_meta.models.amortized.checkpoint import load_model, save_model
from skcausal_meta.models.avici import AviciModel

folder = Path(sys.argv[1])
good = save_model(folder / "good", AviciModel(dim=8, n_layers=1, n_heads=2))
weights, meta = (folder / "good.safetensors").read_bytes(), json.loads((folder / "good.json").read_text())
rng = np.random.default_rng(0)
header = int.from_bytes(weights[:8], "little")
cases = [(rng.bytes(int(rng.integers(0, 4096))), None) for _ in range(150)]  # random weights files
cases += [(None, rng.bytes(int(rng.integers(0, 4096)))) for _ in range(150)]  # random JSON files
cases += [(weights[:k], None) for k in (0, 7, 8, 100, header + 8, len(weights) - 1)]  # truncations
cases += [((2**62).to_bytes(8, "little") + weights[8:], None),  # a header length beyond any file
          ((header).to_bytes(8, "little") + b"[" * header + weights[8 + header:], None),  # nested header
          (None, ("[" * 100_000).encode()), (None, json.dumps({**meta, "config": {**meta["config"], "n_layers": 10**6}}).encode()),
          (None, json.dumps({**meta, "config": {**meta["config"], "dim": 10**7}}).encode()),
          (None, json.dumps({**meta, "config": "x" * 10**6}).encode()), (None, b"\\xff\\xfe")]
outcomes, start = {}, time.perf_counter()
for k, (weights_bytes, json_bytes) in enumerate(cases):
    stem = folder / f"case{k}"
    (folder / f"case{k}.safetensors").write_bytes(weights if weights_bytes is None else weights_bytes)
    (folder / f"case{k}.json").write_bytes(json.dumps(meta).encode() if json_bytes is None else json_bytes)
    try:
        load_model(stem, AviciModel)
        outcome = "loaded"
    except (ValueError, FileNotFoundError) as exc:
        outcome = type(exc).__name__ if str(folder) in str(exc) else "unnamed " + type(exc).__name__
    outcomes[outcome] = outcomes.get(outcome, 0) + 1
print(json.dumps({"outcomes": outcomes, "seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "cases": len(cases)}))
"""


def test_fuzzed_checkpoint_loader_fails_cleanly_in_bounded_time_and_memory(tmp_path):
    """Random and adversarial weights and JSON files (truncated, huge or nested headers, hostile
    depths and widths): every one is refused with an error naming the file, within 30 s and 1 GB."""
    result = subprocess.run([sys.executable, "-c", PEAK_MB + CHECKPOINT_FUZZ_CHILD, str(tmp_path)], cwd=REPO, timeout=300,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    print("checkpoint fuzz:", report)
    assert set(report["outcomes"]) <= {"ValueError", "FileNotFoundError"}, report
    assert report["seconds"] < 30 and report["peak_mb"] < 1024
