"""Held-out quality of the shipped amortized models next to DiBS and the classical baselines.

Issue 4's quality check: on held-out ``id`` data sets (d = 10 and 20, 1000 observational rows, or
800 observational + 200 interventional rows), the edge AUROC, AUPRC, E-SHD and log p(true graph)
of ``AviciEstimator()`` and ``BCNPEstimator()`` (the shipped checkpoints) next to DiBS (ours,
BGe marginal preset) and PC / GES from causal-learn, all on the same data sets. One more setting
is the goal's own subset: linear-Gaussian Erdos-Renyi graphs at d = 20 (the family defined in
``benchmarks/families/id_linear_er.yml``), observational and with 200 interventional rows.

Test graphs are disjoint from training: a training stream is a pure function of its seed, step and
settings (``skcausal_meta.models.training.DatasetStream``), so the graphs of every stream that shaped
a scored checkpoint -- its own and those of the checkpoints it started from (``warm_start_from``,
``encoder_from``; ``skcausal_meta.models.checkpoint_io.checkpoint_lineage``) -- are regenerated here
from their JSON, and any test data set whose graph is isomorphic (canonical hash) to one of them is
dropped; the table says how many data sets remain. The replayed hashes are cached in ``OUT`` (the
first run replays the 528,000 graphs of the stream of the run ``avici_lin_er`` was exported from,
about 4 minutes; one file per checkpoint of a lineage, ``train_hashes_STEM.npz``).

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

from skcausal_meta.datasets import (  # noqa: E402
    SCMFamily,
    canonical_graph_hash,
    make_scm_family,
    registered_families,
)
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
        return AviciEstimator(checkpoint=checkpoint, n_samples=1000, device="cpu", random_state=0)
    if name == "bcnp":
        from skcausal_meta.models.bcnp import BCNPEstimator
        return BCNPEstimator(checkpoint=checkpoint, n_samples=1000, device="cpu", random_state=0)
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


def training_graph_hashes(steps, cache, batch_size, n_nodes, seed, family):
    """Canonical hashes of the graphs of the first ``steps`` steps of a training stream.

    Graphs do not depend on the numbers of rows, so the stream is replayed with two rows per data
    set. It is replayed without the run's excluded graphs: those it drew are hashed too (which only
    excludes more), the redraws that replaced them are not (they are never among the run's excluded
    graphs, which for the shipped checkpoints include every test set here).
    """
    key = np.array([steps, batch_size, *n_nodes, seed])
    family_key = json.dumps(family if isinstance(family, str) else family.to_dict(), sort_keys=True)
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        if "family" in data and np.array_equal(data["key"], key) and str(data["family"]) == family_key:
            return set(data["hashes"].tolist())
    from skcausal_meta.models.training import DatasetStream, TrainConfig

    stream = DatasetStream(family, TrainConfig(steps=max(steps, 1), batch_size=batch_size, n_nodes=list(n_nodes),
                                             n_samples=2, n_interventional=1, seed=seed))
    hashes = {canonical_graph_hash(g) for t in range(steps) for g in stream[t][1].numpy().astype(np.int8)}
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, key=key, hashes=np.array(sorted(hashes)), family=np.array(family_key))
    os.replace(tmp, cache)
    return hashes


def checkpoint_graph_hashes(checkpoint, out):
    """Graph hashes of every training stream in ``checkpoint``'s lineage, replayed from each JSON's
    ``info`` (checkpoints from before ``train_config`` was recorded used ``--seed 0 --batch-size 4
    --n-nodes 5 20``)."""
    from skcausal_meta.models.checkpoint_io import checkpoint_lineage

    hashes = set()
    for stem, meta in checkpoint_lineage(checkpoint):
        info = meta["info"]
        config = {"batch_size": 4, "n_nodes": (5, 20), "seed": 0, **info.get("train_config", {})}
        family = SCMFamily.from_dict(info["family_spec"]) if "family_spec" in info else info.get("family", "id")
        hashes |= training_graph_hashes(int(info["steps"]), out / f"train_hashes_{stem.name}.npz",
                                        config["batch_size"], tuple(config["n_nodes"]), config["seed"], family)
    return hashes


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
    from skcausal_meta.models.avici import AviciEstimator
    from skcausal_meta.models.bcnp import BCNPEstimator

    args.out.mkdir(parents=True, exist_ok=True)
    checkpoints = {}
    for item in args.checkpoint:
        model, sep, stem = item.partition("=")
        if not sep or model not in ("avici", "bcnp"):
            parser.error(f"--checkpoint takes MODEL=STEM with MODEL avici or bcnp, got {item!r}")
        checkpoints[f"{model}:{Path(stem).name}"] = stem
    # the same test sets whatever --models says: the default checkpoints' streams are always excluded
    train_hashes = set()
    for checkpoint in (AviciEstimator._default_checkpoint, BCNPEstimator._default_checkpoint, *checkpoints.values()):
        train_hashes |= checkpoint_graph_hashes(checkpoint, args.out)
    models = list(args.models) + [name for name in checkpoints if name not in args.models]
    path = args.out / "records.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    done = {(r["setting"], r["index"], r["model"]) for r in records}
    kept = set()
    for k, (setting, family, d, n_obs, n_int) in enumerate(SETTINGS):
        if args.settings and setting not in args.settings:
            continue
        X, masks, graphs = test_sets(k, args.n_datasets)
        for index, (x, mask, graph) in enumerate(zip(X, masks, graphs)):
            if canonical_graph_hash(graph) in train_hashes:
                continue
            kept.add((setting, index))
            for model in models:
                if (setting, index, model) in done:
                    continue
                row = dict(setting=setting, index=index, model=model, **score(model, x, mask, graph, checkpoints))
                records.append(row)
                with path.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
    summarise([r for r in records if (r["setting"], r["index"]) in kept], models)


if __name__ == "__main__":
    main()
