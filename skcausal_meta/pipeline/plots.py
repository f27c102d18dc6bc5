"""The report's PNG plots, drawn from the per-metric summary tables of a run.

For every metric, from ``{metric: summary}`` tables (one row per family and variant with the
``mean``, standard error ``se`` and count ``n`` over data sets, as
:func:`skcausal_meta.pipeline.report.summarize` makes them):

- ``{metric}_by_family.png``: bars per family and variant, mean ± s.e.;
- ``{metric}_heatmap.png``: a family x variant grid of the means, each cell annotated, coloured so
  that the better end of the scale has the same colour for every metric;
- ``{metric}_vs_distance.png``: the means against each distance component of the family from the
  reference family, every family named next to its points;
- ``{metric}_degradation.png``: families ordered by their distance from the reference (the
  data-level ``mmd`` component where there is one), one line per variant through its means with
  95% t-intervals, ``mean ± t(0.975, n-1) * se``, and each line named at its end.

The last two need the run's distances (``distances.json``); without them only the first two are
drawn. Plots need matplotlib (the ``plot`` extra); without it they are skipped with a warning.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from .._files import atomic_write_bytes
from .scoring import LOWER_IS_BETTER, NO_DIRECTION, metric_caption

__all__ = ["degradation_plot", "metric_heatmap", "write_plots"]

#: the distance that orders the degradation plot when the run has it: the MMD between per-data-set
#: statistics is defined for every pair of families, whatever shifts (graph, mechanism, noise, size)
ORDER_BY = "mmd"


def _grid(table: pd.DataFrame, families: list[str], models: list[str], column: str) -> np.ndarray:
    """``(len(families), len(models))`` array of ``column`` from a summary table, NaN where absent."""
    indexed = table.set_index(["family", "variant"])[column]
    return np.array([[indexed.get((f, m), np.nan) for m in models] for f in families], dtype=float)


def _t_halfwidth(se: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Half-width of the 95% t-interval of a mean, ``t(0.975, n-1) * se`` (NaN below two data sets)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        quantile = stats.t.ppf(0.975, np.where(n >= 2, n - 1, np.nan))
    return quantile * np.asarray(se, dtype=float)


def metric_heatmap(table: pd.DataFrame, families: list[str], models: list[str], metric: str):
    """A family x variant heatmap of the mean of ``metric``, every cell annotated with its value.

    Parameters
    ----------
    table : DataFrame
        Summary of the metric: columns ``family``, ``variant``, ``mean``, ``se``, ``n``.
    families, models : list of str
        Row and column order (families and variants absent from ``table`` show as empty cells).
    metric : str
        The metric's name; colours run from worse (red) to better (green) for metrics with a
        direction, along ``viridis`` for those without (entropies).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from skcausal_meta.pipeline.plots import metric_heatmap
    >>> table = pd.DataFrame({"family": ["id", "id", "ood", "ood"], "variant": ["a", "b", "a", "b"],
    ...                       "mean": [0.9, 0.8, 0.6, 0.7], "se": [0.01] * 4, "n": [5] * 4})
    >>> fig = metric_heatmap(table, ["id", "ood"], ["a", "b"], "edge_auroc")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['0.9', '0.8', '0.6', '0.7']
    """
    import matplotlib.pyplot as plt

    means = _grid(table, families, models, "mean")
    if metric in NO_DIRECTION:
        cmap = plt.get_cmap("viridis")
    else:
        cmap = plt.get_cmap("RdYlGn_r" if metric in LOWER_IS_BETTER else "RdYlGn")
    cmap = cmap.with_extremes(bad="lightgrey")
    fig, ax = plt.subplots(figsize=(2.5 + 1.1 * len(models), 1.6 + 0.45 * len(families)))
    image = ax.imshow(np.ma.masked_invalid(means), cmap=cmap, aspect="auto")
    for (i, j), value in np.ndenumerate(means):
        if not np.isfinite(value):
            ax.text(j, i, "-", ha="center", va="center", fontsize="small")
            continue
        red, green, blue, _ = image.to_rgba(value)
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5  # perceived brightness of the cell
        ax.text(j, i, f"{value + 0.0:.3g}", ha="center", va="center", fontsize="small",
                color="black" if light else "white")
    ax.set_xticks(np.arange(len(models)), models, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(families)), families)
    fig.colorbar(image, ax=ax, label=metric)
    ax.set_title(f"{metric_caption(metric)}: mean over data sets")
    fig.tight_layout()
    return fig


def degradation_plot(table: pd.DataFrame, families: list[str], models: list[str], metric: str,
                     distances: dict, component: str = ORDER_BY):
    """``metric`` per variant along the families ordered by their distance from the reference.

    Families sit at evenly spaced positions in order of the ``component`` distance, labelled with
    their name and distance; each variant is a line through its means with 95% t-intervals
    (``mean ± t(0.975, n-1) * se``; none for a single data set), slightly offset sideways so that
    intervals do not hide each other, and named at its right end. Families without a distance are
    left out.

    Parameters
    ----------
    table : DataFrame
        Summary of the metric: columns ``family``, ``variant``, ``mean``, ``se``, ``n``.
    families, models : list of str
        The families to place and the variants to draw.
    metric : str
    distances : dict
        ``{"reference": name, "families": {name: {component: value}}}`` (``distances.json``).
    component : str, default="mmd"
        The distance that orders the families; the first component of the record when it has
        no such one.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from skcausal_meta.pipeline.plots import degradation_plot
    >>> table = pd.DataFrame({"family": ["id", "far", "near"], "variant": ["a"] * 3,
    ...                       "mean": [0.9, 0.5, 0.8], "se": [0.02] * 3, "n": [5] * 3})
    >>> distances = {"reference": "id", "families": {"id": {"mmd": 0.0}, "far": {"mmd": 0.4},
    ...                                              "near": {"mmd": 0.1}}}
    >>> fig = degradation_plot(table, ["id", "far", "near"], ["a"], "edge_auroc", distances)
    >>> [t.get_text().split()[0] for t in fig.axes[0].get_xticklabels()]
    ['id', 'near', 'far']
    """
    import matplotlib.pyplot as plt

    record = distances["families"]
    first = next(iter(record.values()), {})
    if component not in first:
        component = next(k for k in first if k != "key")
    placed = sorted((f for f in families if component in record.get(f, {})), key=lambda f: record[f][component])
    means = _grid(table, placed, models, "mean")
    halfwidth = _t_halfwidth(_grid(table, placed, models, "se"), _grid(table, placed, models, "n"))
    x = np.arange(len(placed), dtype=float)
    offsets = 0.25 * (np.arange(len(models)) - (len(models) - 1) / 2) / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 * len(placed) + 2.5), 4.8))
    for k, model in enumerate(models):
        line = ax.errorbar(x + offsets[k], means[:, k], yerr=halfwidth[:, k], marker="o", capsize=2, label=model)
        shown = np.flatnonzero(np.isfinite(means[:, k]))
        if shown.size:
            last = shown[-1]
            ax.annotate(model, (x[last] + offsets[k], means[last, k]), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize="small", color=line.lines[0].get_color())
    ax.set_xticks(x, [f"{f}\n{component} {record[f][component]:.2g}" for f in placed], rotation=45, ha="right",
                  fontsize="small")
    ax.set_xlim(-0.5, len(placed) - 0.5 + 0.6)  # room for the line names
    ax.set_ylabel(metric_caption(metric))
    ax.set_title(f"{metric} as the family moves away from {distances['reference']!r} (by {component})\n"
                 "mean and 95% t-interval over data sets", fontsize="medium")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _by_family(table, families, models, metric):
    import matplotlib.pyplot as plt

    means, se = _grid(table, families, models, "mean"), _grid(table, families, models, "se")
    width = 0.8 / len(models)
    x = np.arange(len(families))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(families) * len(models) ** 0.5), 4.5))
    fig.subplots_adjust(bottom=0.3, top=0.9)
    for k, model in enumerate(models):
        ax.bar(x + (k - (len(models) - 1) / 2) * width, means[:, k], width, yerr=se[:, k], label=model, capsize=2)
    ax.set_xticks(x, families, rotation=45, ha="right")
    ax.set_title(f"{metric_caption(metric)} per family, mean ± s.e.")
    ax.legend(fontsize="small")
    return fig


def _vs_distance(table, families, models, metric, distances):
    import matplotlib.pyplot as plt

    means, se = _grid(table, families, models, "mean"), _grid(table, families, models, "se")
    components = [k for k in next(iter(distances["families"].values())) if k != "key"]
    n_cols = min(4, len(components))
    n_rows = -(-len(components) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.2 * n_cols, 2.8 * n_rows), squeeze=False, sharey=True)
    fig.subplots_adjust(hspace=0.45, wspace=0.1, top=0.88, bottom=0.15)
    top = np.where(np.isfinite(means), means, -np.inf).max(axis=1)
    for ax, component in zip(axes.flat, components):
        dist = np.array([distances["families"].get(f, {}).get(component, np.nan) for f in families])
        for k, model in enumerate(models):
            ax.errorbar(dist, means[:, k], yerr=se[:, k], fmt="o", label=model, capsize=2, alpha=0.8)
        for family, d, y in zip(families, dist, top):  # name each family above its highest point
            if np.isfinite(d) and np.isfinite(y):
                ax.annotate(family, (d, y), xytext=(0, 4), textcoords="offset points", ha="center",
                            fontsize="x-small", rotation=30)
        ax.set_xlabel(component)
        ax.margins(x=0.1, y=0.15)  # room for the family names
    for ax in axes.flat[len(components):]:
        ax.set_axis_off()
    axes.flat[0].legend(fontsize="small")
    fig.suptitle(f"{metric_caption(metric)} against each family's distance from {distances['reference']!r}")
    return fig


def _save_figure(fig, path: Path) -> None:
    """Write ``fig`` as a PNG atomically, so that a killed run never leaves a truncated plot."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    atomic_write_bytes(path, buffer.getvalue())


