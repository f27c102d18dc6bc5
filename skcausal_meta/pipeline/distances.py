"""Distances of each benchmarked family from the reference family, for metric-vs-distance plots.

Computed once per run in the parent (:func:`skcausal_meta.datasets.family_distance` on
``report.distance_datasets`` freshly sampled data sets per family, at the run's sizes) and stored
in ``{run_dir}/distances.json``, so that the report is rebuilt from the run folder alone. An entry
is recomputed only when its family definition or the sampling settings change. The reference is
summarised from its own seed stream, so its distance to itself shows the sampling error. A real
family is summarised from subsamples of its observational rows with its consensus graph
(:func:`~skcausal_meta.pipeline.real.real_summary`), so every component is computed from data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from .._files import atomic_write_bytes, read_cache
from ..datasets import family_distance, summarize_family
from .config import Config, FamilyConfig
from .real import RealData, load_real, real_options, real_summary
from .tasks import data_spec, inline_families, stable_seed

__all__ = ["DISTANCES_FILE", "compute_distances", "read_distances"]

DISTANCES_FILE = "distances.json"


def _settings(config: Config, entry: FamilyConfig) -> dict:
    if entry.is_real:
        return {"real": entry.name, "options": real_options(entry.name, entry.options),
                "n_datasets": config.report.distance_datasets, "n_samples": config.real_sizes(entry).n_samples,
                "seed": config.data.seed}
    spec = data_spec(config, entry)
    return {"family": entry.family().to_dict(), "n_datasets": config.report.distance_datasets,
            "n_nodes": spec.n_nodes, "n_samples": spec.n_samples, "seed": config.data.seed}


def _source(entry: FamilyConfig):
    """What a worker summarises: the real data set or the SCM family."""
    return load_real(entry.name, entry.options) if entry.is_real else entry.family()


def _summary(source, settings: dict, stream: int):
    """Summary of data sets of ``source``, a family or a real data set (runs in a worker).

    A family whose data sets cannot be made at these sizes gives the reason (a string) instead,
    so that it does not stop the distances of the others.
    """
    rng = np.random.default_rng(stable_seed(settings["seed"], source.name, stream))
    try:
        if isinstance(source, RealData):
            return real_summary(source, settings["n_datasets"], settings["n_samples"], random_state=rng)
        return summarize_family(source, n_datasets=settings["n_datasets"], n_nodes=settings["n_nodes"],
                                n_samples=settings["n_samples"], random_state=rng)
    except ValueError as exc:
        return f"the data sets of {source.name!r} could not be made or summarised: {exc}"


def _check_record(record) -> dict:
    """``record`` if it has the shape :func:`compute_distances` writes, else ``ValueError``."""
    families = record.get("families") if isinstance(record, dict) else None
    ok = (isinstance(families, dict) and isinstance(record.get("reference"), str)
          and isinstance(record.get("failed", {}), dict)
          and all(isinstance(entry, dict) and all(isinstance(v, (int, float)) for k, v in entry.items() if k != "key")
                  for entry in families.values()))
    if not ok:
        raise ValueError("it is not a distances record ({'reference': name, 'families': {name: {component: number}}})")
    return record


def read_distances(run_dir) -> dict:
    """``{"reference": name, "families": {name: {component: value}}}`` (plus ``"failed": {name:
    reason}`` when some could not be computed), or an empty dict.

    The file is a cache of values derived from the config: when it cannot be read or is not
    such a record (truncated by a crash, edited), a warning says so and an empty dict is
    returned, so that :func:`compute_distances` recomputes every entry and a report goes on
    without distances.
    """
    return read_cache(Path(run_dir) / DISTANCES_FILE, _check_record, "distances cache")


def compute_distances(config: Config, run_dir) -> dict:
    """Distances of every config family from ``config.report.reference``, cached in the run folder.

    The family summaries (the costly part) run through ``joblib.Parallel`` in the active joblib
    backend; the families travel as objects, so inline families need no registry in workers.
    A family whose data sets cannot be made (or all of them, when the reference's cannot) is
    listed under ``"failed"`` with the reason, and tried again on the next call.
    """
    entries = {e.name: e for e in config.families}
    reference = entries.get(config.report.reference) or FamilyConfig(name=config.report.reference)
    with inline_families(config):
        settings = {name: _settings(config, entry) for name, entry in entries.items()}
        ref_settings = _settings(config, reference)
    keys = {name: hashlib.sha256(json.dumps([ref_settings, s], sort_keys=True, default=str).encode()).hexdigest()
            for name, s in settings.items()}
    families = _cached(read_distances(run_dir), reference.name, keys)
    missing = [name for name in entries if name not in families]
    failed = {}
    if missing:
        computed, failed = _distances_of(reference, ref_settings, {n: (entries[n], settings[n]) for n in missing})
        families.update({name: {"key": keys[name], **distance} for name, distance in computed.items()})
    result = {"reference": reference.name, "families": {name: families[name] for name in entries if name in families}}
    if failed:
        result["failed"] = failed
    atomic_write_bytes(Path(run_dir) / DISTANCES_FILE, json.dumps(result, indent=1).encode())
    return result


def _cached(previous: dict, reference: str, keys: dict) -> dict:
    """The entries of a previous result that still hold: same reference, same settings' key."""
    cached = previous.get("families", {}) if previous.get("reference") == reference else {}
    return {name: cached[name] for name in keys if cached.get(name, {}).get("key") == keys[name]}


def _distances_of(reference: FamilyConfig, ref_settings: dict, todo: dict) -> tuple[dict, dict]:
    """Distances of the families ``todo`` (``name -> (entry, settings)``) from the reference,
    summarised in parallel; ``(distances, failed)``, a failure being the reason as a string."""
    jobs = [(_source(reference), ref_settings, 4)] + [(_source(entry), s, 3) for entry, s in todo.values()]
    ref_summary, *summaries = Parallel()(delayed(_summary)(*job) for job in jobs)
    distances, failed = {}, {}
    for name, summary in zip(todo, summaries):
        if isinstance(ref_summary, str):
            failed[name] = f"no reference: {ref_summary}"
        elif isinstance(summary, str):
            failed[name] = summary
        else:
            distances[name] = family_distance(ref_summary, summary)
    return distances, failed
