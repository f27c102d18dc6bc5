"""What each pair-statistics group adds: statistics-only AVICI networks, trained and scored alike.

Each row trains an AVICI network without attention (``n_layers=0``: the embedding, max-pooled over
rows, and the factorised pair head on the statistics; the issue's "statistics alone with a small
decoder") on the ``broad`` training family with all statistics groups, all but one, or one alone,
for the same steps and seed, and scores it on held-out ER-2 data sets of
``eval_statistics.py`` (directed edge AUROC, skeleton AUROC in brackets). Rows of the table:

    python benchmarks/ablation_statistics.py [--steps 400] [--settings lin20 mlp20 lin20_int]
        [--n-datasets 20] [--out runs/ablation.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from eval_statistics import HASH_FILE, skeleton_auroc, test_set  # noqa: E402

from skcausal_meta.metrics import edge_auroc  # noqa: E402
from skcausal_meta.models.amortized import TrainConfig, make_model_input, train  # noqa: E402
from skcausal_meta.models.components.statistics import STATISTICS  # noqa: E402

FAMILY = Path(__file__).parent / "families" / "broad.yml"
# the groups of the first statistics checkpoints (the later ones add conditioning-set, v-structure
# and likelihood evidence)
_FIRST = ("pearson", "partial", "spearman", "rank_partial", "hsic", "r2_gap", "interventional_shift")


def variants() -> dict[str, list[str]]:
    """Row name -> statistics groups."""
    groups = list(STATISTICS)
    rows = {"all groups": groups}
    rows.update({f"all but {g}": [h for h in groups if h != g] for g in groups})
    rows.update({f"{g} alone": [g] for g in ("pearson", "partial", "hsic", "partial_ols", "min_dependence",
                                             "bge_subsets")})
    rows["the first seven groups"] = list(_FIRST)
    return rows



def score(model, key: str, n_datasets: int) -> tuple[float, float]:
    X, masks, graphs = test_set(key, n_datasets)
    scores = []
    for x, m, g in zip(X, masks, graphs):
        inputs = torch.from_numpy(make_model_input(x, m if m.any() else None))[None]
        with torch.no_grad():
            probs = model.edge_probs(inputs)[0].double().numpy()
        scores.append((edge_auroc(g, probs), skeleton_auroc(g, probs)))
    return tuple(np.mean(scores, axis=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--settings", nargs="+", default=["lin20", "mlp20", "lin20_int"])
    parser.add_argument("--n-datasets", type=int, default=20)
    parser.add_argument("--rows", nargs="*", default=None, help="subset of the row names")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = TrainConfig(steps=args.steps, batch_size=8, n_nodes=[5, 30], n_samples=200, n_interventional=50,
                         lr=1e-3, warmup_steps=50, eval_every=args.steps, n_validation_batches=1, seed=7)
    lines = ["| statistics (no attention) | " + " | ".join(args.settings) + " | train s |",
             "|---" * (len(args.settings) + 2) + "|"]
    print("\n".join(lines), flush=True)
    for name, groups in variants().items():
        if args.rows and name not in args.rows:
            continue
        start = time.perf_counter()
        model, _ = train("avici", FAMILY, config, model_config={
            "dim": 32, "n_layers": 0, "n_heads": 2, "statistics": groups, "edge_head": "factorised"},
            exclude_graphs=[HASH_FILE], progress=False, device="cpu")
        seconds = time.perf_counter() - start
        cells = ["{:.3f} ({:.3f})".format(*score(model.eval(), key, args.n_datasets)) for key in args.settings]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {seconds:.0f} |")
        print(lines[-1], flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
