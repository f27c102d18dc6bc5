"""Compare two runs of one benchmark config, cell by cell: did a change keep the results?

    python benchmarks/compare_results.py BEFORE/results.csv AFTER/results.csv [--rename n_samples=n_graphs]

Rows are matched on (model, variant, family, dataset, params); ``--rename`` rewrites a parameter
key in BEFORE's params first (for a renamed parameter). Every column present in both runs is
compared except times, errors and run ids (equal to 1e-9 relative, NaN equal to NaN), and the
differing cells are counted per column and model. Rows of one run only are listed by model.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

KEY = ["model", "variant", "family", "dataset", "params"]


def compare(before: pd.DataFrame, after: pd.DataFrame) -> dict:
    """``{"matched", "only_before", "only_after", "compared", "differ"}`` of two results tables."""
    skip = {"time", "error", "run_id", *KEY} | {c for c in before.columns if c.startswith("timing_")}
    columns = [c for c in before.columns if c in after.columns and c not in skip]
    merged = before.merge(after, on=KEY, how="outer", suffixes=("_before", "_after"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    differ = {}
    for column in columns:
        old, new = both[f"{column}_before"], both[f"{column}_after"]
        if pd.api.types.is_numeric_dtype(old) and pd.api.types.is_numeric_dtype(new):
            same = np.isclose(old.astype(float), new.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True)
        else:
            same = (old.astype(str) == new.astype(str)).to_numpy()
        if not same.all():
            differ[column] = both.loc[~same, "model"].value_counts().to_dict()
    only = {side: merged.loc[merged["_merge"] == flag, "model"].value_counts().to_dict()
            for side, flag in (("only_before", "left_only"), ("only_after", "right_only"))}
    return {"matched": len(both), **only, "compared": columns, "differ": differ}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="a parameter key renamed between the runs")
    args = parser.parse_args(argv)
    before, after = pd.read_csv(args.before), pd.read_csv(args.after)
    for rename in args.rename:
        old, new = rename.split("=", 1)
        before["params"] = before["params"].str.replace(f'"{old}"', f'"{new}"', regex=False)
    print(json.dumps(compare(before, after), indent=1))


if __name__ == "__main__":
    main()
