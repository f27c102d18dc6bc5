"""Bootstrap intervals, rank tables and the sortability section of the benchmark report."""

import json

import numpy as np
import pandas as pd
import pytest

from skcausal_meta.datasets import r2_sortability, varsortability
from skcausal_meta.pipeline.report import _markdown, bootstrap_interval, rank_table, summarize
from skcausal_meta.pipeline.sortability import SORTABILITY_FILE, _values, read_sortability
from skcausal_meta.pipeline.tasks import TaskData


def frame_of(values: dict) -> pd.DataFrame:
    """results.csv-like rows: ``{(family, variant): {metric: [value per data set]}}``."""
    rows = []
    for (family, variant), metrics in values.items():
        for i in range(len(next(iter(metrics.values())))):
            rows.append({"family": family, "variant": variant, "shift": "none", "dataset": i, "status": "ok",
                         "error": "", **{m: v[i] for m, v in metrics.items()}})
    return pd.DataFrame(rows)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = np.array([0.1, 0.4, 0.5, 0.9, 0.7])
    lo, hi = bootstrap_interval(values)
    assert (lo, hi) == bootstrap_interval(values)  # seeded
    assert values.min() < lo < values.mean() < hi < values.max()
    # percentile bootstrap of the mean: close to mean +- 1.96 * sd / sqrt(n) for a large sample
    big = np.random.default_rng(1).normal(size=400)
    lo, hi = bootstrap_interval(big)
    half = 1.96 * big.std() / np.sqrt(big.size)
    assert lo == pytest.approx(big.mean() - half, abs=0.25 * half)
    assert hi == pytest.approx(big.mean() + half, abs=0.25 * half)


def test_bootstrap_interval_leaves_out_nan_and_needs_two_values():
    assert bootstrap_interval([1.0, np.nan, 3.0]) == bootstrap_interval([1.0, 3.0])
    assert np.isnan(bootstrap_interval([2.0, np.nan])).all()
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_rank_table_follows_each_metric_direction():
    frame = frame_of({("f1", "a"): {"e_shd": [1, 1], "edge_auroc": [0.9, 0.9]},
                      ("f1", "b"): {"e_shd": [5, 5], "edge_auroc": [0.6, 0.6]},
                      ("f1", "c"): {"e_shd": [1, 1], "edge_auroc": [0.5, 0.5]},
                      ("f2", "a"): {"e_shd": [9, 9], "edge_auroc": [0.7, 0.7]},
                      ("f2", "b"): {"e_shd": [2, 2], "edge_auroc": [0.8, 0.8]}})
    shd = rank_table(summarize(frame, "e_shd"), "e_shd")  # lower is better, ties share the mean rank
    assert shd.loc["f1"].to_dict() == {"a": 1.5, "b": 3.0, "c": 1.5}
    assert shd.loc["f2", ["a", "b"]].tolist() == [2.0, 1.0] and np.isnan(shd.loc["f2", "c"])
    auroc = rank_table(summarize(frame, "edge_auroc"), "edge_auroc")  # higher is better
    assert auroc.loc["f1"].to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    with pytest.raises(ValueError, match="no better direction"):
        rank_table(summarize(frame.assign(graph_entropy=1.0), "graph_entropy"), "graph_entropy")


def test_markdown_cells_ranks_and_sortability():
    frame = frame_of({("f1", "a"): {"e_shd": [1.0, 3.0, 2.0]}, ("f1", "b"): {"e_shd": [4.0, 6.0, 5.0]},
                      ("f2", "a"): {"e_shd": [7.0, 7.0, 7.0]}, ("f2", "b"): {"e_shd": [0.0, 1.0, 2.0]}})
    tables = {"e_shd": summarize(frame, "e_shd")}
    sortability = {"families": {"f1": {"varsortability": [0.9, 1.0, None], "r2_sortability": [0.5, 0.5, None]}},
                   "failed": {"f2": "ValueError: too dense"}}
    report = _markdown(frame, tables, ["f1", "f2"], ["a", "b"], {}, sortability)
    lo, hi = bootstrap_interval([1.0, 3.0, 2.0])
    assert f"| f1 | 2 [{lo:.3g}, {hi:.3g}] |" in report
    assert "| f2 | 7 [7, 7] |" in report
    ranks = report.split("## Ranks")[1]
    assert "| f1 | 1 | 2 |" in ranks and "| f2 | 2 | 1 |" in ranks and "| **mean rank** | 1.5 | 1.5 |" in ranks
    section = report.split("## Sortability of each family")[1]
    var_lo, var_hi = bootstrap_interval([0.9, 1.0])
    assert f"| f1 | 0.95 [{var_lo:.3g}, {var_hi:.3g}] | 0.5 [0.5, 0.5] |" in section
    assert "No sortability for `f2`: ValueError: too dense" in section


def test_sortability_values_use_the_observational_rows_only():
    rng = np.random.default_rng(0)
    graph = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    X = np.cumsum(rng.normal(size=(60, 3)), axis=1)  # chain: variance grows along the order
    mask = np.zeros_like(X, dtype=bool)
    mask[40:, 0] = True
    X[40:, 0] = 100.0  # intervened rows that would change both scores
    values = _values(TaskData(X, mask, graph, X[:1], X[:1], mask[:1]))
    assert values == {"varsortability": varsortability(X[:40], graph), "r2_sortability": r2_sortability(X[:40], graph)}
    assert values["varsortability"] == 1.0
    cyclic = graph.copy()
    cyclic[2, 0] = 1  # 0 -> 1 -> 2 -> 0: no causal order to sort by
    for undefined in (np.zeros((3, 3), dtype=int), cyclic):
        assert _values(TaskData(X, mask, undefined, X[:1], X[:1], mask[:1])) == {"varsortability": None,
                                                                                 "r2_sortability": None}


def test_unreadable_sortability_file_is_ignored_with_a_warning(tmp_path):
    assert read_sortability(tmp_path) == {}
    (tmp_path / SORTABILITY_FILE).write_text(json.dumps({"families": {"f": {"key": "k", "varsortability": [0.5]}}}))
    with pytest.warns(UserWarning, match="ignoring the unreadable sortability file"):
        assert read_sortability(tmp_path) == {}