def _metric_plots(metric: str, table, families, models, distances, folder: Path) -> list[Path]:
    """Draw and write the plots of one metric (one job of :func:`write_plots`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {"by_family": lambda: _by_family(table, families, models, metric),
               "heatmap": lambda: metric_heatmap(table, families, models, metric)}
    if distances.get("families"):
        figures["vs_distance"] = lambda: _vs_distance(table, families, models, metric, distances)
        figures["degradation"] = lambda: degradation_plot(table, families, models, metric, distances)
    written = []
    for kind, draw in figures.items():
        fig = draw()
        written.append(folder / f"{metric}_{kind}.png")
        _save_figure(fig, written[-1])
        plt.close(fig)
    return written


def write_plots(tables: dict, families: list[str], models: list[str], distances: dict, folder,
                n_jobs: int = 1) -> list[Path]:
    """Draw every plot of the module docstring into ``folder``; returns the paths written.

    ``tables`` maps each metric to its summary (columns ``family``, ``variant``, ``mean``, ``se``,
    ``n``); ``distances`` is the run's distances record, or an empty dict. ``n_jobs`` processes
    draw the metrics' plots side by side (joblib; drawing is most of a report's time).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from skcausal_meta.pipeline.plots import write_plots
    >>> table = pd.DataFrame({"family": ["id", "id", "ood", "ood"], "variant": ["a", "b", "a", "b"],
    ...                       "mean": [0.9, 0.8, 0.6, 0.7], "se": [0.01] * 4, "n": [5] * 4})
    >>> distances = {"reference": "id", "families": {"id": {"mmd": 0.0}, "ood": {"mmd": 0.3}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with_distances = write_plots({"edge_auroc": table}, ["id", "ood"], ["a", "b"], distances, tmp)
    ...     without = write_plots({"edge_auroc": table}, ["id", "ood"], ["a", "b"], {}, tmp)
    >>> [path.name for path in with_distances]
    ['edge_auroc_by_family.png', 'edge_auroc_heatmap.png', 'edge_auroc_vs_distance.png',
     'edge_auroc_degradation.png']
    >>> [path.name for path in without]
    ['edge_auroc_by_family.png', 'edge_auroc_heatmap.png']
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        warnings.warn("plots skipped: matplotlib is missing (pip install 'skcausal-meta[plot]')", stacklevel=3)
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [delayed(_metric_plots)(metric, table, families, models, distances, folder)
            for metric, table in tables.items()]
    n_jobs = max(1, min(os.cpu_count() or 1 if n_jobs < 0 else n_jobs, len(jobs)))
    per_metric = Parallel(n_jobs=n_jobs, backend="loky")(jobs)  # one job: in this process
    return [path for paths in per_metric for path in paths]
