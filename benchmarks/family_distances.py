"""Distances of every registered SCM family from the in-distribution family ``id``, with the
family's varsortability and R^2-sortability (Reisach et al.) beside them.

    python benchmarks/family_distances.py [--datasets 10] [--nodes 10] [--samples 300] [--seed 0]

Each family (``id`` included, from an independent seed, which shows the within-family noise
floor) is summarised from ``--datasets`` observational data sets; see
``skcausal_meta.datasets.distances`` for the formula of every distance column. Sortabilities near
1 mean the causal order can be read off marginal variances (or R^2); that shortcut is why every
estimator standardises its input by default.
"""

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from skcausal_meta.datasets import (  # noqa: E402
    family_descriptors,
    family_distance,
    get_family,
    list_families,
    summarize_family,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    kw = dict(n_datasets=args.datasets, n_nodes=args.nodes, n_samples=args.samples)
    reference = summarize_family("id", random_state=args.seed, **kw)
    rows = {}
    for name in list_families():
        shift = get_family(name).shift
        own = {"n_nodes": None} if "nodes" in shift else {"n_samples": None} if "samples" in shift else {}
        summary = summarize_family(name, random_state=args.seed + 1, **{**kw, **own})  # size shifts keep their size
        sortability = family_descriptors(name, random_state=args.seed + 2, **{**kw, **own})
        rows[name] = {"shift": "+".join(shift) or "none", **family_distance(reference, summary),
                      "varsort": sortability["varsortability_mean"], "r2sort": sortability["r2_sortability_mean"]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(f"Distances from 'id' ({args.datasets} data sets per family, n={args.samples})")
        print(table)


if __name__ == "__main__":
    main()
