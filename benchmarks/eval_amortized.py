"""Held-out quality of the shipped amortized models next to DiBS and the classical baselines.

Issue 4's quality check: on held-out ``id`` data sets (d = 10 and 20, 1000 observational rows, or
800 observational + 200 interventional rows), the edge AUROC, AUPRC, E-SHD and log p(true graph)
of ``AviciEstimator()`` and ``BCNPEstimator()`` (the shipped checkpoints) next to DiBS (ours,
BGe marginal preset) and PC / GES from causal-learn, all on the same data sets. One more setting
is the goal's own subset: linear-Gaussian Erdos-Renyi graphs at d = 20 (the family defined in
``benchmarks/families/id_linear_er.yml``), observational and with 200 interventional rows.

Test graphs are disjoint from training: the runs behind the shipped checkpoints were given these
test sets' graphs with ``--exclude-graphs`` (each checkpoint's JSON records the count and SHA-256 of
the hashes it excluded, ``info.excluded_graphs``); a new checkpoint is held out the same way.

Rows are appended to ``OUT/records.jsonl`` as they finish (one line per model and data set), and a
rerun skips what is there, so an interrupted run resumes and a new checkpoint is scored by rerunning
with ``--models avici bcnp`` after deleting their lines (or with a new ``--out``).

    python benchmarks/eval_amortized.py --out runs/eval_amortized [--n-datasets 10]
        [--models avici bcnp dibs pc ges] [--quick] [--checkpoint bcnp=runs/bcnp_gpu ...]

``--checkpoint MODEL=STEM`` scores another checkpoint of ``avici`` or ``bcnp`` (a GPU-trained one,
say) as the row ``MODEL:NAME`` (``NAME`` the file name of ``STEM``); the rows ``avici`` and ``bcnp``
score the estimators' default checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from skcausal_meta.datasets import make_scm_family, registered_families  # noqa: E402
from skcausal_meta.metrics import e_shd, edge_auprc, edge_auroc, log_prob_true_graph  # noqa: E402

# (name, family, d, observational rows, interventional rows)
SETTINGS = [
    ("id d=10 obs", "id", 10, 1000, 0),
    ("id d=10 obs+int", "id", 10, 800, 200),
    ("id d=20 obs", "id", 20, 1000, 0),
    ("id d=20 obs+int", "id", 20, 800, 200),
    ("lin-Gauss ER d=20 obs", "id_linear_er", 20, 1000, 0),
    ("lin-Gauss ER d=20 obs+int", "id_linear_er", 20, 800, 200),
]


LINEAR_GAUSSIAN_ER = Path(__file__).parent / "families" / "id_linear_er.yml"


def make_estimator(name, checkpoints=None):
    """The estimator scored as ``name`` (shipped defaults; DiBS and GES/PC as documented here).

    ``checkpoints`` maps a row name ``MODEL:NAME`` to the checkpoint stem it loads.
    """
    checkpoint = (checkpoints or {}).get(name)
    name = name.split(":")[0]
    if name == "avici":
        from skcausal_meta.models.avici import AviciEstimator
        return AviciEstimator(checkpoint=checkpoint, n_graphs=1000, device="cpu", random_state=0)
    if name == "bcnp":
        from skcausal_meta.models.bcnp import BCNPEstimator
        return BCNPEstimator(checkpoint=checkpoint, n_graphs=1000, device="cpu", random_state=0)
    if name == "dibs":
        from skcausal_meta.models.dibs import DibsEstimator
        return DibsEstimator("marginal", device="cpu", random_state=0)
    if name == "pc":
        from skcausal_meta.models.baselines import PCEstimator
        return PCEstimator(random_state=0)
    if name == "ges":
        from skcausal_meta.models.baselines import GESEstimator
        return GESEstimator(random_state=0)
    raise ValueError(f"unknown model {name!r}; choose from avici, bcnp, dibs, pc, ges")


def test_sets(k, n_datasets):
    """``(X, masks, graphs)`` of the ``k``-th setting: its first ``n_datasets`` data sets."""
    _, family, d, n_obs, n_int = SETTINGS[k]
    with registered_families(LINEAR_GAUSSIAN_ER):
        return make_scm_family(family, n_datasets=n_datasets, n_nodes=d, n_samples=n_obs,
                               n_interventional=n_int, random_state=10_000 + k)


def score(name, x, mask, graph, checkpoints=None):
    start = time.perf_counter()
    posterior = make_estimator(name, checkpoints).fit(x, interventions=mask).predict_graph_posterior()
    seconds = time.perf_counter() - start
    log_p, source = log_prob_true_graph(graph, posterior, return_source=True)
    return dict(auroc=edge_auroc(graph, posterior.edge_probs), auprc=edge_auprc(graph, posterior.edge_probs),
                e_shd=e_shd(graph, posterior), log_p_true=float(log_p), log_p_source=source, seconds=seconds)


def summarise(records, models):
    print(f"{'setting':24s} {'model':14s} {'sets':>4s} {'AUROC':>13s} {'AUPRC':>13s} {'E-SHD':>12s} "
          f"{'log p(G*)':>14s} {'s/set':>7s}")
    for setting, *_ in SETTINGS:
        for model in models:
            rows = [r for r in records if r["setting"] == setting and r["model"] == model]
            if not rows:
                continue
            cells = []
            for key, fmt in (("auroc", "{:.3f}"), ("auprc", "{:.3f}"), ("e_shd", "{:.1f}"), ("log_p_true", "{:.1f}")):
                values = np.array([r[key] for r in rows], dtype=float)
                values = values[~np.isnan(values)]
                spread = len(values) > 1 and np.isfinite(values).all()
                se = values.std(ddof=1) / np.sqrt(len(values)) if spread else np.nan
                cells.append((fmt + " ± " + fmt).format(values.mean(), se) if len(values) else "n/a")
            seconds = np.mean([r["seconds"] for r in rows])
            print(f"{setting:24s} {model:14s} {len(rows):4d} {cells[0]:>13s} {cells[1]:>13s} {cells[2]:>12s} "
                  f"{cells[3]:>14s} {seconds:7.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", nargs="+", default=["avici", "bcnp", "dibs", "pc", "ges"])
    parser.add_argument("--n-datasets", type=int, default=10, help="test data sets drawn per setting")
    parser.add_argument("--settings", nargs="*", default=None, help="subset of setting names")
    parser.add_argument("--quick", action="store_true", help="2 data sets per setting")
    parser.add_argument("--checkpoint", nargs="*", default=[], metavar="MODEL=STEM",
                        help="also score this avici/bcnp checkpoint, as the row MODEL:NAME")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_datasets = 2
    import torch

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoints = {}
    for item in args.checkpoint:
        model, sep, stem = item.partition("=")
        if not sep or model not in ("avici", "bcnp"):
            parser.error(f"--checkpoint takes MODEL=STEM with MODEL avici or bcnp, got {item!r}")
        checkpoints[f"{model}:{Path(stem).name}"] = stem
    models = list(args.models) + [name for name in checkpoints if name not in args.models]
    path = args.out / "records.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    done = {(r["setting"], r["index"], r["model"]) for r in records}
    for k, (setting, family, d, n_obs, n_int) in enumerate(SETTINGS):
        if args.settings and setting not in args.settings:
            continue
        X, masks, graphs = test_sets(k, args.n_datasets)
        for index, (x, mask, graph) in enumerate(zip(X, masks, graphs)):
            for model in models:
                if (setting, index, model) in done:
                    continue
                row = dict(setting=setting, index=index, model=model, **score(model, x, mask, graph, checkpoints))
                records.append(row)
                with path.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
    summarise(records, models)


if __name__ == "__main__":
    main()
