"""DiBS in skcausal_meta (PyTorch) side by side with the reference dibs-lib (JAX).

Both run marginal DiBS (BGe score, Erdos-Renyi prior with 2 edges per node, score-function
gradients, the reference's ``MarginalDiBS`` defaults) with the same particles and steps on the
same z-scored linear-Gaussian ER-2 data sets (``n = 100``), and both are scored by
``skcausal_meta.metrics`` on their DiBS+ mixture posteriors. dibs-lib is never imported here: it
runs in its own virtual environment (see ``/work/shared/peers/README.md``), in a subprocess that
reads the data from an ``.npz`` file and writes its particles to another.

Seconds per step: ours is the whole ``fit`` divided by the steps; the reference's excludes JIT
compilation (timed over its compiled loop after the first chunk). Both use ``--threads`` CPU
threads.

Usage::

    python benchmarks/peers/dibs_vs_reference.py [--dims 10 20] [--seeds 3] [--steps 300]
        [--particles 20] [--threads 1] [--python ~/.cache/skcausal-peers/venv-dibs/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REFERENCE_SCRIPT = r"""
import json, sys, time
import numpy as np
import jax, jax.numpy as jnp
from dibs.inference import MarginalDiBS
from dibs.models import BGe, ErdosReniDAGDistribution

data = np.load(sys.argv[1])
x = jnp.array(data["X"])
n_particles, steps, seed = int(data["particles"]), int(data["steps"]), int(data["seed"])
d = x.shape[1]
model = MarginalDiBS(x=x, graph_model=ErdosReniDAGDistribution(d, n_edges_per_node=2),
                     likelihood_model=BGe(n_vars=d))
chunk = max(steps // 10, 1)
stamps = []
def callback(**kwargs):
    jax.block_until_ready(kwargs["zs"])
    stamps.append(time.perf_counter())
start = time.perf_counter()
g = model.sample(key=jax.random.PRNGKey(seed), n_particles=n_particles, steps=steps,
                 callback=callback, callback_every=chunk)
total = time.perf_counter() - start
mixture = model.get_mixture(g)
compiled_steps = chunk * (len(stamps) - 1)
per_step = (stamps[-1] - stamps[0]) / compiled_steps if compiled_steps else total / steps
np.savez(sys.argv[2], g=np.asarray(mixture.g), logp=np.asarray(mixture.logp),
         per_step=per_step, total=total)
"""


def _make_data(d, seed, n):
    from skcausal_meta.datasets import ErdosRenyi, Gaussian, Linear, SCMFamily, make_scm_family

    family = SCMFamily(
        name="er2-linear-gaussian", graph=[ErdosRenyi(edges_per_node=2)], mechanism=[Linear()],
        noise=[Gaussian()], n_nodes=d, n_samples=n, n_interventional=0,
    )
    X, _, G = make_scm_family(family, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=0, random_state=seed)
    X = X[0]
    return (X - X.mean(0)) / X.std(0), G[0]


def _run_ours(X, particles, steps, seed):
    from skcausal_meta.models.dibs import DibsEstimator

    est = DibsEstimator(
        "marginal", n_particles=particles, n_steps=steps, graph_prior="er", edges_per_node=2.0,
        standardize=False, device="cpu", random_state=seed,
    )
    start = time.perf_counter()
    est.fit(X)
    total = time.perf_counter() - start
    post = est.predict_graph_posterior()
    return post.samples, post.weights, total / steps, total


def _run_reference(python, X, particles, steps, seed, threads):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, script = Path(tmp, "in.npz"), Path(tmp, "out.npz"), Path(tmp, "ref.py")
        np.savez(inp, X=X.astype(np.float32), particles=particles, steps=steps, seed=seed)
        script.write_text(REFERENCE_SCRIPT)
        env = dict(os.environ, JAX_PLATFORMS="cpu")
        if threads == 1:
            env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        subprocess.run([python, str(script), str(inp), str(out)], check=True, env=env)
        res = np.load(out)
        weights = np.exp(res["logp"] - np.logaddexp.reduce(res["logp"]))
        return res["g"].astype(np.int8), weights, float(res["per_step"]), float(res["total"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--particles", type=int, default=20)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--python", default=os.path.expanduser("~/.cache/skcausal-peers/venv-dibs/bin/python"),
        help="python of the virtual environment holding dibs-lib",
    )
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    import torch

    from skcausal_meta.metrics import e_shd, edge_auroc

    torch.set_num_threads(args.threads)
    _run_ours(*_make_data(5, 0, args.samples)[:1], 2, 2, 0)  # warm-up: first-call overheads
    rows = []
    for d in args.dims:
        for seed in range(args.seeds):
            X, G = _make_data(d, seed, args.samples)
            for name, run in (
                ("skcausal_meta", lambda: _run_ours(X, args.particles, args.steps, seed)),
                ("dibs-lib", lambda: _run_reference(args.python, X, args.particles, args.steps, seed, args.threads)),
            ):
                samples, weights, per_step, total = run()
                rows.append(dict(
                    d=d, seed=seed, method=name, e_shd=e_shd(G, samples, weights=weights),
                    auroc=edge_auroc(G, samples, weights=weights), s_per_step=per_step, total_s=total,
                ))
                r = rows[-1]
                print(f"d={d:3d} seed={seed} {name:14s} E-SHD={r['e_shd']:7.2f} AUROC={r['auroc']:.3f} "
                      f"s/step={per_step:.4f} total={total:.1f}s", file=sys.stderr)

    print(f"\nMarginal DiBS (BGe), ER-2 linear-Gaussian, n={args.samples}, {args.particles} particles, "
          f"{args.steps} steps, {args.seeds} seeds, {args.threads} thread(s); mean +- s.e.\n")
    print("| d | method | E-SHD | AUROC | s/step |")
    print("|---|---|---|---|---|")
    summary = {}
    for d in args.dims:
        for name in ("skcausal_meta", "dibs-lib"):
            sel = [r for r in rows if r["d"] == d and r["method"] == name]
            stats = {k: np.array([r[k] for r in sel]) for k in ("e_shd", "auroc", "s_per_step")}
            summary[d, name] = stats
            se = {k: v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan") for k, v in stats.items()}
            print(f"| {d} | {name} | {stats['e_shd'].mean():.2f} +- {se['e_shd']:.2f} | "
                  f"{stats['auroc'].mean():.3f} +- {se['auroc']:.3f} | {stats['s_per_step'].mean():.4f} |")
    print("\n| d | paired diff E-SHD (ours - ref) | paired diff AUROC | speed-up (ref s/step / ours) |")
    print("|---|---|---|---|")
    for d in args.dims:
        ours, ref = summary[d, "skcausal_meta"], summary[d, "dibs-lib"]
        parts = []
        for k in ("e_shd", "auroc"):
            diff = ours[k] - ref[k]
            se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
            parts.append(f"{diff.mean():+.3f} +- {se:.3f}")
        ratio = ref["s_per_step"].mean() / ours["s_per_step"].mean()
        print(f"| {d} | {parts[0]} | {parts[1]} | {ratio:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
