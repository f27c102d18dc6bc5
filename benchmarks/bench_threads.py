"""Every estimator's default ``fit`` against its one-thread ``fit``, on quiet and on busy cores.

    python benchmarks/bench_threads.py [--repeats 3] [--busy 2] [--models NAME ...]

One ``benchmarks/ood.yml`` task's data (d = 10, 200 observational + 50 interventional rows,
:func:`bench_per_dataset.ood_like_data`), each registered model with its ood.yml settings
(shortened where a fit would take minutes: the ratio is per step). "default" is ``fit`` as a
user calls it in a fresh process with torch's and BLAS's default thread counts; "1 thread" runs
the same fit with ``torch.set_num_threads(1)`` and one BLAS thread (``threadpoolctl``). "busy"
repeats both while ``--busy`` processes spin on the cores. The table gives median seconds and
the ratio default / 1 thread: above 1.10 the default is a trap.
"""

import argparse
import multiprocessing
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench_per_dataset import ood_like_data

MODELS = {
    "bayesdag": dict(n_chains=4, n_steps=200, thinning=25),
    "dibs": dict(preset="marginal", n_steps=200),
    "avici": dict(n_graphs=100),
    "bcnp": dict(n_graphs=100),
    "pc": dict(n_bootstrap=10),
    "ges": dict(n_bootstrap=5),
    "partial_correlation": {},
}


def _spin(stop):
    while not stop.is_set():
        pass


def fit_seconds(name, params, X, mask, one_thread, repeats):
    """Median wall seconds of ``make_estimator(name, **params).fit`` over ``repeats`` seeds."""
    from skcausal_meta.models.registry import get_estimator_class

    times = []
    for seed in range(repeats + 1):  # the first fit pays the imports and is not counted
        estimator = get_estimator_class(name)(**params, random_state=seed)
        before = torch.get_num_threads()
        start = time.perf_counter()
        if one_thread:
            torch.set_num_threads(1)
            with threadpool_limits(1):
                estimator.fit(X, interventions=mask)
            torch.set_num_threads(before)
        else:
            estimator.fit(X, interventions=mask)
        if seed:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=2, help="spinning processes for the busy rows")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args(argv)
    X, mask = ood_like_data()
    rows = []
    for load in ("quiet", "busy"):
        stop = multiprocessing.Event()
        spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.busy if load == "busy" else 0)]
        for p in spinners:
            p.start()
        try:
            for name in args.models:
                default = fit_seconds(name, MODELS[name], X, mask, False, args.repeats)
                single = fit_seconds(name, MODELS[name], X, mask, True, args.repeats)
                rows.append((name, load, default, single))
                print(f"{name:20} {load:6} default {default:8.3f} s   1 thread {single:8.3f} s   "
                      f"ratio {default / single:5.2f}", flush=True)
        finally:
            stop.set()
            for p in spinners:
                p.join()
    print(f"\ntorch threads by default: {torch.get_num_threads()}; cores: {multiprocessing.cpu_count()}")
    print("| model | load | default fit (s) | 1-thread fit (s) | default / 1 thread |\n|---|---|--:|--:|--:|")
    for name, load, default, single in rows:
        print(f"| {name} | {load} | {default:.3f} | {single:.3f} | {default / single:.2f} |")


if __name__ == "__main__":
    main()
