"""How close is each method's posterior to the exact one? Linear-Gaussian data at d = 3, 4, 5.

At up to five nodes every DAG can be listed (25, 543 and 29,281 of them), so the posterior
``p(G | D) ∝ p(G) BGe(D | G)`` is computed exactly: the BGe marginal likelihood that DiBS's
``marginal`` preset uses (:class:`skcausal_meta.models.likelihoods.BGe`, on the z-scored data
the estimators see) with DiBS's graph prior (Erdos-Renyi, 2 expected edges per node, which at
d <= 5 is capped at edge probability 1/2, the uniform prior over graphs). Every method is fitted
to the same data and its posterior ``q`` is compared with ``p``:

* ``edge MAE``: mean absolute difference of the off-diagonal edge marginals;
* ``TV DAG``: total variation ``1/2 sum_G |q(G) - p(G)|`` over DAGs, with the mass ``q`` puts on
  cyclic graphs counted in full;
* ``TV MEC``: the same over Markov equivalence classes (the BGe posterior is score equivalent, so
  only the class is identified from observational data);
* ``log q(G*)`` and ``log p(G*)``: the log probability of the true graph under the method
  (:func:`skcausal_meta.metrics.log_prob_true_graph`: exact where the model defines it, else the
  product of edge marginals, marked ``*``) and under the exact posterior.

``q`` is the method's own distribution where it has one in closed form: AVICI's independent
edges (``prod_ij`` Bernoulli, evaluated on every DAG) and the weighted graphs of DiBS, PC, GES and
the baselines. BCNP's is known only through its samples, so its TV includes the error of a
finite sample; the reference row ``exact (S samples)`` shows that error for exact samples of the
same number. Results are means over data sets. ::

    python benchmarks/exact_posterior.py --out runs/exact_posterior            # about 4 min on 2 cores
    python benchmarks/exact_posterior.py --out /tmp/exact --quick              # d = 3, 4; seconds

Writes ``results.csv`` (one row per method and data set), ``table.md`` and ``exact_posterior.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from skcausal_meta.datasets import SCMFamily, make_scm_family
from skcausal_meta.graph_utils import dag_to_cpdag, enumerate_dags
from skcausal_meta.metrics import log_prob_true_graph

FAMILY = Path(__file__).parent / "families" / "id_linear_er.yml"
EDGES_PER_NODE = 2.0  # DiBS's default ER prior


def exact_posterior(Z, edges_per_node=EDGES_PER_NODE):
    """All DAGs on ``Z.shape[1]`` nodes and their exact log posterior under BGe and DiBS's prior.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Observational data, already z-scored as the estimators do.
    edges_per_node : float
        Expected edges per node of the Erdos-Renyi graph prior.

    Returns
    -------
    dags : ndarray of shape (n_dags, d, d), dtype int8
    log_posterior : ndarray of shape (n_dags,)
        Normalised: ``logsumexp(log_posterior) == 0``.
    """
    import torch

    from skcausal_meta.models.dibs.models import log_graph_prior
    from skcausal_meta.models.likelihoods import BGe

    dags = enumerate_dags(Z.shape[1])
    graphs = torch.tensor(dags, dtype=torch.float64)
    bge = BGe(torch.tensor(Z, dtype=torch.float64), torch.zeros(Z.shape, dtype=torch.bool))
    log_joint = (bge.log_marginal_likelihood(graphs) + log_graph_prior(graphs, "er", edges_per_node)).numpy()
    return dags, log_joint - logsumexp(log_joint)


def _keys(graphs):
    """One bytes key per graph (for matching graphs to the enumeration)."""
    return [g.tobytes() for g in np.ascontiguousarray(graphs, dtype=np.int8)]


def _methods(seed, quick):
    """name -> (estimator, how its distribution over graphs is read)."""
    from skcausal_meta.models.avici import AviciEstimator
    from skcausal_meta.models.baselines import (
        CorrelationEstimator,
        GESEstimator,
        PartialCorrelationEstimator,
        PCEstimator,
        R2SortnRegressEstimator,
        RandomDAGEstimator,
        VarSortnRegressEstimator,
    )
    from skcausal_meta.models.bcnp import BCNPEstimator
    from skcausal_meta.models.dibs import DibsEstimator

    dibs = {"n_steps": 100} if quick else {}
    return {
        "dibs (marginal)": (DibsEstimator(preset="marginal", random_state=seed, **dibs), "weights"),
        "avici": (AviciEstimator(n_graphs=1000, random_state=seed), "independent"),
        "bcnp": (BCNPEstimator(n_graphs=1000, random_state=seed), "samples"),
        "pc (bootstrap)": (PCEstimator(n_bootstrap=20, random_state=seed), "weights"),
        "ges (bootstrap)": (GESEstimator(n_bootstrap=10, random_state=seed), "weights"),
        "var_sortnregress": (VarSortnRegressEstimator(), "weights"),
        "r2_sortnregress": (R2SortnRegressEstimator(), "weights"),
        "correlation": (CorrelationEstimator(random_state=seed), "weights"),
        "partial_correlation": (PartialCorrelationEstimator(random_state=seed), "weights"),
        "random_dag": (RandomDAGEstimator(random_state=seed), "weights"),
    }


def _distribution(posterior, kind, dags, index):
    """``q`` over the enumerated DAGs and the mass outside them (cyclic graphs)."""
    if kind == "independent":  # product of Bernoulli edges, exactly, on every DAG
        p = np.clip(posterior.edge_probs, 1e-12, 1 - 1e-12)
        off = ~np.eye(dags.shape[1], dtype=bool)
        log_q = (dags[:, off] * np.log(p[off]) + (1 - dags[:, off]) * np.log1p(-p[off])).sum(axis=1)
        q = np.exp(log_q)
        return q, max(1.0 - q.sum(), 0.0)
    q = np.zeros(len(dags))
    outside = 0.0
    for key, w in zip(_keys(posterior.samples), posterior.weights):
        if key in index:
            q[index[key]] += w
        else:
            outside += w
    return q, outside


def _compare(p, q, outside, mec):
    """Total variation over DAGs and over equivalence classes (``mec``: class id of each DAG)."""
    tv_dag = 0.5 * (np.abs(q - p).sum() + outside)
    n_classes = mec.max() + 1
    tv_mec = 0.5 * (np.abs(np.bincount(mec, q, n_classes) - np.bincount(mec, p, n_classes)).sum() + outside)
    return tv_dag, tv_mec


def run(n_nodes, n_datasets, n_samples, quick, seed=0):
    """One row per (d, data set, method); see the module docstring for the columns."""
    family = SCMFamily.from_yaml(FAMILY)
    rows = []
    for d in n_nodes:
        X_all, _, truths = make_scm_family(family, n_datasets, n_nodes=d, n_samples=n_samples, n_interventional=0,
                                           random_state=seed + d)
        dags = enumerate_dags(d)
        index = {key: k for k, key in enumerate(_keys(dags))}
        _, mec = np.unique(np.stack([dag_to_cpdag(g) for g in dags]).reshape(len(dags), -1), axis=0,
                           return_inverse=True)
        mec = mec.ravel()
        off = ~np.eye(d, dtype=bool)
        for k, (X, truth) in enumerate(zip(X_all, truths)):
            Z = (X - X.mean(axis=0)) / X.std(axis=0)
            _, log_p = exact_posterior(Z)
            p = np.exp(log_p)
            marginals = np.tensordot(p, dags.astype(float), axes=1)
            log_p_true = float(log_p[index[_keys(truth[None])[0]]])
            base = {"d": d, "dataset": k, "n_dags": len(dags), "log_p_true_exact": log_p_true}
            # reference: S exact samples, the finite-sample floor of a sampled posterior's TV
            rng = np.random.default_rng(seed + 1000 * d + k)
            draws = np.bincount(rng.choice(len(dags), size=1000, p=p / p.sum()), minlength=len(dags)) / 1000
            q_marg = np.tensordot(draws, dags.astype(float), axes=1)
            rows.append({**base, "method": "exact (1000 samples)",
                         "edge_mae": float(np.abs(q_marg - marginals)[off].mean()),
                         **dict(zip(("tv_dag", "tv_mec"), _compare(p, draws, 0.0, mec))),
                         "log_q_true": float(np.log(draws[index[_keys(truth[None])[0]]])), "log_q_source": "samples",
                         "time_s": 0.0})
            for name, (estimator, kind) in _methods(seed + k, quick).items():
                start = time.perf_counter()
                posterior = estimator.fit(X).predict_graph_posterior()
                elapsed = time.perf_counter() - start
                q, outside = _distribution(posterior, kind, dags, index)
                tv_dag, tv_mec = _compare(p, q, outside, mec)
                log_q, source = log_prob_true_graph(truth, posterior, return_source=True)
                rows.append({**base, "method": name,
                             "edge_mae": float(np.abs(posterior.edge_probs - marginals)[off].mean()),
                             "tv_dag": tv_dag, "tv_mec": tv_mec, "log_q_true": log_q, "log_q_source": source,
                             "time_s": elapsed})
            print(f"d={d} data set {k}: done", flush=True)
    return pd.DataFrame(rows)


def table(results: pd.DataFrame) -> str:
    """Markdown table of the means over data sets, one block of rows per ``d``."""
    order = list(dict.fromkeys(results["method"]))
    grouped = results.groupby(["d", "method"], sort=False)
    summary = grouped[["edge_mae", "tv_dag", "tv_mec", "log_q_true", "log_p_true_exact", "time_s"]].mean()
    marginal = grouped["log_q_source"].agg(lambda s: (s == "marginals").any())
    lines = ["| d | method | edge MAE | TV DAG | TV MEC | log q(G*) | log p(G*) | time (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for d in sorted(results["d"].unique()):
        for method in order:
            if (d, method) not in summary.index:
                continue
            r = summary.loc[(d, method)]
            star = "*" if marginal.loc[(d, method)] else ""
            lines.append(f"| {d} | {method} | {r.edge_mae:.3f} | {r.tv_dag:.3f} | {r.tv_mec:.3f} | "
                         f"{r.log_q_true:.2f}{star} | {r.log_p_true_exact:.2f} | {r.time_s:.1f} |")
    n = results.groupby("d")["dataset"].nunique()
    lines.append("")
    lines.append(f"Means over {', '.join(f'{v} (d = {k})' for k, v in n.items())} data sets. "
                 "`*`: product of edge marginals (the model defines no graph probability); "
                 "`-inf`: a marginal of 0 or 1 that the true graph contradicts.")
    return "\n".join(lines)


def plot(results: pd.DataFrame, path: Path) -> None:
    """Edge MAE and TV over MECs per method, one line per ``d``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(dict.fromkeys(results["method"]))
    means = results.groupby(["method", "d"])[["edge_mae", "tv_mec"]].mean()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, column, label in zip(axes, ("edge_mae", "tv_mec"), ("edge-marginal MAE", "total variation over MECs")):
        for d in sorted(results["d"].unique()):
            values = [means.loc[(m, d), column] if (m, d) in means.index else np.nan for m in order]
            ax.plot(values, range(len(order)), "o", label=f"d = {d}")
        ax.set_xlabel(f"{label} (lower is better)")
        ax.grid(alpha=0.3)
    axes[0].set_yticks(range(len(order)), order)
    axes[0].invert_yaxis()
    axes[1].legend()
    fig.suptitle("Distance to the exact BGe posterior, linear-Gaussian data")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--quick", action="store_true", help="d = 3, 4, one data set, short DiBS runs")
    parser.add_argument("--n-datasets", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=100, help="rows per data set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_nodes, n_datasets = ((3, 4), 1) if args.quick else ((3, 4, 5), args.n_datasets)
    results = run(n_nodes, n_datasets, args.n_samples, args.quick, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    (args.out / "table.md").write_text(table(results) + "\n")
    plot(results, args.out / "exact_posterior.png")
    print(table(results))
    print(f"wrote {args.out}/results.csv, table.md, exact_posterior.png")


if __name__ == "__main__":
    main()
