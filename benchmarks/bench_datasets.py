"""Data sets generated per second for every registered family (d = 20, n = 1000 by default).

    python benchmarks/bench_datasets.py [--nodes 20] [--samples 1000] [--interventional 0] [--repeats 20]

Each family is timed on ``--repeats`` data sets after one warm-up data set, single-threaded BLAS,
in this process. Generation is vectorised over rows (a Python loop runs over nodes only).
"""

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from skcausal_meta.datasets import list_families, make_scm_family  # noqa: E402


def time_family(name, d, n, n_int, repeats):
    make_scm_family(name, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=n_int, random_state=0)
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        make_scm_family(name, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=n_int, random_state=seed + 1)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--interventional", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--families", nargs="*", default=None)
    args = parser.parse_args(argv)
    print(f"d={args.nodes} n={args.samples} n_interventional={args.interventional} (median of {args.repeats})")
    print(f"{'family':24s} {'ms/data set':>12s} {'data sets/s':>12s}")
    for name in args.families or list_families():
        t = time_family(name, args.nodes, args.samples, args.interventional, args.repeats)
        print(f"{name:24s} {1e3 * t:12.2f} {1 / t:12.1f}")


if __name__ == "__main__":
    main()
