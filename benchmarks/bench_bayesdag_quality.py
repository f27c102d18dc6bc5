"""BayesDAG's edge AUROC and E-SHD on ``ood.yml`` data sets, optionally against another checkout.

    python benchmarks/bench_bayesdag_quality.py [--baseline PATH] [--families id ood_mech_mlp ood_graph_ws]
                                                [--datasets 5] [--json OUT]

Each data set is fitted as ``benchmarks/ood.yml``'s task would fit it: the same training data,
BayesDAG parameters (4 chains, 1000 steps, thinning 25) and seed, on one thread. ``--baseline
PATH`` runs the same fits with the package (and ``benchmarks/ood.yml``) found at ``PATH`` (e.g. a
``git worktree`` of an older commit) in a subprocess, at the same time as this one, and prints the two side by side with the
per-data-set differences: a change of algorithm (BayesDAG's Sinkhorn) is kept if the differences
are within the spread over data sets.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

CONFIG = Path(__file__).with_name("ood.yml")


def fit_all(families, n_datasets, config_path=CONFIG):
    """``{"family/index": {"auroc": ..., "e_shd": ...}}`` for BayesDAG on ood.yml's data sets."""
    import torch

    from skcausal_meta.metrics import e_shd, edge_auroc
    from skcausal_meta.models.registry import get_estimator_class
    from skcausal_meta.pipeline import load_config
    from skcausal_meta.pipeline.tasks import expand_tasks, load_task_data

    torch.set_num_threads(1)
    config = load_config(config_path)
    entries = {entry.name: entry for entry in config.families}
    tasks = [t for t in expand_tasks(config)
             if t.estimator == "bayesdag" and t.family in families and t.dataset < n_datasets]
    results = {}
    for family in families:
        data = load_task_data(config, entries[family], range(n_datasets))
        for task in (t for t in tasks if t.family == family):
            d = data[task.dataset]
            estimator = get_estimator_class(task.estimator)(**task.params).fit(d.X, interventions=d.mask)
            posterior = estimator.predict_graph_posterior()
            results[f"{family}/{task.dataset}"] = {"auroc": float(edge_auroc(d.graph, posterior)),
                                                  "e_shd": float(e_shd(d.graph, posterior))}
            print(f"{family}/{task.dataset}: {results[f'{family}/{task.dataset}']}", file=sys.stderr, flush=True)
    return results


def table(rows, families):
    """Markdown table: per data set, then per family and overall means, the mean difference +-
    its standard deviation over data sets, and the baseline's standard deviation over data sets."""
    this, base = rows["this checkout"], rows.get("baseline")
    lines = []
    if base is None:
        lines += ["| data set | AUROC | E-SHD |", "|---|--:|--:|"]
        lines += [f"| {k} | {v['auroc']:.3f} | {v['e_shd']:.2f} |" for k, v in this.items()]
        return "\n".join(lines)
    lines += ["| data set | AUROC before | AUROC after | diff | E-SHD before | E-SHD after | diff |",
              "|---|--:|--:|--:|--:|--:|--:|"]
    for key in this:
        b, a = base[key], this[key]
        lines.append(f"| {key} | {b['auroc']:.3f} | {a['auroc']:.3f} | {a['auroc'] - b['auroc']:+.3f} "
                     f"| {b['e_shd']:.2f} | {a['e_shd']:.2f} | {a['e_shd'] - b['e_shd']:+.2f} |")
    for label, keys in [*((f, [k for k in this if k.startswith(f + "/")]) for f in families), ("all", list(this))]:
        mean = {m: (np.mean([base[k][m] for k in keys]), np.mean([this[k][m] for k in keys])) for m in ("auroc", "e_shd")}
        diff = {m: np.array([this[k][m] - base[k][m] for k in keys]) for m in ("auroc", "e_shd")}
        spread = {m: np.std([base[k][m] for k in keys], ddof=1) for m in ("auroc", "e_shd")}
        lines.append(f"| **{label} mean** (n = {len(keys)}) | {mean['auroc'][0]:.3f} | {mean['auroc'][1]:.3f} "
                     f"| {diff['auroc'].mean():+.3f} +- {diff['auroc'].std(ddof=1):.3f} (sd over sets {spread['auroc']:.3f}) "
                     f"| {mean['e_shd'][0]:.2f} | {mean['e_shd'][1]:.2f} "
                     f"| {diff['e_shd'].mean():+.2f} +- {diff['e_shd'].std(ddof=1):.2f} (sd over sets {spread['e_shd']:.2f}) |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a checkout whose package is fitted the same way, for comparison")
    parser.add_argument("--families", nargs="+", default=["id", "ood_mech_mlp", "ood_graph_ws"])
    parser.add_argument("--datasets", type=int, default=5, help="data sets per family (ood.yml has 5)")
    parser.add_argument("--config", default=str(CONFIG), help="the ood.yml to read (a baseline reads its own)")
    parser.add_argument("--json", help="write the results as JSON here (used for --baseline)")
    args = parser.parse_args(argv)
    baseline = None
    if args.baseline:
        out = os.path.join(os.path.abspath(args.baseline), ".bench_bayesdag_quality.json")
        env = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
        config = os.path.join(os.path.abspath(args.baseline), "benchmarks", "ood.yml")
        cmd = [sys.executable, os.path.abspath(__file__), "--config", config, "--families", *args.families,
               "--datasets", str(args.datasets), "--json", out]
        baseline = subprocess.Popen(cmd, env=env, cwd=args.baseline)
    rows = {"this checkout": fit_all(args.families, args.datasets, args.config)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows["this checkout"], f)
        return
    if baseline is not None:
        if baseline.wait() != 0:
            raise SystemExit("the baseline run failed")
        with open(out) as f:
            rows["baseline"] = json.load(f)
    print(f"BayesDAG on benchmarks/ood.yml data sets ({args.datasets} per family); diff = this checkout - baseline")
    print(table(rows, args.families))


if __name__ == "__main__":
    main()
