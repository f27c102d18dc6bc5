"""Joint DiBS in skcausal_meta (PyTorch) side by side with dibs-lib's ``JointDiBS`` (JAX).

Both infer graphs and mechanisms jointly under the nonlinear Gaussian model of the DiBS paper
(one hidden layer of 5 ReLU units per node, noise variance 0.1, weights and biases with a
standard normal prior, Erdos-Renyi prior with 2 edges per node) with the reference's
``JointDiBS`` defaults (our ``"joint-nonlinear"`` preset), the same particles and steps, on the
same data sets: per seed, one data set drawn by dibs-lib's own generator
(``make_nonlinear_gaussian_model``, ``d = 10``, ``n = 100`` observational rows), passed to both
sides as ``.npz`` and used as drawn (no z-scoring on either side).

Each side runs in a fresh subprocess with one CPU thread (``_harness.run_worker``: ours in this
environment through ``ours_worker.py``, dibs-lib in its venv through ``dibs_worker.py``); the
clocks run inside it. CPU seconds per step (``time.process_time``) are the figure that counts
on a busy machine; wall seconds are kept in the JSON rows. Ours is the whole ``fit`` over the
steps after a 2-step warm-up fit; dibs-lib's leaves out its first tenth of the steps, which
holds the JIT compilation, reported apart (that tenth's CPU seconds less its steps).

Quality, scored by ``skcausal_meta.metrics`` (edge AUROC, E-SHD with reversals counting 1) on
each side's DiBS+ mixture over its particles, as each package defines it: ours weights a particle
by ``p(G) p(theta | G) p(D | G, theta)``, dibs-lib's ``get_mixture`` by ``p(theta | G)
p(D | G, theta)``; on both sides cyclic particles get weight zero (dibs-lib's metrics leave them
out) and, if every particle is cyclic, all get equal weights.

Usage::

    python benchmarks/peers/dibs_joint_vs_reference.py [--seeds 3] [--steps 300] [--particles 10]
        [--quick] [--json FILE]

``--steps`` must be a multiple of 10 (dibs-lib is clocked every tenth). ``compare.py`` runs the
same comparison (:func:`joint_rows`) as part (d) of its table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import peer_python, run_worker

D, N = 10, 100
QUICK = dict(seeds=1, steps=20, particles=4)


def acyclic_mixture(graphs, logp):
    """Weights of the particles ``graphs (P, d, d)`` from their log-probabilities: normalised over
    the acyclic ones, zero for the cyclic ones (uniform when every one is cyclic)."""
    from skcausal_meta._validation import is_dag

    acyclic = np.array([is_dag(g) for g in graphs])
    logp = np.where(acyclic, logp, -np.inf) if acyclic.any() else np.zeros(len(graphs))
    return np.exp(logp - np.logaddexp.reduce(logp))


def joint_rows(seeds, steps, particles, d=D, n=N, log=sys.stderr):
    """Run ours and dibs-lib on ``seeds`` data sets; one row per run with ``seed, method,
    cpu_s_per_step, wall_s_per_step, compile_cpu_s`` (0 for ours), ``auroc, e_shd, n_acyclic``."""
    from skcausal_meta._validation import is_dag
    from skcausal_meta.metrics import e_shd, edge_auroc

    if steps % 10 or steps < 20:
        raise ValueError(f"steps must be a multiple of 10, at least 20; got {steps}")
    python = peer_python("dibs")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            data = str(Path(tmp, f"seed{seed}.npz"))
            run_worker(python, "dibs_worker.py", dict(kind="nonlinear_data", d=d, n=n, seed=seed, out=data))
            G = np.load(data)["G"]
            task = dict(data=data, particles=particles, steps=steps, seed=seed)
            ours = run_worker(sys.executable, "ours_worker.py", dict(task, kind="dibs_joint"))
            theirs = run_worker(python, "dibs_worker.py", dict(task, kind="joint", chunk=steps // 10))
            theirs["weights"] = acyclic_mixture(np.array(theirs["graphs"]), np.array(theirs["logp"]))
            for name, res in (("skcausal_meta", ours), ("dibs-lib", theirs)):
                graphs, weights = np.array(res["graphs"]), np.array(res["weights"])
                rows.append(dict(seed=seed, method=name, cpu_s_per_step=res["cpu_s_per_step"],
                                 wall_s_per_step=res["wall_s_per_step"], compile_cpu_s=res.get("compile_cpu_s", 0.0),
                                 auroc=edge_auroc(G, graphs, weights=weights), e_shd=e_shd(G, graphs, weights=weights),
                                 n_acyclic=int(sum(is_dag(g) for g in graphs))))
                r = rows[-1]
                print(f"seed={seed} {name:13s} CPU s/step={r['cpu_s_per_step']:.4f} "
                      f"(wall {r['wall_s_per_step']:.4f}) AUROC={r['auroc']:.3f} E-SHD={r['e_shd']:.2f} "
                      f"acyclic {r['n_acyclic']}/{particles}", file=log)
    return rows


def side_means(rows, method):
    """Mean over the seeds of every numeric field of ``method``'s rows."""
    sel = [r for r in rows if r["method"] == method]
    return {key: float(np.mean([r[key] for r in sel])) for key in sel[0] if key not in ("seed", "method")}


def format_table(rows) -> str:
    """Markdown table: per seed and mean, ours and theirs side by side."""
    lines = ["| seed | CPU s/step ours | CPU s/step dibs-lib | dibs-lib / ours | AUROC ours | AUROC dibs-lib | "
             "E-SHD ours | E-SHD dibs-lib | acyclic ours / dibs-lib | dibs-lib JIT compile CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    by_seed = [(str(seed), {r["method"]: r for r in rows if r["seed"] == seed})
               for seed in sorted({r["seed"] for r in rows})]
    for label, pair in by_seed + [("mean", {m: side_means(rows, m) for m in ("skcausal_meta", "dibs-lib")})]:
        ours, ref = pair["skcausal_meta"], pair["dibs-lib"]
        lines.append(f"| {label} | {ours['cpu_s_per_step']:.4f} | {ref['cpu_s_per_step']:.4f} | "
                     f"{ref['cpu_s_per_step'] / ours['cpu_s_per_step']:.2f} | {ours['auroc']:.3f} | "
                     f"{ref['auroc']:.3f} | {ours['e_shd']:.2f} | {ref['e_shd']:.2f} | "
                     f"{ours['n_acyclic']:.3g} / {ref['n_acyclic']:.3g} | {ref['compile_cpu_s']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="a multiple of 10")
    parser.add_argument("--particles", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1 seed, 20 steps, 4 particles: checks the wiring")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    cfg = QUICK if args.quick else dict(seeds=args.seeds, steps=args.steps, particles=args.particles)
    rows = joint_rows(**cfg)
    print(f"\nJoint DiBS, nonlinear Gaussian (dibs-lib's generator), ER-2, d={D} n={N}, {cfg['particles']} particles, "
          f"{cfg['steps']} steps, {cfg['seeds']} seed(s), one CPU thread per side\n")
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
