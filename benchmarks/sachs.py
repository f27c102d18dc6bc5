"""Sachs rows of the o.o.d. benchmark: the real family ``sachs`` of ``benchmarks/ood.yml``, every model.

Runs the ``sachs`` entry of ``benchmarks/ood.yml`` alone through the benchmark runner, with that
file's sizes, seeds, models, parameters and metrics (so its tasks are those of the full benchmark),
and prints one row per model: E-SHD, edge AUROC and AUPRC against the consensus graph, held-out NIL
and I-NIL, and fit time, each as mean ± standard error over the seeded row splits (see
:mod:`skcausal_meta.pipeline.real`). The run folder holds the usual artifacts and ``report.md``.

    python benchmarks/sachs.py                                  # -> runs/ood-sachs
    python benchmarks/sachs.py --graph 20 --log --n-jobs 1 --output-dir runs/sachs-20-log
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from skcausal_meta.pipeline import load_results, run_benchmark
from skcausal_meta.pipeline.report import summarize

OOD = Path(__file__).with_name("ood.yml")
COLUMNS = ("e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil", "time")


def sachs_config(graph=None, log_transform=False, n_jobs=None, output_dir="runs/ood-sachs") -> dict:
    """``benchmarks/ood.yml`` restricted to its ``sachs`` family, with optional loader options."""
    config = yaml.safe_load(OOD.read_text())
    (entry,) = [e for e in config["families"] if (e if isinstance(e, str) else e["name"]) == "sachs"]
    entry = {"name": entry} if isinstance(entry, str) else dict(entry)
    options = dict(entry.get("options", {}))
    if graph is not None:
        options["graph"] = graph
    if log_transform:
        options["log_transform"] = True
    if options:
        entry["options"] = options
    config.update(name="ood-sachs", output_dir=output_dir, families=[entry])
    if n_jobs is not None:
        config["runtime"]["n_jobs"] = n_jobs
    return config


def table(run_dir) -> str:
    """Markdown table: one row per model variant, ``mean ± s.e.`` of each metric in :data:`COLUMNS`."""
    frame = load_results(run_dir)
    columns = [c for c in COLUMNS if c in frame.columns]
    stats = {c: summarize(frame, c).set_index("variant") for c in columns}
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for variant in dict.fromkeys(frame["variant"]):
        cells = [f"{s.loc[variant, 'mean']:.3g} ± {s.loc[variant, 'se']:.2g}" for s in stats.values()]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graph", choices=["17", "18", "20"], help="consensus graph (default: ood.yml's)")
    parser.add_argument("--log", action="store_true", help="log-transform the raw intensities")
    parser.add_argument("--n-jobs", type=int, help="workers (default: ood.yml's)")
    parser.add_argument("--output-dir", default="runs/ood-sachs")
    args = parser.parse_args(argv)
    config = sachs_config(args.graph, args.log, args.n_jobs, args.output_dir)
    summary = run_benchmark(config)
    print(f"{summary.n_tasks} tasks: {summary.n_skipped} already finished, {summary.n_run} run, "
          f"{summary.n_failed} failed; report: {summary.report['report']}")
    print(table(summary.run_dir))


if __name__ == "__main__":
    main()
