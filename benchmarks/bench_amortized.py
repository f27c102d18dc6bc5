"""Speed and memory of the shipped amortized models (AVICI, BCNP), on CPU or a GPU.

Two measurements, printed as Markdown tables:

* **Inference**, for every model, number of variables ``d`` and rows ``n``: seconds per data set
  of ``fit`` (input validation, loading the shipped checkpoint, z-scoring, one forward pass) and
  of ``predict_graph_posterior()`` with the estimator's defaults (AVICI: 1000 Bernoulli graphs;
  BCNP: 100 sampled DAGs and 256 permutation draws for the edge marginals, each a Sinkhorn +
  Hungarian solve), as wall-clock seconds and as CPU seconds of the process (with one thread,
  about the wall time on an idle core). Each cell runs in a fresh subprocess, on data from the
  ``id`` family, after one untimed warm-up fit on a 5-variable data set; cells under 2 s are
  repeated (up to 5 runs, median reported). Memory is the process's peak resident set size
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), reported in total and above the level
  reached after imports and the warm-up (the interpreter, torch and the checkpoint).
* **Training**, for the architecture and training settings of the same checkpoint (read from its
  JSON): data sets per second over a few meta-training steps, split into data
  generation (``DatasetStream``: simulating the SCMs and z-scoring) and the optimisation step
  (``train_step``: forward, backward, clipping, optimizer), after one untimed step; the total per
  wall-clock second and per CPU second, the two parts per CPU second. ``d`` is drawn per step as
  in training, so few steps give a noisy figure.

``--device cuda`` runs both on a GPU (training with bfloat16 autocast, as the training command
does there) and adds the peak GPU memory of each inference cell
(``torch.cuda.max_memory_allocated`` after the warm-up); times include the copies to and from the
GPU (every result ends in a NumPy array).

Usage::

    python benchmarks/bench_amortized.py                 # d in {10, 20, 50, 100}, n in {100, 1000, 5000}
    python benchmarks/bench_amortized.py --quick         # d in {10, 20}, n in {100, 1000}, 3 training steps
    python benchmarks/bench_amortized.py --models avici --threads 2 --memory-limit-gb 8
    python benchmarks/bench_amortized.py --device cuda --train-steps 50

Both use each estimator's default checkpoint (``avici_id_large``, ``bcnp_id_large``);
``--checkpoint MODEL=CHECKPOINT`` (a shipped name or a path) measures another one, e.g.
``--checkpoint avici=avici_id bcnp=bcnp_id`` for the smaller networks. Every row names its checkpoint.

``--memory-limit-gb`` caps each inference subprocess's address space (``RLIMIT_AS``); a cell that
exceeds it is reported as out of memory instead of exhausting the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

MODELS = ("avici", "bcnp")
NODES, SAMPLES = (10, 20, 50, 100), (100, 1000, 5000)
QUICK_NODES, QUICK_SAMPLES = (10, 20), (100, 1000)
REPEAT_BELOW_S, MAX_REPEATS = 2.0, 5


def _estimator_class(model: str):
    from skcausal_meta.models.avici import AviciEstimator
    from skcausal_meta.models.bcnp import BCNPEstimator

    return {"avici": AviciEstimator, "bcnp": BCNPEstimator}[model]


def _estimator(model: str, device: str, checkpoint: str | None):
    return _estimator_class(model)(checkpoint=checkpoint, device=device, random_state=0)


def _checkpoint_stem(model: str, checkpoint: str | None):
    from skcausal_meta.models.amortized.checkpoint import resolve_checkpoint

    return resolve_checkpoint(checkpoint, _estimator_class(model)._default_checkpoint)


def parse_checkpoints(values) -> dict:
    """``["avici=NAME", ...]`` -> ``{"avici": "NAME"}``; a bad entry names itself."""
    checkpoints = {}
    for value in values or ():
        model, sep, checkpoint = value.partition("=")
        if not sep or model not in MODELS or not checkpoint:
            raise ValueError(f"--checkpoint takes MODEL=CHECKPOINT with MODEL in {MODELS}, got {value!r}")
        if model in checkpoints:
            raise ValueError(f"--checkpoint names {model!r} twice: {checkpoints[model]!r} and {checkpoint!r}")
        checkpoints[model] = checkpoint
    return checkpoints


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_cell(model: str, d: int, n: int, device: str = "cpu", checkpoint: str | None = None) -> dict:
    """Time ``fit`` and ``predict_graph_posterior`` of ``model`` on one ``(n, d)`` data set."""
    import torch

    from skcausal_meta.datasets import make_scm_family

    X = make_scm_family("id", n_datasets=1, n_nodes=d, n_samples=n, n_interventional=0, random_state=0)[0][0]
    warm_up = make_scm_family("id", n_datasets=1, n_nodes=5, n_samples=50, n_interventional=0, random_state=1)[0][0]
    _estimator(model, device, checkpoint).fit(warm_up).predict_graph_posterior()
    baseline = _peak_rss_mb()
    on_gpu = torch.device(device).type == "cuda"
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    fit_s, posterior_s, cpu_s = [], [], []
    while not fit_s or (len(fit_s) < MAX_REPEATS and fit_s[0] + posterior_s[0] < REPEAT_BELOW_S):
        t0, c0 = time.perf_counter(), time.process_time()
        est = _estimator(model, device, checkpoint).fit(X)
        t1 = time.perf_counter()
        est.predict_graph_posterior()
        fit_s.append(t1 - t0)
        posterior_s.append(time.perf_counter() - t1)
        cpu_s.append(time.process_time() - c0)
    gpu = {"peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20} if on_gpu else {}
    return {"model": model, "checkpoint": _checkpoint_stem(model, checkpoint).name, "d": d, "n": n,
            "runs": len(fit_s), "fit_s": statistics.median(fit_s),
            "posterior_s": statistics.median(posterior_s), "cpu_s": statistics.median(cpu_s),
            "baseline_rss_mb": baseline, "peak_rss_mb": _peak_rss_mb(), **gpu}


def _limit_memory(gigabytes: float | None):
    if gigabytes is None:
        return None
    limit = int(gigabytes * 2**30)
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def inference_in_subprocess(model: str, d: int, n: int, threads: int, memory_limit_gb: float | None,
                            device: str = "cpu", checkpoint: str | None = None) -> dict:
    """:func:`run_cell` in a fresh interpreter (so its peak memory is the cell's own)."""
    command = [sys.executable, os.path.abspath(__file__), "--cell", model, str(d), str(n), "--threads", str(threads),
               "--device", device] + ([] if checkpoint is None else ["--checkpoint", f"{model}={checkpoint}"])
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=_limit_memory(memory_limit_gb))
    if done.returncode != 0:
        out_of_memory = any(s in done.stderr for s in ("MemoryError", "DefaultCPUAllocator", "not enough memory"))
        last_line = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        reason = "out of memory" if out_of_memory else last_line[:120]
        return {"model": model, "checkpoint": _checkpoint_stem(model, checkpoint).name, "d": d, "n": n,
                "error": reason}
    return json.loads(done.stdout.strip().splitlines()[-1])


