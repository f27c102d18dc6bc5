"""Print a bcnp_table run next to the reference numbers, with the difference.

    python benchmarks/published/compare.py runs/bcnp_table_quick [--reference benchmarks/published/bcnp_table.csv]

For every (mechanism, edges, method, metric) of the reference file: our mean over the run's data
sets with its 95% bootstrap interval (:func:`skcausal_meta.pipeline.report.bootstrap_interval`, as
in report.md), the reference value (the paper's where ``bcnp_table.csv`` has one, else the
authors' repository's, the column saying which), ``ours - reference``, and ``outside`` when the
reference lies outside our interval: a gap larger than the data-set sampling error (no claim
where the interval is undefined: one data set, or an infinite value such as a log probability of
-inf). Families are
matched by the names of ``benchmarks/bcnp_table*.yml``: ``bcnp_{mechanism}_er{edges}``.
"""

import argparse
import csv
from pathlib import Path

import numpy as np

from skcausal_meta.pipeline import load_results
from skcausal_meta.pipeline.report import bootstrap_interval

REFERENCE = Path(__file__).with_name("bcnp_table.csv")


def compare(run_dir, reference=REFERENCE) -> list[dict]:
    """One row per reference entry: ours (mean, lo, hi, n), reference, its source, difference."""
    frame = load_results(run_dir)
    frame = frame[frame["status"] == "ok"]
    rows = []
    with open(reference, newline="") as fh:
        for ref in csv.DictReader(fh):
            which = "paper" if ref["paper"] else "authors_repo"
            value = float(ref[which]) if ref[which] else float("nan")
            family = f"bcnp_{ref['mechanism']}_er{ref['edges']}"
            ours = frame.loc[(frame["family"] == family) & (frame["variant"] == ref["method"]), ref["metric"]]
            ours = ours.to_numpy(dtype=float) if ref["metric"] in frame.columns else np.array([])
            ours = ours[~np.isnan(ours)]
            mean = float(ours.mean()) if ours.size else float("nan")
            lo, hi = bootstrap_interval(ours)
            rows.append({**{k: ref[k] for k in ("mechanism", "edges", "method", "metric")}, "ours": mean, "lo": lo,
                         "hi": hi, "n": ours.size, "reference": value, "reference_from": which,
                         "difference": mean - value,
                         "outside": bool(np.isfinite([lo, hi]).all() and not lo <= value <= hi)})
    return rows


def markdown(rows) -> str:
    lines = ["| mechanism | edges | method | metric | ours [95% interval] | reference | from | ours - ref | gap |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = "-" if not r["n"] else (f"{r['ours']:.3g} [{r['lo']:.3g}, {r['hi']:.3g}]" if r["n"] > 1
                                       else f"{r['ours']:.3g}")
        lines.append(f"| {r['mechanism']} | {r['edges']} | {r['method']} | {r['metric']} | {ours} | "
                     f"{r['reference']:.3g} | {r['reference_from']} | {r['difference']:+.3g} | "
                     f"{'outside' if r['outside'] else ''} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    print(markdown(compare(args.run_dir, args.reference)))


if __name__ == "__main__":
    main()
