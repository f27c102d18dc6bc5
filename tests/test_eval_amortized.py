"""Test of ``benchmarks/eval_amortized.py`` end to end (it no longer replays checkpoint lineages:
held-out graphs are excluded at training time with explicit files)."""

import importlib.util
import json
import re
from pathlib import Path

from skcausal_meta.datasets import list_families


def _eval_amortized():
    path = Path(__file__).parents[1] / "benchmarks" / "eval_amortized.py"
    spec = importlib.util.spec_from_file_location("eval_amortized", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_amortized_scores_every_test_set_and_resumes(tmp_path, capsys):
    eval_amortized = _eval_amortized()
    argv = ["--out", str(tmp_path), "--models", "avici", "--n-datasets", "2",
            "--settings", "id d=10 obs", "lin-Gauss ER d=20 obs"]
    eval_amortized.main(argv)
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [(r["setting"], r["index"]) for r in records] == [
        ("id d=10 obs", 0), ("id d=10 obs", 1), ("lin-Gauss ER d=20 obs", 0), ("lin-Gauss ER d=20 obs", 1)]
    assert all(0.5 < r["auroc"] <= 1 and r["model"] == "avici" for r in records)
    table = capsys.readouterr().out
    assert re.search(r"^lin-Gauss ER d=20 obs +avici +2 ", table, re.M)
    eval_amortized.main(argv)  # a rerun scores nothing again
    assert (tmp_path / "records.jsonl").read_text().count("\n") == 4
    assert "id_linear_er" not in list_families()  # the benchmark's family was registered only while used
