"""Sachs et al. (2005) rows: E-SHD, AUROC and AUPRC of every available estimator.

Fits each estimator once on the Sachs data (:func:`skcausal_meta.datasets.load_sachs`) and scores
its graph posterior against the chosen consensus graph. Estimators that cannot run here (an
optional dependency or a shipped checkpoint is missing) get a row that says why. The empty graph
and random ER DAGs are the reference rows.

    python benchmarks/sachs.py                      # 853 observational rows, 17-edge graph
    python benchmarks/sachs.py --rows all --graph 20 --out sachs.csv

Keep ``--n-bootstrap`` and the step counts small on a shared laptop; the defaults take a few
minutes on one CPU thread.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from skcausal_meta.datasets.descriptors import r2_sortability, varsortability
from skcausal_meta.datasets.real import load_sachs
from skcausal_meta.metrics import e_shd, edge_auprc, edge_auroc


def _estimators(args):
    """name -> zero-argument factory; imports happen inside, so a missing model is one row."""
    from skcausal_meta.models.baselines import EmptyGraphEstimator, GESEstimator, PCEstimator, RandomDAGEstimator

    def dibs():
        from skcausal_meta.models.dibs import DibsEstimator
        return DibsEstimator(n_steps=args.dibs_steps, random_state=args.seed)

    def bayesdag():
        from skcausal_meta.models.bayesdag import BayesDAGEstimator
        return BayesDAGEstimator(mechanism="linear", n_steps=args.bayesdag_steps, random_state=args.seed)

    def avici():
        from skcausal_meta.models.avici import AviciEstimator
        return AviciEstimator(random_state=args.seed)

    def bcnp():
        from skcausal_meta.models.bcnp import BCNPEstimator
        return BCNPEstimator(random_state=args.seed)

    B = args.n_bootstrap
    return {
        "DiBS (BGe, DiBS+)": dibs,
        "BayesDAG (linear)": bayesdag,
        "AVICI (shipped avici_id)": avici,
        "BCNP (shipped bcnp_id)": bcnp,
        "PC (point)": lambda: PCEstimator(random_state=args.seed),
        f"PC (bootstrap {B})": lambda: PCEstimator(n_bootstrap=B, n_extensions=1, random_state=args.seed),
        "GES (point)": lambda: GESEstimator(random_state=args.seed),
        f"GES (bootstrap {B})": lambda: GESEstimator(n_bootstrap=B, n_extensions=1, random_state=args.seed),
        "random ER-1 DAGs": lambda: RandomDAGEstimator(n_graphs=1000, random_state=args.seed),
        "empty graph": EmptyGraphEstimator,
    }


def run(args) -> pd.DataFrame:
    X, mask, graph = load_sachs(args.graph, observational_only=args.rows == "observational",
                                log_transform=args.log)
    print(f"Sachs: {X.shape[0]} rows, {int(mask.any(axis=1).sum())} intervened, {int(graph.sum())}-edge graph; "
          f"varsortability {varsortability(X.to_numpy(), graph):.3f}, "
          f"R^2-sortability {r2_sortability(X.to_numpy(), graph):.3f}", flush=True)
    rows = []
    for name, make in _estimators(args).items():
        row = {"estimator": name}
        try:
            start = time.perf_counter()
            posterior = make().fit(X, interventions=mask).predict_graph_posterior()
        except (ImportError, FileNotFoundError) as exc:
            rows.append({**row, "status": f"unavailable: {type(exc).__name__}: {exc}"[:160]})
            print(rows[-1], flush=True)
            continue
        row.update(
            status="ok",
            e_shd=e_shd(graph, posterior),
            auroc=edge_auroc(graph, posterior),
            auprc=edge_auprc(graph, posterior),
            expected_edges=float(posterior.edge_probs.sum()),
            n_graphs=posterior.n_samples,
            seconds=time.perf_counter() - start,
        )
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graph", choices=["17", "18", "20"], default="17", help="consensus graph")
    parser.add_argument("--rows", choices=["observational", "all"], default="observational",
                        help="the 853 cd3cd28 rows, or all 7466 rows with the intervention mask")
    parser.add_argument("--log", action="store_true", help="log-transform the raw intensities")
    parser.add_argument("--n-bootstrap", type=int, default=20, help="bootstrap fits of PC and GES")
    parser.add_argument("--dibs-steps", type=int, default=1000)
    parser.add_argument("--bayesdag-steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the table as CSV here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    table = run(args)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        table.to_csv(args.out, index=False)
    return table


if __name__ == "__main__":
    main()
