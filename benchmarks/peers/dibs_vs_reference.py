"""DiBS in skcausal_meta (PyTorch) side by side with the reference dibs-lib (JAX).

Both run marginal DiBS (BGe score, Erdos-Renyi prior with 2 edges per node, score-function
gradients, the reference's ``MarginalDiBS`` defaults) with the same particles and steps on the
same z-scored linear-Gaussian ER-2 data sets (``n = 100``), and both are scored by
``skcausal_meta.metrics`` on their DiBS+ mixture posteriors. dibs-lib is never imported here: it
runs in its own virtual environment (built by ``setup_venvs.sh``), in a subprocess that
reads the data from an ``.npz`` file and writes its particles to another.

A third row, ``ours, ref. weights``, re-weights our particles the way dibs-lib 1.3.3's
``MarginalDiBS.get_mixture`` does (each particle by its BGe marginal likelihood alone, no graph
prior, duplicates counted separately) instead of our DiBS+ weights ``p(G) p(D | G)`` over the
unique acyclic graphs: it separates the particles (same search) from the choice of mixture
weights (a definition, see :class:`~skcausal_meta.models.dibs.DibsEstimator`).

A last table scores both sides' particles with one scorer: ``log p(G) + log p(D | G)`` (our BGe
in double precision, tested against a closed form, and the ER-2 prior DiBS uses) of the best
acyclic particle on each side and of the true graph, per seed (:func:`particle_scores`). It says
whether a gap in E-SHD comes from how well each search optimises the DiBS+ target or from where
that target's optimum lies.

Seconds per step: ours is the whole ``fit`` divided by the steps; the reference's excludes JIT
compilation (timed over its compiled loop after the first chunk). Both use ``--threads`` CPU
threads.

Usage::

    python benchmarks/peers/dibs_vs_reference.py [--dims 10 20] [--seeds 3] [--steps 300]
        [--particles 20] [--threads 1] [--python PATH]

``--python`` defaults to the dibs venv that ``setup_venvs.sh`` builds; ``compare.py`` runs the
same comparison (:func:`dibs_rows`) as part (b) of its table.
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

from _harness import peer_python, single_thread_env

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
    return post.samples, post.weights, total / steps, total, est


def _log_scores(X, graphs):
    """``(log p(D | G), log p(G))`` of graphs ``(S, d, d)``: our BGe marginal likelihood (in
    double precision, tested against a closed form) and the Erdos-Renyi prior with 2 edges per
    node that DiBS uses. One scorer for both sides' particles."""
    import torch

    from skcausal_meta.models.dibs.models import log_graph_prior
    from skcausal_meta.models.likelihoods import BGe

    G = torch.as_tensor(np.asarray(graphs), dtype=torch.float64)
    bge = BGe(torch.as_tensor(X, dtype=torch.float64), torch.zeros(X.shape, dtype=torch.bool))
    return bge.log_marginal_likelihood(G).numpy(), log_graph_prior(G, "er", 2.0).numpy()


def _reference_weights(X, est):
    """Every particle's graph, weighted by its BGe marginal likelihood alone (dibs-lib's
    ``get_mixture``)."""
    graphs = _particle_graphs(est)
    log_ml = _log_scores(X, graphs)[0]
    return graphs, np.exp(log_ml - np.logaddexp.reduce(log_ml))


def _particle_graphs(est):
    """The hard graph ``1[u_i . v_j > 0]`` of every particle of a fitted ``DibsEstimator``."""
    import torch

    from skcausal_meta.models.dibs.svgd import hard_graphs

    return hard_graphs(torch.as_tensor(est.particles_)).numpy().astype(np.int8)


def particle_scores(X, G_true, particles):
    """How well a side's particle search optimised the DiBS+ target, under one scorer.

    Returns ``best`` (the largest ``log p(G) + log p(D | G)`` over the acyclic particles),
    ``best_shd`` (the SHD of that particle), ``mean_shd`` (over all particles), ``n_acyclic``
    and ``n_unique`` (distinct acyclic graphs).
    """
    from skcausal_meta._validation import is_dag
    from skcausal_meta.metrics import shd

    log_ml, log_prior = _log_scores(X, particles)
    acyclic = np.array([is_dag(g) for g in particles])
    target = np.where(acyclic, log_ml + log_prior, -np.inf)
    best = int(np.argmax(target))
    unique = np.unique(particles[acyclic].reshape(int(acyclic.sum()), -1), axis=0)
    return dict(best=float(target[best]), best_shd=shd(G_true, particles[best]),
                mean_shd=float(np.mean([shd(G_true, g) for g in particles])),
                n_acyclic=int(acyclic.sum()), n_unique=len(unique))


def _run_reference(python, X, particles, steps, seed, threads):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, script = Path(tmp, "in.npz"), Path(tmp, "out.npz"), Path(tmp, "ref.py")
        np.savez(inp, X=X.astype(np.float32), particles=particles, steps=steps, seed=seed)
        script.write_text(REFERENCE_SCRIPT)
        env = single_thread_env() if threads == 1 else dict(os.environ, JAX_PLATFORMS="cpu")
        subprocess.run([python, str(script), str(inp), str(out)], check=True, env=env)
        res = np.load(out)
        weights = np.exp(res["logp"] - np.logaddexp.reduce(res["logp"]))
        # get_mixture keeps every particle's graph, so ``g`` is also the particle set
        g = res["g"].astype(np.int8)
        return g, weights, float(res["per_step"]), float(res["total"]), g


