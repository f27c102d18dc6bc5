"""CPU seconds per step of the per-data-set samplers (BayesDAG, DiBS), optionally against another checkout.

    python benchmarks/bench_per_dataset.py [--baseline PATH] [--steps 1000] [--repeats 2]
                                           [--threads 1] [--estimators bayesdag dibs dibs_joint] [--json OUT]

The data are those of one ``benchmarks/ood.yml`` task: d = 10, 200 observational plus 50
interventional rows of a nonlinear SCM; the estimators run with the ood.yml settings
(BayesDAG 4 chains, DiBS the ``marginal`` preset; ``dibs_joint``: the ``joint-nonlinear`` preset
with 10 particles, not run by default) for ``--steps`` steps after one short warm-up fit (which
pays the one-off imports). The time is the median over ``--repeats`` fits of the process's CPU
seconds (with one thread the wall time on quiet cores; steadier when other work shares them)
divided by the number of steps; for BayesDAG the Sinkhorn rounds per step (mean over the timed fits) are
reported too. ``--baseline PATH`` runs the same measurement with the package found at
``PATH`` (e.g. a ``git worktree`` of an older commit) in a subprocess, right after this one, and
prints the ratio ``baseline / this``: both on this machine, under the same load.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ESTIMATORS = {
    "bayesdag": ("BayesDAGEstimator", dict(n_chains=4)),
    "dibs": ("DibsEstimator", dict(preset="marginal")),
    "dibs_joint": ("DibsEstimator", dict(preset="joint-nonlinear", n_particles=10)),
}


def ood_like_data(seed=0, d=10, n_obs=200, n_int=50):
    """Rows and intervention mask like one ood.yml ``id`` task: a chain with tanh mechanisms."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_obs + n_int, d))
    for j in range(1, d):
        X[:, j] += 0.8 * np.tanh(X[:, j - 1])
    mask = np.zeros(X.shape, dtype=bool)
    mask[n_obs:, d // 2] = True
    X[n_obs:, d // 2] = rng.standard_normal(n_int)
    return X, mask


def count_sinkhorn_rounds():
    """A function that returns the Sinkhorn rounds BayesDAG ran since this call.

    Works for this checkout (the sampler counts its rounds in ``sinkhorn_rounds``) and for older
    ones (rounds counted from the softmaxes that ``_rounds_numpy`` saves for the backward pass);
    NaN for checkouts from before ``components.sinkhorn``.
    """
    from skcausal_meta.models.bayesdag import sampler as sampler_module

    try:
        from skcausal_meta.models.components import sinkhorn as sinkhorn_module
    except ImportError:  # a checkout from before the Sinkhorn module: rounds not counted
        return lambda: float("nan")
    if hasattr(sampler_module, "log_sinkhorn_fixed_point"):
        cls, init, samplers = sampler_module.BayesDAGSampler, sampler_module.BayesDAGSampler.__init__, []

        def registering_init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            samplers.append(self)

        cls.__init__ = registering_init
        return lambda: sum(s.sinkhorn_rounds for s in samplers)
    rounds, counts = sinkhorn_module._rounds_numpy, []

    def counting_rounds(*args, **kwargs):
        result, softmaxes = rounds(*args, **kwargs)
        counts.append(len(softmaxes) // 2)
        return result, softmaxes

    sinkhorn_module._rounds_numpy = counting_rounds
    return lambda: sum(counts)


def seconds_per_step(name, steps, repeats):
    """Median seconds per step of ``name`` fitted for ``steps`` steps (after a warm-up fit), and
    the mean Sinkhorn rounds per step (``None`` except for BayesDAG)."""
    import skcausal_meta

    cls_name, params = ESTIMATORS[name]
    X, mask = ood_like_data()

    def fit(n_steps, seed):
        thinning = {"thinning": max(1, n_steps // 4)} if name == "bayesdag" else {}
        getattr(skcausal_meta, cls_name)(**params, **thinning, n_steps=n_steps, random_state=seed).fit(
            X, interventions=mask)

    fit(max(4, steps // 4), 0)
    if name == "bayesdag":
        total_rounds = count_sinkhorn_rounds()
    times = []
    for seed in range(repeats):
        start = time.process_time()  # CPU seconds: steadier than the wall clock when other work shares the cores
        fit(steps, seed)
        times.append((time.process_time() - start) / steps)
    rounds = total_rounds() / (repeats * steps) if name == "bayesdag" else None
    return float(np.median(times)), rounds


def measure(steps, repeats, threads, names=tuple(ESTIMATORS)):
    import torch

    torch.set_num_threads(threads)
    result, rounds = {}, {}
    for name in names:
        result[name], rounds[name] = seconds_per_step(name, steps, repeats)
    result["bayesdag_sinkhorn_rounds"] = rounds.get("bayesdag")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a checkout whose package is measured the same way, for the ratio")
    parser.add_argument("--steps", type=int, default=1000, help="ood.yml runs 1000 (Sinkhorn needs more rounds as the chains settle)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (ood.yml runs with 1)")
    parser.add_argument("--estimators", nargs="+", choices=list(ESTIMATORS), default=["bayesdag", "dibs"])
    parser.add_argument("--json", help="write the measurement as JSON here (used for --baseline)")
    args = parser.parse_args(argv)
    names = args.estimators
    result = measure(args.steps, args.repeats, args.threads, names)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
        return
    rows = {"this checkout": result}
    if args.baseline:
        out = os.path.join(os.path.abspath(args.baseline), ".bench_per_dataset.json")
        env = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
        cmd = [sys.executable, __file__, "--steps", str(args.steps), "--repeats", str(args.repeats),
               "--threads", str(args.threads), "--estimators", *names, "--json", out]
        subprocess.run(cmd, env=env, check=True, cwd=args.baseline)
        with open(out) as f:
            rows["baseline"] = json.load(f)
    print(f"CPU s/step, d = 10, n = 250, {args.threads} thread(s), median of {args.repeats} fits of {args.steps} steps;"
          " BayesDAG's Sinkhorn rounds per step (mean)")
    rounds = "bayesdag" in names
    print(f"{'':16}" + "".join(f"{name:>12}" for name in names) + (f"{'rounds':>12}" if rounds else ""))
    for label, row in rows.items():
        print(f"{label:16}" + "".join(f"{row[name]:12.4f}" for name in names)
              + (f"{row['bayesdag_sinkhorn_rounds']:12.1f}" if rounds else ""))
    if args.baseline:
        print(f"{'speed-up':16}" + "".join(f"{rows['baseline'][n] / result[n]:11.2f}x" for n in names))


if __name__ == "__main__":
    main()