def training_speed(model_name: str, steps: int, device: str = "cpu", checkpoint: str | None = None) -> dict:
    """Data sets per second of ``steps`` meta-training steps with a checkpoint's settings."""
    import torch

    from skcausal_meta.models.amortized.checkpoint import load_model
    from skcausal_meta.models.amortized.config import TrainConfig
    from skcausal_meta.models.amortized.loop import train_step
    from skcausal_meta.models.amortized.optim import make_optimizer
    from skcausal_meta.models.amortized.stream import DatasetStream
    from skcausal_meta.models.amortized.training import network_class

    cls = network_class(model_name)
    stem = _checkpoint_stem(model_name, checkpoint)
    _, meta = load_model(stem, cls)
    config = TrainConfig(**{**meta["info"]["train_config"], "steps": steps + 1})
    torch.manual_seed(0)
    device = torch.device(device)
    model = cls(**meta["config"]).to(device).train()
    optimizer = make_optimizer(model.parameters(), config)
    family = meta["info"]["family"]
    local = os.path.join(os.path.dirname(os.path.abspath(__file__)), "families", f"{family}.yml")
    stream = DatasetStream(local if isinstance(family, str) and os.path.exists(local) else family, config)
    wall_s = data_cpu_s = step_cpu_s = 0.0
    sizes = []
    for step in range(steps + 1):  # step 0 is the untimed warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        x, graphs = stream[step]
        c1 = time.process_time()
        train_step(model, optimizer, x.to(device), graphs.to(device), step, config, device)  # ends in a sync
        if step:
            wall_s += time.perf_counter() - t0
            data_cpu_s, step_cpu_s = data_cpu_s + c1 - c0, step_cpu_s + time.process_time() - c1
            sizes.append(x.shape[2])
    n_sets = steps * config.batch_size
    return {"model": model_name, "checkpoint": stem.name, "steps": steps, "batch_size": config.batch_size,
            "mean_d": sum(sizes) / steps,
            "rows": config.n_samples, "wall_s": wall_s, "data_cpu_s": data_cpu_s, "step_cpu_s": step_cpu_s,
            "sets_per_s": n_sets / wall_s, "sets_per_cpu_s": n_sets / (data_cpu_s + step_cpu_s),
            "data_sets_per_cpu_s": n_sets / data_cpu_s, "step_sets_per_cpu_s": n_sets / step_cpu_s}


