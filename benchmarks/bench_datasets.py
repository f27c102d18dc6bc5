"""Data sets generated per second for every registered family (d = 20, n = 1000 by default).

    python benchmarks/bench_datasets.py [--nodes 20] [--samples 1000] [--interventional 0]
                                        [--repeats 20] [--families NAME ...] [--clock {wall,cpu}]

Each family is timed on ``--repeats`` data sets after one warm-up data set, single-threaded BLAS,
in this process. Besides the registered families, ``id[linear]`` and ``id[rff]`` are the ``id``
family restricted to one of its mechanisms (the counterparts of ``avici.simulate_data``'s
``lin-gauss`` and ``rff-gauss``). ``--clock cpu`` reports this process's CPU time, which other
processes competing for the cores disturb less than the wall clock. Generation is vectorised
over rows (a Python loop runs over nodes only); of the RFF time, most is the cosines of the
features (``n * 100`` per non-root node, in single precision).
"""

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from skcausal_meta.datasets import SCMFamily, get_family, list_families, make_scm_family  # noqa: E402

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def id_variants() -> dict:
    """The ``id`` family restricted to each of its mechanisms, keyed ``id[kind]``."""
    spec = get_family("id").to_dict()
    return {f"id[{m['type']}]": SCMFamily.from_dict({**spec, "name": f"id[{m['type']}]", "mechanism": [m]})
            for m in spec["mechanism"]}


def time_family(family, d, n, n_int, repeats, clock=time.perf_counter):
    """Median seconds of ``make_scm_family(family, n_datasets=1, ...)`` over ``repeats`` seeds."""
    make_scm_family(family, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=n_int, random_state=0)
    times = []
    for seed in range(repeats):
        start = clock()
        make_scm_family(family, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=n_int, random_state=seed + 1)
        times.append(clock() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--interventional", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--families", nargs="*", default=None, help="registered names, id[linear] or id[rff]")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args(argv)
    variants = id_variants()
    names = args.families or [*list_families()[:1], *variants, *list_families()[1:]]
    unknown = [name for name in names if name not in variants and name not in list_families()]
    if unknown:
        parser.error(f"unknown families {unknown}; known: {list(variants) + list_families()}")
    print(f"d={args.nodes} n={args.samples} n_interventional={args.interventional} "
          f"(median of {args.repeats}, {args.clock} clock)")
    print(f"{'family':24s} {'ms/data set':>12s} {'data sets/s':>12s}")
    for name in names:
        t = time_family(variants.get(name, name), args.nodes, args.samples, args.interventional, args.repeats,
                        CLOCKS[args.clock])
        print(f"{name:24s} {1e3 * t:12.2f} {1 / t:12.1f}")


if __name__ == "__main__":
    main()
