"""Where an AVICI checkpoint loses to GES on observational linear-Gaussian ER data (d = 20).

Issue 4's last open row: AVICI's edge AUROC on lin-Gauss ER d = 20 with observational rows only.
This splits that AUROC into what the data can tell apart:

* skeleton AUROC: the pairs i < j scored by p_ij + p_ji (the probability of an edge either way
  in a posterior over DAGs) against adjacency in the true graph;
* orientation: the mean of p_ij / (p_ij + p_ji) over the true edges i -> j (0.5 is no
  information; reversible edges of the Markov equivalence class keep it below 1 even for an
  exact posterior),

next to the directed edge AUROC, for several numbers of rows cut from the same data sets (drawn
once with the most rows asked for). The data sets are those of ``eval_amortized.py``'s
"lin-Gauss ER d=20 obs" row by graph (same family, size and seed; their graphs are in the
held-out hash files every shipped run excluded), with freshly drawn rows. ``--chunk-rows R`` adds,
for each checkpoint, the mean edge probabilities of passes over consecutive chunks of R rows.

    python benchmarks/observational_gap.py [--checkpoint avici_lin_er ...] [--rows 200 1000]
        [--n-datasets 8] [--n-nodes 20] [--seed 10004] [--no-ges] [--chunk-rows 200]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from skcausal_meta.datasets import SCMFamily, make_scm_family  # noqa: E402
from skcausal_meta.metrics import edge_auroc  # noqa: E402

FAMILY = Path(__file__).parent / "families" / "id_linear_er.yml"
SEED = 10_004  # eval_amortized.py's seed of the setting "lin-Gauss ER d=20 obs"


def split_scores(graph, probs) -> tuple[float, float, float]:
    """Directed edge AUROC, skeleton AUROC and orientation of edge probabilities ``probs``."""
    upper = np.triu_indices(len(graph), 1)
    adjacent = (graph + graph.T)[upper] > 0
    either_way = (probs + probs.T)[upper]
    i, j = np.nonzero(graph)
    orientation = np.mean(probs[i, j] / np.maximum(probs[i, j] + probs[j, i], 1e-12))
    return edge_auroc(graph, probs), float(roc_auc_score(adjacent, either_way)), float(orientation)


class ChunkMean:
    """AVICI's edge probabilities averaged over passes on consecutive chunks of ``rows`` rows."""

    def __init__(self, checkpoint, rows):
        self.checkpoint, self.rows = checkpoint, rows

    def fit(self, x):
        from skcausal_meta.models.avici import AviciEstimator

        chunks = [x[k:k + self.rows] for k in range(0, len(x) - self.rows + 1, self.rows)]
        self.edge_probs = np.mean([AviciEstimator(checkpoint=self.checkpoint, device="cpu").fit(c).edge_probs_
                                   for c in chunks], axis=0)
        return self

    def predict_graph_posterior(self):
        return self


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", nargs="+", default=["avici_lin_er"], help="AVICI checkpoints (names or paths)")
    parser.add_argument("--rows", nargs="+", type=int, default=[200, 1000], help="numbers of observational rows")
    parser.add_argument("--n-datasets", type=int, default=8)
    parser.add_argument("--n-nodes", type=int, default=20, help="variables per data set")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the data sets (default: the held-out row's)")
    parser.add_argument("--no-ges", dest="ges", action="store_false", help="leave out GES (causal-learn)")
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="also score AVICI by the mean edge probabilities of passes over consecutive chunks "
                             "of this many rows (rows after the last whole chunk are left out)")
    args = parser.parse_args(argv)
    if args.chunk_rows is not None and not 0 < args.chunk_rows <= min(args.rows):
        parser.error(f"--chunk-rows must lie in [1, {min(args.rows)}] (the fewest --rows), got {args.chunk_rows}")
    import torch

    from skcausal_meta.models.avici import AviciEstimator

    torch.set_num_threads(1)
    models = {f"avici:{Path(c).name}": (lambda c=c: AviciEstimator(checkpoint=c, device="cpu"))
              for c in args.checkpoint}
    if args.chunk_rows:
        models.update({f"avici:{Path(c).name}/{args.chunk_rows}": (lambda c=c: ChunkMean(c, args.chunk_rows))
                       for c in args.checkpoint})
    if args.ges:
        from skcausal_meta.models.baselines import GESEstimator

        models["ges"] = lambda: GESEstimator(random_state=0)
    X, _, graphs = make_scm_family(SCMFamily.from_yaml(FAMILY), n_datasets=args.n_datasets, n_nodes=args.n_nodes,
                                   n_samples=max(args.rows), n_interventional=0, random_state=args.seed)
    print(f"{'model':24s} {'rows':>5s} {'sets':>4s} {'AUROC':>7s} {'skeleton':>8s} {'orient.':>7s} {'s/set':>6s}")
    for name, make in models.items():
        for n in args.rows:
            start, scores = time.perf_counter(), []
            for x, graph in zip(X, graphs):
                probs = make().fit(x[:n]).predict_graph_posterior().edge_probs
                scores.append(split_scores(graph, probs))
            mean = np.mean(scores, axis=0)
            seconds = (time.perf_counter() - start) / len(graphs)
            print(f"{name:24s} {n:5d} {len(graphs):4d} {mean[0]:7.3f} {mean[1]:8.3f} {mean[2]:7.3f} {seconds:6.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