def dibs_rows(dims, seeds, steps, particles, samples, threads, python, log=sys.stderr):
    """Run ours and dibs-lib on ``seeds`` data sets per ``d`` in ``dims``; one row per run with
    ``d, seed, method, e_shd, auroc, s_per_step, total_s``, the :func:`particle_scores` of its
    particles, ``true_score`` (the true graph's ``log p(G) + log p(D | G)``) and ``e_shd_empirical``
    (uniform weights over the particles)."""
    import torch

    from skcausal_meta.metrics import e_shd, edge_auroc

    torch.set_num_threads(threads)
    _run_ours(*_make_data(5, 0, samples)[:1], 2, 2, 0)  # warm-up: first-call overheads
    rows = []
    for d in dims:
        for seed in range(seeds):
            X, G = _make_data(d, seed, samples)
            *ours, est = _run_ours(X, particles, steps, seed)
            mine = _particle_graphs(est)
            runs = (
                ("skcausal_meta", (*ours, mine)),
                ("ours, ref. weights", (*_reference_weights(X, est), *ours[2:], mine)),
                ("dibs-lib", _run_reference(python, X, particles, steps, seed, threads)),
            )
            true_score = float(np.add(*_log_scores(X, G[None]))[0])
            for name, (draws, weights, per_step, total, found) in runs:
                rows.append(dict(
                    d=d, seed=seed, method=name, e_shd=e_shd(G, draws, weights=weights),
                    auroc=edge_auroc(G, draws, weights=weights), s_per_step=per_step, total_s=total,
                    e_shd_empirical=e_shd(G, found), true_score=true_score, **particle_scores(X, G, found),
                ))
                r = rows[-1]
                print(f"d={d:3d} seed={seed} {name:18s} E-SHD={r['e_shd']:7.2f} AUROC={r['auroc']:.3f} "
                      f"best log p={r['best']:.1f} (true {true_score:.1f}, SHD {r['best_shd']}) "
                      f"s/step={per_step:.4f} total={total:.1f}s", file=log)
    return rows


def summarize(rows, d, method):
    """Mean and standard error of E-SHD, AUROC and s/step over the seeds of ``(d, method)``."""
    sel = [r for r in rows if r["d"] == d and r["method"] == method]
    out = {}
    for key in ("e_shd", "auroc", "s_per_step"):
        values = np.array([r[key] for r in sel])
        se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
        out[key] = (values.mean(), se, values)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--particles", type=int, default=20)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--python", help="python of the virtual environment holding dibs-lib")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    python = args.python or peer_python("dibs")
    rows = dibs_rows(args.dims, args.seeds, args.steps, args.particles, args.samples, args.threads, python)
    print(f"\nMarginal DiBS (BGe), ER-2 linear-Gaussian, n={args.samples}, {args.particles} particles, "
          f"{args.steps} steps, {args.seeds} seeds, {args.threads} thread(s); mean +- s.e.\n")
    print("| d | method | E-SHD | AUROC | s/step |")
    print("|---|---|---|---|---|")
    for d in args.dims:
        for name in ("skcausal_meta", "ours, ref. weights", "dibs-lib"):
            st = summarize(rows, d, name)
            print(f"| {d} | {name} | {st['e_shd'][0]:.2f} +- {st['e_shd'][1]:.2f} | "
                  f"{st['auroc'][0]:.3f} +- {st['auroc'][1]:.3f} | {st['s_per_step'][0]:.4f} |")
    print("\n| d | ours | paired diff E-SHD (ours - ref) | paired diff AUROC | speed-up (ref s/step / ours) |")
    print("|---|---|---|---|---|")
    for d in args.dims:
        ref = summarize(rows, d, "dibs-lib")
        for name in ("skcausal_meta", "ours, ref. weights"):
            ours = summarize(rows, d, name)
            parts = []
            for k in ("e_shd", "auroc"):
                diff = ours[k][2] - ref[k][2]
                se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
                parts.append(f"{diff.mean():+.3f} +- {se:.3f}")
            print(f"| {d} | {name} | {parts[0]} | {parts[1]} | {ref['s_per_step'][0] / ours['s_per_step'][0]:.2f}x |")
    print_particle_scores(rows, args.dims)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def print_particle_scores(rows, dims):
    """Per seed: the best acyclic particle's ``log p(G) + log p(D | G)`` on each side (one
    scorer), its SHD, the true graph's score and the E-SHD of the empirical posteriors."""
    print("\nBest acyclic particle's log p(G) + log p(D | G) (our BGe, ER-2 prior) per seed; "
          "SHD of that particle; E-SHD of the empirical (uniform) posterior\n")
    print("| d | seed | true G | ours best | dibs-lib best | ours - ref | SHD ours / ref | "
          "empirical E-SHD ours / ref | acyclic ours / ref |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in dims:
        for seed in sorted({r["seed"] for r in rows if r["d"] == d}):
            ours, ref = ({r["method"]: r for r in rows if r["d"] == d and r["seed"] == seed}[name]
                         for name in ("skcausal_meta", "dibs-lib"))
            print(f"| {d} | {seed} | {ours['true_score']:.1f} | {ours['best']:.1f} | {ref['best']:.1f} | "
                  f"{ours['best'] - ref['best']:+.1f} | {ours['best_shd']} / {ref['best_shd']} | "
                  f"{ours['e_shd_empirical']:.1f} / {ref['e_shd_empirical']:.1f} | "
                  f"{ours['n_acyclic']} / {ref['n_acyclic']} |")


if __name__ == "__main__":
    main()
