"""Aggregate a run folder into ``results.csv``, ``report.md`` and PNG plots, from artifacts alone.

- ``results.csv``: one row per task (model, variant, family, shift axes, data set, parameters,
  status, every metric, timings, the last line of an error); a model run with several parameter
  sets has one *variant* per set, named by the parameters that differ, e.g. ``dibs[n_steps=100]``;
- ``report.md``: one table per metric, families x variants, ``mean [lo, hi]`` over data sets
  (a 95% percentile-bootstrap interval of the mean, :func:`bootstrap_interval`; NaN values, e.g.
  an undefined AUROC, are left out), a rank table per metric with a direction (rank 1 is best in
  each family; the last row is the mean rank over families), each family's var- and
  R^2-sortability (``sortability.json``, :mod:`.sortability`) with the same intervals, the
  family distances and the failed tasks;
- ``plots/{metric}_{kind}.png``: per metric, bars per family, a family x variant heatmap, and,
  with the run's distances (``distances.json``), the means against each distance component and a
  degradation plot along the families ordered by distance (:mod:`.plots` describes each).

Plots need matplotlib (the ``plot`` extra); without it they are skipped with a warning. Every file
is derived from the artifacts and rewritten, atomically, by each call: none is ever read back, so
a damaged one is simply replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_write_bytes
from .artifacts import iter_artifacts
from .distances import read_distances
from .scoring import METRICS, NO_DIRECTION, metric_caption
from .plots import write_plots
from .sortability import SORTABILITIES, read_sortability

__all__ = ["load_results", "summarize", "bootstrap_interval", "rank_table", "write_report"]

N_RESAMPLES = 1000
LEVEL = 0.95


def load_results(run_dir) -> pd.DataFrame:
    """One row per valid task artifact of the run (a corrupt artifact is left out, with a warning).

    Examples
    --------
    >>> import tempfile
    >>> from skcausal_meta.pipeline import load_results, run_benchmark
    >>> config = {"name": "tiny", "families": ["id"], "models": [{"name": "empty"}, {"name": "correlation"}],
    ...           "data": {"n_datasets": 2, "n_nodes": 3, "n_samples": 50, "n_test": 20, "n_test_interventional": 20},
    ...           "metrics": ["e_shd", "edge_auroc"], "report": {"plots": False, "distances": False}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config["data"]["cache"] = f"{tmp}/cache"
    ...     _ = run_benchmark(config, output_dir=tmp, progress=False)
    ...     results = load_results(tmp)
    >>> results[["variant", "family", "dataset", "status", "e_shd", "edge_auroc"]]
           variant family  dataset status  e_shd  edge_auroc
    0  correlation     id        0     ok   2.06      0.6875
    1  correlation     id        1     ok   2.08      0.7500
    2        empty     id        0     ok   2.00      0.5000
    3        empty     id        1     ok   2.00      0.5000
    >>> results.groupby("variant")["edge_auroc"].mean()
    variant
    correlation    0.71875
    empty          0.50000
    Name: edge_auroc, dtype: float64
    """
    rows = []
    for _, record in iter_artifacts(run_dir):
        config, outcome, timings = record["config"], record["metrics"], record["timings"]
        params = {k: v for k, v in config["params"].items() if k not in ("random_state", "device")}
        error = (outcome.get("error") or "").strip().splitlines()
        rows.append({
            "model": config["model"], "estimator": config["estimator"], "family": config["family"],
            "shift": "+".join(config["shift"]) or "none", "dataset": config["dataset"], "run_id": config["run_id"],
            "params": json.dumps(params, sort_keys=True), "status": outcome["status"],
            **outcome["metrics"], **{f"timing_{k}": v for k, v in timings.items()},
            "error": error[-1] if error else "",
        })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame.insert(1, "variant", _variants(frame))
    return frame.sort_values(["family", "variant", "dataset"], kind="stable").reset_index(drop=True)


def _variants(frame: pd.DataFrame) -> pd.Series:
    """``model`` for a model with one parameter set, else ``model[k=v,...]`` over the grid keys
    whose values differ between its tasks (so every grid point gets its own table column)."""
    params = frame["params"].map(json.loads)
    out = frame["model"].copy()
    for model, index in frame.groupby("model").groups.items():
        sets = params.loc[index]
        keys = sorted({k for p in sets for k in p})
        varying = [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in sets}) > 1]
        if varying:
            out.loc[index] = [f"{model}[" + ",".join(f"{k}={p.get(k)}" for k in varying) + "]" for p in sets]
    return out


def _metric_columns(frame: pd.DataFrame) -> list[str]:
    return [m for m in METRICS if m in frame.columns]


def bootstrap_interval(values, n_resamples: int = N_RESAMPLES, level: float = LEVEL, random_state=0):
    """Percentile-bootstrap interval ``(lo, hi)`` of the mean of ``values`` (NaN left out).

    Resamples the values with replacement ``n_resamples`` times and returns the ``(1 - level) / 2``
    and ``(1 + level) / 2`` quantiles of the resampled means: an interval over data sets that
    needs no normality assumption, where a few data sets and bounded metrics (AUROC near 1) make
    a t-interval leave the metric's range. Seeded (``random_state``), so a report is reproducible;
    ``(nan, nan)`` with fewer than two values.
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(random_state)
    means = values[rng.integers(0, values.size, size=(n_resamples, values.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def summarize(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean, standard error (``ddof=1``), bootstrap interval (``lo``, ``hi``) and count of
    ``metric`` per (family, variant) over successful tasks."""
    ok = frame[frame["status"] == "ok"]
    grouped = ok.groupby(["family", "variant"], sort=False)[metric]
    out = grouped.agg(mean="mean", sd=lambda v: v.std(ddof=1), n="count").reset_index()
    out["se"] = out["sd"] / np.sqrt(out["n"])
    intervals = np.array([bootstrap_interval(values) for _, values in grouped]).reshape(-1, 2)  # same group order
    out["lo"], out["hi"] = intervals[:, 0], intervals[:, 1]
    return out.drop(columns="sd")


def rank_table(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rank of each variant within each family by the mean of ``metric`` (1 is best, ties share
    their mean rank), families x variants, from a :func:`summarize` table.

    The direction is the metric's (:data:`~skcausal_meta.pipeline.scoring.METRICS`); a variant
    without a value in a family (all its tasks failed or undefined) gets no rank there.
    """
    if METRICS[metric].greater_is_better is None:
        raise ValueError(f"metric {metric!r} has no better direction to rank by")
    means = summary.pivot(index="family", columns="variant", values="mean")
    return means.rank(axis=1, ascending=not METRICS[metric].greater_is_better, method="average")


def _family_order(frame: pd.DataFrame, reference: str | None) -> list[str]:
    """The reference first, then families without a shift, the shifted ones, and real data last."""
    families = frame[["family", "shift"]].drop_duplicates()
    key = families.apply(lambda r: (r["family"] != reference, r["shift"] != "none", r["shift"] == "real",
                                    r["shift"], r["family"]), axis=1)
    return families.assign(key=key).sort_values("key")["family"].tolist()


def _cell(mean, lo, hi, n) -> str:
    """``mean [lo, hi]`` (three significant digits; just the mean without an interval)."""
    if n == 0:
        return "-"
    mean, lo, hi = mean + 0.0, lo + 0.0, hi + 0.0  # -0.0 prints as "-0"
    if n == 1 or not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{mean:.3g}"
    return f"{mean:.3g} [{lo:.3g}, {hi:.3g}]"


def _rank_lines(tables: dict, families: list[str], models: list[str]) -> list[str]:
    lines = ["## Ranks", "", "Per family, the variants ranked by the mean of each metric (1 is best; ties share "
             "their mean rank); the last row is the mean rank over the families where the variant has one.", ""]
    for metric, summary in tables.items():
        if metric in NO_DIRECTION:
            continue
        ranks = rank_table(summary, metric).reindex(index=families, columns=models)
        lines += [f"### {metric_caption(metric)}", "", "| family | " + " | ".join(models) + " |",
                  "|---" * (len(models) + 1) + "|"]
        for family, row in list(ranks.iterrows()) + [("**mean rank**", ranks.mean(axis=0))]:
            lines.append(f"| {family} | " + " | ".join("-" if np.isnan(r) else f"{r:.3g}" for r in row) + " |")
        lines.append("")
    return lines


def _sortability_lines(sortability: dict, families: list[str]) -> list[str]:
    if not sortability.get("families"):
        return []
    lines = ["## Sortability of each family", "",
             "Mean [95% bootstrap interval] over the run's data sets (observational rows, true graph; data sets "
             "without edges left out). Near 1, sorting the nodes by marginal variance (varsortability) or by R^2 "
             "finds the causal order, which `var_sortnregress` and `r2_sortnregress` exploit; 0.5 carries no "
             "order information.", "", "| family | " + " | ".join(SORTABILITIES) + " |",
             "|---" * (len(SORTABILITIES) + 1) + "|"]
    for family in families:
        values = sortability["families"].get(family)
        if values is None:
            continue
        cells = []
        for name in SORTABILITIES:
            column = np.array([np.nan if v is None else v for v in values[name]], dtype=float)
            n = int(np.sum(~np.isnan(column)))
            cells.append(_cell(np.nanmean(column), *bootstrap_interval(column), n) if n else "-")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    lines.append("")
    for family, reason in sortability.get("failed", {}).items():
        lines += [f"No sortability for `{family}`: {reason}", ""]
    return lines


def _markdown(frame: pd.DataFrame, tables: dict, families: list[str], models: list[str], distances: dict,
              sortability: dict) -> str:
    counts = frame.groupby("status").size().to_dict()
    lines = ["# Benchmark report", "", f"{len(frame)} tasks: {counts.get('ok', 0)} finished, "
             f"{counts.get('error', 0)} failed. Cells: mean [{LEVEL:.0%} interval] over data sets, a percentile "
             f"bootstrap of the mean ({N_RESAMPLES} resamples, seeded); a single data set shows its value only.", ""]
    real = sorted(frame.loc[frame["shift"] == "real", "family"].unique())
    if real:
        lines += [f"Real data ({', '.join(real)}): graph metrics against the consensus graph; NIL and I-NIL on "
                  "held-out rows of the data (there is no generating SCM); data sets are seeded splits of "
                  "the same rows.", ""]
    for metric, summary in tables.items():
        table = summary.set_index(["family", "variant"])
        lines += [f"## {metric_caption(metric)}", "", "| family | " + " | ".join(models) + " |",
                  "|---" * (len(models) + 1) + "|"]
        for family in families:
            cells = [_cell(*table.loc[(family, m), ["mean", "lo", "hi", "n"]]) if (family, m) in table.index else "-"
                     for m in models]
            lines.append(f"| {family} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += _rank_lines(tables, families, models)
    lines += _sortability_lines(sortability, families)
    if distances.get("families"):
        components = [k for k in next(iter(distances["families"].values())) if k != "key"]
        lines += [f"## Distance of each family from `{distances['reference']}`", "",
                  "| family | " + " | ".join(components) + " |", "|---" * (len(components) + 1) + "|"]
        for family in families:
            values = distances["families"].get(family, {})
            lines.append(f"| {family} | " + " | ".join(f"{values[c]:.3g}" if c in values else "-"
                                                       for c in components) + " |")
        lines.append("")
    for family, reason in distances.get("failed", {}).items():
        lines += [f"No distance for `{family}`: {reason}", ""]
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        lines += ["## Failed tasks", "", "| model | family | data set | error |", "|---|---|---|---|"]
        lines += [f"| {r.variant} | {r.family} | {r.dataset} | {r.error.replace('|', '/')} |"
                  for r in failed.itertuples()]
        lines.append("")
    return "\n".join(lines)


def write_report(run_dir, plots: bool = True, n_jobs: int = 1) -> dict:
    """Write ``results.csv``, ``report.md`` and (with ``plots``) the PNG plots of a run folder.

    ``n_jobs`` processes draw the plots (see :func:`~skcausal_meta.pipeline.plots.write_plots`).

    Returns the paths written (``"results"``, ``"report"``, ``"plots"``: a list).

    Raises
    ------
    ValueError
        If the folder holds no valid task artifact.

    Examples
    --------
    The report of a run folder, rebuilt from its task artifacts alone:

    >>> import tempfile
    >>> from skcausal_meta.pipeline import run_benchmark, write_report
    >>> config = {"name": "tiny", "families": ["id"], "models": [{"name": "empty"}, {"name": "correlation"}],
    ...           "data": {"n_datasets": 1, "n_nodes": 3, "n_samples": 50, "n_test": 20, "n_test_interventional": 20},
    ...           "metrics": ["e_shd"], "report": {"plots": False, "distances": False}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config["data"]["cache"] = f"{tmp}/cache"
    ...     _ = run_benchmark(config, output_dir=tmp, progress=False)
    ...     paths = write_report(tmp, plots=False)
    ...     print(paths["report"].read_text().split("## Ranks")[0])
    # Benchmark report
    <BLANKLINE>
    2 tasks: 2 finished, 0 failed. Cells: mean [95% interval] over data sets, a percentile bootstrap of the
    mean (1000 resamples, seeded); a single data set shows its value only.
    <BLANKLINE>
    ## e_shd (lower is better)
    <BLANKLINE>
    | family | correlation | empty |
    |---|---|---|
    | id | 2.06 | 2 |
    """
    run_dir = Path(run_dir)
    frame = load_results(run_dir)
    if frame.empty:
        raise ValueError(f"run_dir {str(run_dir)!r} holds no task artifacts under 'artifacts/'")
    distances = read_distances(run_dir)
    families = _family_order(frame, distances.get("reference"))
    models = list(dict.fromkeys(frame["variant"]))
    paths = {"results": run_dir / "results.csv", "report": run_dir / "report.md"}
    atomic_write_bytes(paths["results"], frame.to_csv(index=False).encode())
    tables = {metric: summarize(frame, metric) for metric in _metric_columns(frame)}
    atomic_write_bytes(paths["report"],
                       _markdown(frame, tables, families, models, distances, read_sortability(run_dir)).encode())
    paths["plots"] = write_plots(tables, families, models, distances, run_dir / "plots", n_jobs) if plots else []
    return paths
