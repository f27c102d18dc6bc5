"""Grid expansion (family x data set x model x parameter set) and the data each task needs.

A :class:`Task` is plain, JSON-serialisable data: it is written as the task's resolved config and
its content hash is part of its ``run_id``, so changing anything that affects a result (sizes,
seeds, parameters, metrics, a family's definition) gives a new ``run_id`` instead of silently
reusing an old artifact. The arrays live in :class:`TaskData`, built in the parent process from the
data-set cache (:class:`~skcausal_meta.datasets.DatasetSpec`) plus held-out rows drawn from each
data set's true SCM, or, for a real family, from a seeded split of its rows
(:mod:`~skcausal_meta.pipeline.real`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from ..datasets import DatasetSpec, registered_families
from ..models.registry import get_estimator_class
from .config import Config, FamilyConfig
from .real import load_real, real_options, split_rows

__all__ = ["Task", "TaskData", "expand_tasks", "load_task_data", "inline_families", "stable_seed", "data_spec"]


def stable_seed(*parts) -> list[int]:
    """Seed material for ``numpy.random.default_rng`` from ints and strings.

    Strings go through CRC-32 (Python's ``hash`` of a string changes between processes).
    """
    return [zlib.crc32(p.encode()) if isinstance(p, str) else int(p) for p in parts]


@dataclass(frozen=True)
class Task:
    """One unit of work: fit one model with one parameter set on one data set, then score it."""

    model: str  # the model's label in artifacts and reports
    estimator: str  # registry name
    params: dict  # constructor parameters, seed and device included
    family: str
    family_definition: dict | None  # inline family definition (provenance; workers get arrays)
    shift: tuple
    dataset: int  # index of the data set in the family's data-set spec
    data_spec: dict  # DatasetSpec fields, or for a real family its name, options, row counts and seed
    n_test: int
    n_test_interventional: int
    metrics: tuple
    run_id: str = field(default="", compare=False)

    def resolved(self) -> dict:
        """The JSON description of the task (its resolved config)."""
        return json.loads(json.dumps(asdict(self), default=str))


@dataclass
class TaskData:
    """Arrays of one data set: training data, true graph, held-out rows."""

    X: np.ndarray
    mask: np.ndarray
    graph: np.ndarray
    X_test: np.ndarray
    X_int: np.ndarray
    mask_int: np.ndarray


def inline_families(config: Config):
    """Context manager: the families ``config`` defines inline are registered inside the block only.

    Data-set specs name their family, so an inline family must be registered while its data are
    made; afterwards the registry is as before, so configs run in one process do not leak
    families into each other.
    """
    return registered_families(*(entry.family() for entry in config.families
                                 if entry.definition is not None and not entry.is_real))


def data_spec(config: Config, entry: FamilyConfig) -> DatasetSpec:
    """The data-set spec of one family entry (its size overrides, else the ``data`` section's)."""
    d = config.data
    pick = lambda own, shared: shared if own is None else own  # noqa: E731
    return DatasetSpec(family=entry.name, split=d.split, n_datasets=d.n_datasets,
                       n_nodes=pick(entry.n_nodes, d.n_nodes), n_samples=pick(entry.n_samples, d.n_samples),
                       n_interventional=pick(entry.n_interventional, d.n_interventional), seed=d.seed)


def _real_spec(config: Config, entry: FamilyConfig) -> dict:
    """What determines the data of a real family's data sets (part of each task's hash)."""
    return {"real": entry.name, "options": real_options(entry.name, entry.options),
            **asdict(config.real_sizes(entry)), "seed": config.data.seed}


def _with_run_id(task: Task) -> Task:
    digest = hashlib.sha256(json.dumps(task.resolved(), sort_keys=True).encode()).hexdigest()[:12]
    return Task(**{**asdict(task), "run_id": f"{task.family}-{task.dataset:03d}-{digest}"})


def expand_tasks(config: Config) -> list[Task]:
    """Every task of ``config``, ordered family, data set, model, parameter set.

    Each estimator that takes ``random_state`` gets a seed drawn from (data seed, family, data
    set) unless its parameters fix one, so all models see the same seeded setting.
    """
    tasks = []
    with inline_families(config):  # the data-set specs name their families
        specs = {entry.name: (("real",), _real_spec(config, entry)) if entry.is_real else
                 (tuple(entry.family().shift), data_spec(config, entry).model_dump()) for entry in config.families}
    for entry in config.families:
        shift, spec = specs[entry.name]
        for dataset in range(config.data.n_datasets):
            seed = int(np.random.default_rng(stable_seed(config.data.seed, entry.name, dataset, 2)).integers(2**31))
            for model in config.models:
                seeded = "random_state" in get_estimator_class(model.name)().get_params()
                for params in model.parameter_sets():
                    tasks.append(_with_run_id(Task(
                        model=model.key, estimator=model.name,
                        params={"random_state": seed, **params} if seeded else params,
                        family=entry.name, family_definition=entry.definition, shift=shift,
                        dataset=dataset, data_spec=spec, n_test=config.data.n_test,
                        n_test_interventional=config.data.n_test_interventional, metrics=tuple(config.metrics))))
    return tasks


def load_task_data(config: Config, entry: FamilyConfig, datasets) -> dict[int, TaskData]:
    """:class:`TaskData` for the given data-set indices of one family.

    Training data come from the data-set cache. Held-out rows are drawn from each data set's
    true SCM with a seed fixed by (data seed, family, data set): ``n_test`` observational rows,
    and ``n_test_interventional`` rows under the family's own intervention recipe, with the
    true targets in the mask (even for unknown-target families, since I-NIL drops the
    intervened nodes' terms). A real family's data set ``i`` is instead the split of its rows
    seeded by the same (data seed, family, data set) (:func:`~.real.split_rows`).
    """
    if entry.is_real:
        return _real_task_data(config, entry, datasets)
    family = entry.family()
    with inline_families(config):
        bundle = data_spec(config, entry).load(config.data.cache)
    out = {}
    for i in datasets:
        scm = bundle.scms[i]
        rng = np.random.default_rng(stable_seed(config.data.seed, entry.name, i, 1))
        X_test = scm.sample(config.data.n_test, random_state=rng)
        interventions = family.interventions.draw(config.data.n_test_interventional, scm.n_nodes, rng)
        X_int = scm.sample(config.data.n_test_interventional, interventions, random_state=rng)
        out[i] = TaskData(bundle.X[i], bundle.interventions[i], bundle.graphs[i], X_test, X_int, interventions.mask)
    return out


def _real_task_data(config: Config, entry: FamilyConfig, datasets) -> dict[int, TaskData]:
    data, sizes = load_real(entry.name, entry.options), config.real_sizes(entry)
    out = {}
    for i in datasets:
        rng = np.random.default_rng(stable_seed(config.data.seed, entry.name, i, 1))
        train, test, test_int = split_rows(data, sizes, rng)
        out[i] = TaskData(data.X[train], data.mask[train], data.graph.copy(), data.X[test], data.X[test_int],
                          data.mask[test_int])
    return out
