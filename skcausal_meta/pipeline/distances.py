"""Distances of each benchmarked family from the reference family, for metric-vs-distance plots.

Computed once per run in the parent (:func:`skcausal_meta.datasets.family_distance` on
``report.distance_datasets`` freshly sampled data sets per family, at the run's sizes) and stored
in ``{run_dir}/distances.json``, so that the report is rebuilt from the run folder alone. An entry
is recomputed only when its family definition or the sampling settings change. The reference is
summarised from its own seed stream, so its distance to itself shows the sampling error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..datasets import family_distance, summarize_family
from ..datasets.spec import atomic_write_bytes
from .config import Config, FamilyConfig
from .tasks import data_spec, ensure_family, stable_seed

__all__ = ["DISTANCES_FILE", "compute_distances", "read_distances"]

DISTANCES_FILE = "distances.json"


def _settings(config: Config, entry) -> dict:
    spec = data_spec(config, entry)
    family = ensure_family(entry.name, entry.definition)
    return {"family": family.to_dict(), "n_datasets": config.report.distance_datasets,
            "n_nodes": spec.n_nodes, "n_samples": spec.n_samples, "seed": config.data.seed}


def _summary(config: Config, entry, stream: int):
    settings = _settings(config, entry)
    return summarize_family(entry.name, n_datasets=settings["n_datasets"], n_nodes=settings["n_nodes"],
                            n_samples=settings["n_samples"],
                            random_state=np.random.default_rng(stable_seed(config.data.seed, entry.name, stream)))


def read_distances(run_dir) -> dict:
    """``{"reference": name, "families": {name: {component: value}}}`` or an empty dict."""
    path = Path(run_dir) / DISTANCES_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def compute_distances(config: Config, run_dir) -> dict:
    """Distances of every config family from ``config.report.reference``, cached in the run folder."""
    entries = {e.name: e for e in config.families}
    reference = entries.get(config.report.reference)
    if reference is None:
        reference = FamilyConfig(name=config.report.reference)
    key = lambda entry: hashlib.sha256(json.dumps(  # noqa: E731
        [_settings(config, reference), _settings(config, entry)], sort_keys=True, default=str).encode()).hexdigest()
    previous = read_distances(run_dir)
    cached = previous.get("families", {}) if previous.get("reference") == reference.name else {}
    families, ref_summary = {}, None
    for name, entry in entries.items():
        if name in cached and cached[name].get("key") == key(entry):
            families[name] = cached[name]
            continue
        ref_summary = ref_summary or _summary(config, reference, stream=4)
        families[name] = {"key": key(entry), **family_distance(ref_summary, _summary(config, entry, stream=3))}
    result = {"reference": reference.name, "families": families}
    atomic_write_bytes(Path(run_dir) / DISTANCES_FILE, json.dumps(result, indent=1).encode())
    return result