def inference_table(rows: list[dict]) -> str:
    gpu = any("peak_gpu_mb" in r for r in rows)
    lines = ["| model | d | n | fit s | posterior s | total s | total CPU s | peak RSS MB | above baseline MB |"
             + (" peak GPU MB |" if gpu else ""), "|---|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if gpu else "")]
    for r in rows:
        cell = f"| {r['model']}: {r['checkpoint']} | {r['d']} | {r['n']} |"
        if "error" in r:
            lines.append(f"{cell} {r['error']} | | | | | |" + (" |" if gpu else ""))
            continue
        lines.append(f"{cell} {r['fit_s']:.3f} | {r['posterior_s']:.3f} | "
                     f"{r['fit_s'] + r['posterior_s']:.3f} | {r['cpu_s']:.3f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['peak_rss_mb'] - r['baseline_rss_mb']:.0f} |" + (f" {r['peak_gpu_mb']:.0f} |" if gpu else ""))
    return "\n".join(lines)


def training_table(rows: list[dict]) -> str:
    lines = ["| model | steps x batch | mean d | data sets / s | data sets / CPU s | data generation only "
             "(/ CPU s) | optimisation only (/ CPU s) |", "|---|--:|--:|--:|--:|--:|--:|"]
    lines += [f"| {r['model']}: {r['checkpoint']} | {r['steps']} x {r['batch_size']} | {r['mean_d']:.1f} | "
              f"{r['sets_per_s']:.2f} | "
              f"{r['sets_per_cpu_s']:.2f} | {r['data_sets_per_cpu_s']:.1f} | {r['step_sets_per_cpu_s']:.2f} |"
              for r in rows]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="small grid and 3 training steps (smoke run)")
    parser.add_argument("--nodes", nargs="+", type=int, default=None, help="override the grid's d values")
    parser.add_argument("--samples", nargs="+", type=int, default=None, help="override the grid's n values")
    parser.add_argument("--train-steps", type=int, default=None, help="timed training steps (default 10, quick 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads in every process")
    parser.add_argument("--memory-limit-gb", type=float, default=None, help="address-space cap per inference cell")
    parser.add_argument("--json", default=None, help="also write the raw results to this file")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:k] (inference and training)")
    parser.add_argument("--checkpoint", nargs="+", default=None, metavar="MODEL=CHECKPOINT",
                        help="measure this checkpoint of MODEL (shipped name or path) instead of its default")
    parser.add_argument("--cell", nargs=3, metavar=("MODEL", "D", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        checkpoints = parse_checkpoints(args.checkpoint)
        for model, checkpoint in checkpoints.items():
            _checkpoint_stem(model, checkpoint)  # a missing file fails here, not in every cell
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    if args.cell:
        model, d, n = args.cell
        print(json.dumps(run_cell(model, int(d), int(n), args.device, checkpoints.get(model))))
        return {}

    nodes = args.nodes or (QUICK_NODES if args.quick else NODES)
    samples = args.samples or (QUICK_SAMPLES if args.quick else SAMPLES)
    steps = args.train_steps or (3 if args.quick else 10)
    where = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "CPU"
    print(f"torch {torch.__version__}, {args.threads} thread(s), {where}")
    inference = []
    for model in args.models:
        for d in nodes:
            for n in samples:
                inference.append(inference_in_subprocess(model, d, n, args.threads, args.memory_limit_gb, args.device,
                                                         checkpoints.get(model)))
                print(json.dumps(inference[-1]), flush=True)
    training = []
    for model in args.models:
        training.append(training_speed(model, steps, args.device, checkpoints.get(model)))
        print(json.dumps(training[-1]), flush=True)
    print("\nInference (seconds per data set)\n\n" + inference_table(inference))
    print("\nMeta-training throughput\n\n" + training_table(training))
    results = {"threads": args.threads, "device": args.device, "inference": inference, "training": training}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
