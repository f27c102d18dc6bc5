"""Held-out goals of the statistics-informed amortized models (ER-2 graphs, n = 1000).

Scores checkpoints of ``AviciEstimator`` / ``BCNPEstimator`` next to the |partial correlation|
baseline (Ledoit-Wolf, no training) on seeded held-out data sets: directed edge AUROC and skeleton
AUROC (a pair scored by ``p_ij + p_ji``), mean over data sets. The settings are ER graphs with 2
expected edges per node and the mechanisms and noise of the ``id`` family (linear, RFF) or MLPs,
and the real Sachs data (its 853 observational rows; one data set). ``--reference ges dibs``
scores classical and per-data-set models alongside; ``exact`` is the exact posterior of the
linear-Gaussian (BGe) model under an order-modular prior (``d <= 16``): the reference for what the
likelihood alone supports on the linear settings; ``bge_subsets`` is that pair statistic alone.
Their graphs are written to ``benchmarks/heldout/eval_graphs.txt`` by ``--write-hashes`` (with the
test graphs of ``benchmarks/ood.yml``) and given to training as ``--exclude-graphs``.

    python benchmarks/eval_statistics.py --checkpoint avici=runs/avici_stats bcnp=bcnp_id_large
        [--reference ges dibs] [--settings lin20 mlp20 sachs] [--n-datasets 20] [--write-hashes]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from skcausal_meta.datasets import SCMFamily, canonical_graph_hash, make_scm_family  # noqa: E402
from skcausal_meta.metrics import edge_auroc  # noqa: E402

HASH_FILE = Path(__file__).parent / "heldout" / "eval_graphs.txt"
SEED = 21_000
_GAUSS = [{"type": "gaussian", "scale": [0.2, 2.0]}]
_MECHANISMS = {
    "linear": [{"type": "linear", "weight": [1.0, 3.0], "bias": [-3.0, 3.0]}],
    "rff": [{"type": "rff", "length_scale": [7.0, 10.0], "n_features": 100, "output_scale": [10.0, 20.0],
             "bias": [-3.0, 3.0]}],
    "mlp": [{"type": "mlp", "hidden": 16, "weight_scale": [1.0, 2.0]}],
}
# key -> (mechanism, d, observational rows, interventional rows)
SETTINGS = {
    "lin10": ("linear", 10, 1000, 0),
    "lin20": ("linear", 20, 1000, 0),
    "lin50": ("linear", 50, 1000, 0),
    "mlp20": ("mlp", 20, 1000, 0),
    "rff20": ("rff", 20, 1000, 0),
    "lin10_int": ("linear", 10, 800, 200),
    "lin20_int": ("linear", 20, 800, 200),
    "sachs": (None, 11, 853, 0),  # the real data: the 853 observational rows, 17-edge consensus graph
}
REFERENCES = {"ges": "GESEstimator", "pc": "PCEstimator", "dibs": "DibsEstimator"}


def er2_family(mechanism: str) -> SCMFamily:
    """ER graphs with 2 expected edges per node, Gaussian noise, ``mechanism`` of ``_MECHANISMS``."""
    return SCMFamily.from_dict({
        "name": f"er2_{mechanism}", "graph": [{"type": "er", "edges_per_node": [2, 2], "cap_density": True}],
        "mechanism": _MECHANISMS[mechanism], "noise": _GAUSS, "n_nodes": [5, 50],
        "interventions": {"kind": "perfect", "targets": "single", "value": [1.0, 3.0]},
    })


def test_set(key: str, n_datasets: int):
    mechanism, d, n_obs, n_int = SETTINGS[key]
    if mechanism is None:
        from skcausal_meta.datasets import load_sachs

        X, mask, graph = load_sachs(observational_only=True)
        return np.asarray(X, dtype=float)[None], np.asarray(mask)[None], np.asarray(graph)[None]
    return make_scm_family(er2_family(mechanism), n_datasets=n_datasets, n_nodes=d, n_samples=n_obs,
                           n_interventional=n_int, random_state=SEED + d)


def statistic(X, mask, group: str):
    """The first channel of the pair statistic ``group`` (no training)."""
    from skcausal_meta.models.amortized import make_model_input
    from skcausal_meta.models.components.statistics import pair_statistics

    x = torch.from_numpy(make_model_input(X, mask))[None]
    return pair_statistics(x, [group])[0, ..., 0].double().numpy()


def edge_probs(name: str, X, mask):
    if name == "partial_corr":
        return np.abs(statistic(X, mask, "partial"))
    if name == "bge_subsets":
        return statistic(X, mask, "bge_subsets")
    if name == "exact":
        from skcausal_meta.models.order_posterior import MAX_NODES, order_edge_posterior

        return order_edge_posterior(X, mask) if X.shape[1] <= MAX_NODES else None
    if name in REFERENCES:
        import skcausal_meta

        est = getattr(skcausal_meta, REFERENCES[name])(**({"random_state": 0} if name == "dibs" else {}))
        return est.fit(X, interventions=mask).predict_graph_posterior().edge_probs
    model, checkpoint = name.split("=", 1)
    from skcausal_meta import AviciEstimator, BCNPEstimator

    cls = {"avici": AviciEstimator, "bcnp": BCNPEstimator}[model]
    est = cls(checkpoint=checkpoint, device="cpu", random_state=0, n_graphs=200).fit(X, interventions=mask)
    return est.predict_graph_posterior().edge_probs


def skeleton_auroc(graph, probs) -> float:
    upper = np.triu_indices(len(graph), 1)
    return float(roc_auc_score(((graph + graph.T) > 0)[upper], (probs + probs.T)[upper]))


def write_hashes(n_datasets: int) -> None:
    from skcausal_meta.models.amortized.stream import held_out_graph_hashes, write_graph_hashes

    hashes = {canonical_graph_hash(g) for key in SETTINGS if SETTINGS[key][0] for g in test_set(key, n_datasets)[2]}
    ood = ["id", "ood_graph_ws", "ood_dense", "ood_mech_mlp", "ood_noise_student", "ood_interv_soft",
           "ood_samples_small", "ood_combo_all"]
    for family in ood:
        hashes.update(held_out_graph_hashes(family, [10], [0], 5, split="test"))
    hashes.update(held_out_graph_hashes("ood_nodes_small", [4], [0], 5, split="test"))
    write_graph_hashes(HASH_FILE, sorted(hashes), header=f"eval_statistics.py test graphs ({n_datasets} "
                       "per setting) and the test graphs of benchmarks/ood.yml")
    print(f"{len(hashes)} hashes -> {HASH_FILE}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", nargs="*", default=[], help="MODEL=CHECKPOINT (model avici or bcnp)")
    parser.add_argument("--reference", nargs="*", default=[], choices=sorted([*REFERENCES, "exact", "bge_subsets"]),
                        help="classical or per-data-set models scored alongside (default settings); "
                             "exact: the exact BGe posterior of an order-modular prior (d <= 16); "
                             "bge_subsets: that statistic alone (no training)")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--n-datasets", type=int, default=20)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--write-hashes", action="store_true", help="write the held-out graph hashes and stop")
    args = parser.parse_args(argv)
    if args.write_hashes:
        return write_hashes(args.n_datasets)
    torch.set_num_threads(1)
    names = (["partial_corr"] if args.baseline else []) + list(args.reference) + list(args.checkpoint)
    print("| setting | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for key in args.settings:
        X, masks, graphs = test_set(key, args.n_datasets)
        cells = []
        for name in names:
            t0 = time.perf_counter()
            scores = []
            for x, m, g in zip(X, masks, graphs):
                p = edge_probs(name, x, m if m.any() else None)
                if p is not None:  # None: the method does not run at this size
                    scores.append((edge_auroc(g, p), skeleton_auroc(g, p)))
            if not scores:
                cells.append("–")
                continue
            directed, skeleton = np.mean(scores, axis=0)
            cells.append(f"{directed:.3f} ({skeleton:.3f}) {time.perf_counter() - t0:.0f}s")
        print(f"| {key} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
