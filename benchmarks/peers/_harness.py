"""What every peer-benchmark worker shares: where the peer venvs live, how a worker is started,
how it times a call and how it reports peak memory.

Workers run in different virtual environments (ours in the project's, avici and dibs-lib in
their own), so this module uses the standard library and numpy only, and each worker imports it
from its own directory. A worker reads its task from a JSON file and writes its result to
another, so process start and imports are never part of a timing.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEERS_DIR = Path(os.environ.get("PEERS_DIR", Path.home() / ".cache" / "skcausal-peers"))
# each venv is named after the package it must import
PEER_VENVS = {"avici": PEERS_DIR / "venv-avici", "dibs": PEERS_DIR / "venv-dibs"}
SETUP_COMMAND = f"bash {HERE / 'setup_venvs.sh'}"


def peer_python(name: str) -> str:
    """Interpreter of the peer venv ``name`` ("avici" or "dibs"); exits naming the setup command
    when the venv is missing or cannot import its package."""
    if name not in PEER_VENVS:
        raise ValueError(f"name must be one of {sorted(PEER_VENVS)}, got {name!r}")
    python = PEER_VENVS[name] / "bin" / "python"
    if not python.is_file():
        sys.exit(f"the {name} peer venv is missing: {python} does not exist.\n"
                 f"Build it with: {SETUP_COMMAND} {name}   (compare.py --setup builds every missing one)")
    check = subprocess.run([str(python), "-c", f"import {name}"], capture_output=True, text=True)
    if check.returncode:
        sys.exit(f"the {name} peer venv at {PEER_VENVS[name]} cannot import {name}:\n"
                 f"{check.stderr.strip()[-2000:]}\nRebuild it with: {SETUP_COMMAND} {name}")
    return str(python)


def single_thread_env() -> dict:
    """Environment of a worker process: CPU only, one BLAS / OpenMP / XLA thread."""
    return dict(os.environ, JAX_PLATFORMS="cpu", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                OPENBLAS_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3",
                XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


def run_worker(python: str, script: str, task: dict) -> dict:
    """Run ``HERE/script`` under ``python`` on ``task`` (JSON) and return its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp, "task.json"), Path(tmp, "result.json")
        inp.write_text(json.dumps(task))
        proc = subprocess.run([python, str(HERE / script), str(inp), str(out)], env=single_thread_env(),
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"{script} failed on {task}:\n{proc.stderr.strip()[-4000:]}")
        return json.loads(out.read_text())


def worker_main(tasks: dict) -> None:
    """Entry point of a worker script: ``python worker.py task.json result.json``; the task's
    ``"kind"`` picks the function in ``tasks``, which receives the task's other fields."""
    task = json.loads(Path(sys.argv[1]).read_text())
    kind = task.pop("kind")
    result = tasks[kind](**task)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(sys.argv[2]).write_text(json.dumps(result))


def median_seconds(fn, repeats: int, warmup: int = 1) -> dict:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns the median wall-clock seconds per call (``median_s``) and the median CPU seconds of
    this process per call (``median_cpu_s``, all its threads; less sensitive than wall clock
    to other processes competing for the cores). ``fn`` receives the call index
    (``-warmup .. repeats - 1``), so calls can differ in seed.
    """
    for i in range(-warmup, 0):
        fn(i)
    wall, cpu = [], []
    for i in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"median_s": float(np.median(wall)), "median_cpu_s": float(np.median(cpu))}


def current_rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
