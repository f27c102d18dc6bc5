"""Var- and R^2-sortability of each benchmarked family, from the run's own data sets.

A family whose data are strongly sortable can be solved by sorting the nodes by marginal variance
(or by R^2) and regressing each on its predecessors, which the trivial ``var_sortnregress`` and
``r2_sortnregress`` baselines do (Reisach et al. 2021, 2023); the report prints these values next
to those baselines so that a reader sees why a trivial method scores well. They are computed by
the runner in the parent process from the observational training rows of every data set of the
run (:func:`~skcausal_meta.pipeline.tasks.load_task_data`: the data-set cache, or a real family's
seeded splits, against its consensus graph), a few milliseconds per data set, and stored in
``{run_dir}/sortability.json`` so that the report is rebuilt from the run folder alone. The file
is a cache: an entry is recomputed only when what determines its family's data sets changes (so
a resumed run with nothing pending loads no data), and a file that cannot be read is ignored
with a warning and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import traceback
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .._files import atomic_write_bytes, read_cache
from .._validation import is_dag
from ..datasets import r2_sortability, varsortability
from .config import Config, FamilyConfig
from .real import real_options
from .tasks import data_spec, inline_families, load_task_data

__all__ = ["SORTABILITY_FILE", "SORTABILITIES", "compute_sortability", "read_sortability"]

SORTABILITY_FILE = "sortability.json"
#: name -> function(X, graph) of each descriptor stored per data set
SORTABILITIES = {"varsortability": varsortability, "r2_sortability": r2_sortability}


def _values(data) -> dict:
    """Each sortability of one data set (:class:`TaskData`) from its observational rows; ``None``
    where it is undefined: a graph without edges, a cyclic one (a real data set's consensus graph
    may have feedback loops, and there is no causal order to sort by), or fewer than two
    observational rows."""
    X = data.X[~np.asarray(data.mask, dtype=bool).any(axis=1)]
    defined = len(X) >= 2 and is_dag(np.asarray(data.graph))
    out = {}
    for name, function in SORTABILITIES.items():
        value = function(X, data.graph) if defined else float("nan")
        out[name] = None if math.isnan(value) else float(value)
    return out


def _key(config: Config, entry: FamilyConfig) -> str:
    """Hash of what determines the family's data sets: its definition, sizes, seed and count."""
    if entry.is_real:
        what = {"real": entry.name, "options": real_options(entry.name, entry.options),
                **asdict(config.real_sizes(entry)), "n_datasets": config.data.n_datasets}
    else:
        what = {"family": entry.family().to_dict(), **data_spec(config, entry).model_dump()}
    what["seed"] = config.data.seed
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def compute_sortability(config: Config, run_dir) -> dict:
    """Sortabilities of every data set of every config family, cached in ``sortability.json``.

    Returns
    -------
    dict
        ``{"families": {name: {"key": hash, descriptor: [value or None per data set]}}}``, plus
        ``"failed": {name: reason}`` for families whose data sets could not be made (tried again
        on the next call).
    """
    with inline_families(config):  # data-set specs name their families
        keys = {entry.name: _key(config, entry) for entry in config.families}
    cached = read_sortability(run_dir).get("families", {})
    families, failed = {}, {}
    indices = range(config.data.n_datasets)
    for entry in config.families:
        if cached.get(entry.name, {}).get("key") == keys[entry.name]:
            families[entry.name] = cached[entry.name]
            continue
        try:
            data = load_task_data(config, entry, indices)
        except ValueError:
            failed[entry.name] = traceback.format_exc().strip().splitlines()[-1]
            continue
        values = [_values(data[i]) for i in indices]
        families[entry.name] = {"key": keys[entry.name], **{name: [v[name] for v in values] for name in SORTABILITIES}}
    result = {"families": families, **({"failed": failed} if failed else {})}
    atomic_write_bytes(Path(run_dir) / SORTABILITY_FILE, json.dumps(result, indent=1).encode())
    return result


def _check_record(record) -> dict:
    families = record.get("families") if isinstance(record, dict) else None
    ok = isinstance(families, dict) and all(
        isinstance(entry, dict) and set(entry) == {"key", *SORTABILITIES} and isinstance(entry["key"], str)
        and all(isinstance(entry[name], list) and all(x is None or isinstance(x, (int, float)) for x in entry[name])
                for name in SORTABILITIES)
        for entry in families.values())
    if not ok:
        raise ValueError("it is not a sortability record ({'families': {name: {'key': hash, descriptor: "
                         "[values]}}})")
    return record


def read_sortability(run_dir) -> dict:
    """The record :func:`compute_sortability` wrote, or an empty dict (no file, or an unreadable
    one: a warning says so and the report goes on without sortabilities)."""
    return read_cache(Path(run_dir) / SORTABILITY_FILE, _check_record, "sortability file")
