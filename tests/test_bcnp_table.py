"""The BCNP-table configs, the reference numbers and the published-vs-ours comparison."""

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skcausal_meta.pipeline import load_config
from skcausal_meta.pipeline.report import bootstrap_interval
from skcausal_meta.pipeline.tasks import expand_tasks

REPO = Path(__file__).resolve().parents[1]
FAMILIES = {f"bcnp_{m}_er{e}" for m in ("linear", "mlp", "gp") for e in (20, 40, 60)}


def load_compare():
    spec = importlib.util.spec_from_file_location("compare", REPO / "benchmarks" / "published" / "compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, n_datasets", [("bcnp_table", 25), ("bcnp_table_quick", 3)])
def test_configs_are_the_papers_grid(name, n_datasets):
    config = load_config(REPO / "benchmarks" / f"{name}.yml")
    assert {f.name for f in config.families} == FAMILIES
    for entry in config.families:
        family = entry.family()
        edges = int(entry.name.rsplit("er", 1)[1])
        assert family.graph[0].edges_per_node == edges / 20 and family.n_nodes == 20
        assert family.mechanism[0].kind == entry.name.split("_")[1]
    assert (config.data.n_nodes, config.data.n_samples, config.data.n_interventional) == (20, 1000, 0)
    assert config.data.n_datasets == n_datasets
    assert [m.key for m in config.models] == ["avici", "bcnp", "dibs"]
    assert {"edge_auroc", "e_shd", "log_prob_true_graph"} <= set(config.metrics)
    assert len(expand_tasks(config)) == 9 * n_datasets * 3


def test_reference_file_cites_a_source_for_every_number():
    with open(REPO / "benchmarks" / "published" / "bcnp_table.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = {(r["mechanism"], r["edges"], r["method"], r["metric"]) for r in rows}
    assert len(rows) == len(keys) == 3 * 3 * 3 * 3
    for row in rows:
        assert row["paper"] or row["authors_repo"]
        assert row["source"].startswith("Anish144/CausalStructureNeuralProcess@")
        float(row["authors_repo"])


def test_compare_reports_difference_and_gaps(tmp_path, monkeypatch):
    compare = load_compare()
    reference = tmp_path / "ref.csv"
    reference.write_text("mechanism,edges,method,metric,paper,authors_repo,source\n"
                         "linear,20,bcnp,edge_auroc,,0.9,x\n"
                         "linear,20,bcnp,e_shd,12,30,x\n"
                         "gp,60,dibs,e_shd,,50,x\n"
                         "linear,20,bcnp,log_prob_true_graph,,-60,x\n")
    auroc, shd = np.array([0.7, 0.8, 0.75]), np.array([11.0, 13.0, 12.5])
    frame = pd.DataFrame({"family": "bcnp_linear_er20", "variant": "bcnp", "status": "ok", "edge_auroc": auroc,
                          "e_shd": shd, "log_prob_true_graph": [-70.0, -np.inf, -65.0]})
    monkeypatch.setattr(compare, "load_results", lambda run_dir: frame)
    rows = compare.compare(tmp_path, reference)
    assert rows[0]["difference"] == pytest.approx(auroc.mean() - 0.9)
    assert (rows[0]["lo"], rows[0]["hi"]) == bootstrap_interval(auroc) and rows[0]["outside"]
    assert rows[1]["reference_from"] == "paper" and rows[1]["reference"] == 12 and not rows[1]["outside"]
    assert rows[2]["n"] == 0 and not rows[2]["outside"]  # no run of that family: no claim
    assert rows[3]["ours"] == -np.inf and not rows[3]["outside"]  # an infinite value: no interval, no claim
    table = compare.markdown(rows)
    assert "| linear | 20 | bcnp | edge_auroc | 0.75 [" in table and "| -0.15 | outside |" in table
