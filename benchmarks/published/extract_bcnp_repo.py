"""Write bcnp_table.csv from the BCNP authors' repository result files.

The reference numbers of ``benchmarks/bcnp_table.yml`` (Dhir et al., "A Meta-Learning Approach to
Bayesian Causal Discovery", ICLR 2025; d = 20, n = 1000, linear / neural-network / GP mechanisms
on ER graphs with 20, 40, 60 edges). The paper's own table could not be read with the tools this
project had (only the abstract of the paper's text was reachable), so its column ``paper`` is
empty; ``authors_repo`` holds the means over the 25 test data sets of the per-data-set result files
in the authors' repository github.com/Anish144/CausalStructureNeuralProcess, aggregated as its
``plotting/plot_results.py`` does (DiBS: the best log probability over its additive epsilons).
The model folders are the ones that script's commented ``model_key`` names AVICI
(``transformer_*``) and BCNP (``probabilistic_*``), trained per data family; whether these files
are the exact ones behind the paper's table is not verified.

    git clone https://github.com/Anish144/CausalStructureNeuralProcess /tmp/bcnp-repo
    python benchmarks/published/extract_bcnp_repo.py /tmp/bcnp-repo [--rev d2c73b9]
"""

import argparse
import csv
import json
import subprocess
from pathlib import Path

import numpy as np

BASE = "ml2_meta_causal_discovery/experiments/causal_classification"
MECHANISMS = {"linear": "linear", "neuralnet": "mlp", "gplvm": "gp"}  # theirs -> our family names
MODELS = {"avici": "transformer", "bcnp": "probabilistic"}
DIBS_EPSILONS = ["1e_8", "1e_7", "1e_6", "1e_5", "1e_4", "1e_3", "1e_2"]
FIELDS = ["mechanism", "edges", "method", "metric", "paper", "authors_repo", "source"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a clone of Anish144/CausalStructureNeuralProcess")
    parser.add_argument("--rev", default="d2c73b9a84c67221d2f622ea574a421d2b089556")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("bcnp_table.csv"))
    args = parser.parse_args(argv)

    def git(*command):
        return subprocess.run(["git", "-C", str(args.repo), *command], capture_output=True, check=True,
                              text=True).stdout

    def load(path):
        return json.loads(git("show", f"{args.rev}:{path}"))

    rows = []
    for theirs, mechanism in MECHANISMS.items():
        for edges in (20, 40, 60):
            data = f"{theirs}_20var_ER{edges}"
            folder = f"{BASE}/baseline_results/dibs/{data}_test/"
            runs = [load(p) for p in git("ls-tree", "--name-only", args.rev, folder).split()]
            values = {"dibs": ({"edge_auroc": [r["AUC"] for r in runs], "e_shd": [r["SHD"] for r in runs],
                                "log_prob_true_graph": [max(r[f"log_prob_{e}"] for e in DIBS_EPSILONS) for r in runs]},
                               folder + "*.json")}
            for method, prefix in MODELS.items():
                path = f"{BASE}/models/{prefix}_{data}_NH8_NE4_ND4_DM256_DF512_BS32/{data}_results.json"
                result = load(path)
                values[method] = ({"edge_auroc": result["auc"], "e_shd": result["e_shd"],
                                   "log_prob_true_graph": result["log_prob"]}, path)
            for method in ("avici", "bcnp", "dibs"):
                metrics, path = values[method]
                for metric, per_dataset in metrics.items():
                    rows.append({"mechanism": mechanism, "edges": edges, "method": method, "metric": metric,
                                 "paper": "", "authors_repo": f"{np.mean(per_dataset):.4g}",
                                 "source": f"Anish144/CausalStructureNeuralProcess@{args.rev[:7]}:{path} "
                                           f"(mean of {len(per_dataset)})"})
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
