"""Report plots: files per metric, heatmap cells and colours, the degradation plot's order,
intervals and labels, family labels on the distance scatter."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("matplotlib", reason="plots need the 'plot' extra (matplotlib)")
import matplotlib.pyplot as plt  # noqa: E402

from skcausal_meta.pipeline.plots import _vs_distance, degradation_plot, metric_heatmap, write_plots  # noqa: E402

FAMILIES = ["id", "ood_far", "ood_near"]
MODELS = ["avici", "dibs"]
DISTANCES = {"reference": "id", "families": {
    "id": {"key": "k0", "density": 0.0, "mmd": 0.001},
    "ood_far": {"key": "k1", "density": 0.1, "mmd": 0.5},
    "ood_near": {"key": "k2", "density": 0.3, "mmd": 0.05},
}}


def _table(means, n=5, se=0.02):
    rows = [{"family": f, "variant": m, "mean": means[(f, m)], "se": se if n > 1 else np.nan, "n": n}
            for f in FAMILIES for m in MODELS if (f, m) in means]
    return pd.DataFrame(rows)


AUROC = _table({("id", "avici"): 0.95, ("id", "dibs"): 0.8, ("ood_far", "avici"): 0.5, ("ood_far", "dibs"): 0.75,
                ("ood_near", "avici"): 0.85})  # dibs has no ood_near cell


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_write_plots_draws_four_kinds_per_metric_with_distances_two_without(tmp_path):
    tables = {"edge_auroc": AUROC, "e_shd": AUROC.assign(mean=10 * AUROC["mean"])}
    paths = write_plots(tables, FAMILIES, MODELS, DISTANCES, tmp_path / "with")
    kinds = ("by_family", "heatmap", "vs_distance", "degradation")
    assert sorted(p.name for p in paths) == sorted(f"{m}_{k}.png" for m in tables for k in kinds)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    without = write_plots(tables, FAMILIES, MODELS, {}, tmp_path / "without")
    assert sorted(p.name for p in without) == sorted(f"{m}_{k}.png" for m in tables for k in kinds[:2])


def test_heatmap_labels_every_cell_and_colours_the_better_end_green():
    fig = metric_heatmap(AUROC, FAMILIES, MODELS, "edge_auroc")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == FAMILIES
    assert [t.get_text() for t in ax.get_xticklabels()] == MODELS
    assert [t.get_text() for t in ax.texts] == ["0.95", "0.8", "0.5", "0.75", "0.85", "-"]
    assert "edge_auroc (higher is better)" in ax.get_title()

    def green_minus_red(fig, value):
        r, g, _, _ = fig.axes[0].images[0].to_rgba(value)
        return g - r

    assert green_minus_red(fig, 0.95) > 0 > green_minus_red(fig, 0.5)
    shd = metric_heatmap(AUROC.assign(mean=10 * AUROC["mean"]), FAMILIES, MODELS, "e_shd")  # lower is better
    assert green_minus_red(shd, 5.0) > 0 > green_minus_red(shd, 9.5)


def test_degradation_orders_families_by_mmd_with_t_intervals_and_named_lines():
    fig = degradation_plot(AUROC, FAMILIES, MODELS, "edge_auroc", DISTANCES)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["id\nmmd 0.001", "ood_near\nmmd 0.05", "ood_far\nmmd 0.5"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == MODELS
    # each line is named at its last point: avici at ood_far, dibs at ood_far too (ood_near missing)
    assert sorted(t.get_text() for t in ax.texts) == MODELS
    avici = ax.containers[0]
    x, y = avici.lines[0].get_data()
    np.testing.assert_allclose(y, [0.95, 0.85, 0.5])
    (low, high), *_ = [segment[:, 1] for segment in avici.lines[2][0].get_segments()]
    half = stats.t.ppf(0.975, 4) * 0.02
    assert (low, high) == pytest.approx((0.95 - half, 0.95 + half))


def test_degradation_falls_back_to_the_first_component_and_skips_families_without_distance():
    distances = {"reference": "id", "families": {f: {"key": "k", "density": v}
                                                 for f, v in [("id", 0.0), ("ood_far", 0.2)]}}
    fig = degradation_plot(_table({("id", "avici"): 0.9, ("ood_far", "avici"): 0.6, ("ood_near", "avici"): 0.7}, n=1),
                           FAMILIES, ["avici"], "edge_auroc", distances)
    ax = fig.axes[0]
    assert [t.get_text().split()[0] for t in ax.get_xticklabels()] == ["id", "ood_far"]
    assert "(by density)" in ax.get_title()
    _, _, (bars,) = ax.containers[0].lines
    assert all(segment.size == 0 for segment in bars.get_segments())  # one data set: no interval drawn


def test_distance_scatter_names_every_family():
    fig = _vs_distance(AUROC, FAMILIES, MODELS, "edge_auroc", DISTANCES)
    for ax in fig.axes[:2]:  # density, mmd
        assert sorted(t.get_text() for t in ax.texts) == sorted(FAMILIES)
