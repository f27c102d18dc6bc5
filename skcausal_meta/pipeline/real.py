"""Real data sets as benchmark families: fixed rows, a consensus graph and no generating SCM.

A config names a real family like any other (``families: [id, ..., sachs]``, or
``{name: sachs, n_samples: 400, options: {graph: "20"}}``); :func:`list_real_families` gives the
names. What differs from a synthetic family is where each of its data sets comes from.

Rows and the data-set axis
    The rows are split into *observational* ones (all-False intervention mask; for Sachs the
    anti-CD3/CD28 and ICAM-2 blocks, 1755 rows) and *interventional* ones (the other 5711).
    Data set ``i`` of the family is one seeded split, seeded by (data seed, family, ``i``): first
    ``n_test`` observational and ``n_test_interventional`` interventional rows are held out, then
    ``n_samples`` observational and ``n_interventional`` interventional training rows are drawn
    from the remaining ones (``None``: all remaining rows). Every draw is without replacement and
    stratified by condition block (each block gives its share of the draw, rounded by largest
    remainder), so train and test rows never overlap and every reagent keeps its proportion.
    Different data sets of a real family are therefore overlapping subsamples of one data set,
    not independent draws: their spread measures the sensitivity to the rows, not to the data
    set.
Likelihood metrics
    There is no SCM to draw held-out rows from, so the held-out rows of the split take its place
    in the same formulas: NIL is ``-estimator.score`` on the held-out observational rows, and
    I-NIL the mean over distinct intervention target sets of ``-estimator.score`` on the
    held-out interventional rows with their mask (:func:`~.scoring.interventional_nil`). For
    Sachs, reagents with the same target share one group (G06976 and PMA both mark PKC).
Graph metrics
    are scored against the data set's consensus graph (for Sachs the option ``graph``, see
    :func:`skcausal_meta.datasets.load_sachs`). A metric that needs a DAG (``e_sid``) fails on the
    cyclic 18-edge graph; the runner records it as NaN with the error, as for any failing metric.
Distances from the reference family
    are computed from data, like those of a synthetic family: the family is summarised by
    ``report.distance_datasets`` stratified subsamples of ``n_samples`` observational rows, each
    paired with the consensus graph (:func:`real_summary`). The subsamples share rows, so the
    within-family spread of the data-level statistics is smaller than for independent data sets.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._validation import check_random_state
from ..datasets import summarize_datasets
from ..datasets.real import load_sachs

__all__ = ["RealData", "RealSizes", "list_real_families", "real_options", "load_real", "resolve_sizes",
           "split_rows", "real_summary"]


@dataclass(frozen=True)
class RealData:
    """One real data set: rows ``X (n, d)``, intervention ``mask (n, d)``, consensus ``graph
    (d, d)`` and the condition block of each row (``conditions (n,)``)."""

    name: str
    X: np.ndarray
    mask: np.ndarray
    graph: np.ndarray
    conditions: np.ndarray

    @property
    def observational(self) -> np.ndarray:
        """Boolean ``(n,)``: rows with no intervened node."""
        return ~self.mask.any(axis=1)


@dataclass(frozen=True)
class RealSizes:
    """Row counts of one split of a real data set (training and held-out, per kind of row)."""

    n_samples: int
    n_interventional: int
    n_test: int
    n_test_interventional: int


def _sachs(graph: str = "17", log_transform: bool = False) -> RealData:
    X, mask, G, conditions = load_sachs(graph, log_transform=log_transform, return_conditions=True)
    return RealData("sachs", X.to_numpy(), mask, G, conditions)


# name -> loader; the loader's keyword parameters are the family's options
_LOADERS = {"sachs": _sachs}


def list_real_families() -> list[str]:
    """Names of the real data sets a config can use as families."""
    return sorted(_LOADERS)


def real_options(name: str, options: dict | None = None) -> dict:
    """Every option of real family ``name``: ``options`` completed by the loader's defaults.

    Raises
    ------
    ValueError
        If ``name`` is not a real family or an option is unknown.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown real family {name!r}; real families: {list_real_families()}")
    defaults = {k: p.default for k, p in inspect.signature(_LOADERS[name]).parameters.items()}
    unknown = sorted(set(options or {}) - set(defaults))
    if unknown:
        raise ValueError(f"unknown options {unknown} of real family {name!r}; its options are {sorted(defaults)}")
    for key, value in (options or {}).items():
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise ValueError(f"option {key!r} of real family {name!r} must be a single value "
                             f"(string, number or boolean), got {value!r}")
    return {**defaults, **(options or {})}


@lru_cache(maxsize=4)
def _load(name: str, options: tuple) -> RealData:
    data = _LOADERS[name](**dict(options))
    for array in (data.X, data.mask, data.graph, data.conditions):
        array.flags.writeable = False  # shared by every caller of the cache
    return data


def load_real(name: str, options: dict | None = None) -> RealData:
    """The real data set ``name`` loaded with ``options`` (cached; the arrays are read-only)."""
    return _load(name, tuple(sorted(real_options(name, options).items())))


def resolve_sizes(data: RealData, n_samples=None, n_interventional=None, n_test=200,
                  n_test_interventional=200) -> RealSizes:
    """Row counts of a split, a ``None`` training count meaning every row not held out.

    Raises
    ------
    ValueError
        If the held-out and training rows of a kind exceed the rows of that kind, naming the
        counts.
    """
    n_obs = int(data.observational.sum())
    out = {}
    for kind, available, train_key, n_train, test_key, n_held in (
            ("observational", n_obs, "n_samples", n_samples, "n_test", n_test),
            ("interventional", len(data.X) - n_obs, "n_interventional", n_interventional,
             "n_test_interventional", n_test_interventional)):
        rows = available - n_held if n_train is None else n_train
        if n_held + max(rows, 0) > available:
            raise ValueError(f"{test_key}={n_held} held-out plus {train_key}={n_train} training rows exceed the "
                             f"{available} {kind} rows of {data.name!r}")
        out[train_key], out[test_key] = rows, n_held
    return RealSizes(**out)


def _stratified_sample(indices: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``indices`` without replacement, each label's share in proportion to its count
    (shares rounded by largest remainder, so they sum to ``n``), sorted."""
    blocks, inverse, counts = np.unique(labels[indices], return_inverse=True, return_counts=True)
    quota = counts * n / counts.sum() if len(indices) else counts.astype(float)
    take = np.floor(quota).astype(int)
    take[np.argsort(take - quota, kind="stable")[: n - take.sum()]] += 1
    picks = [rng.choice(indices[inverse.ravel() == b], size=k, replace=False) for b, k in enumerate(take)]
    return np.sort(np.concatenate([np.asarray([], dtype=np.intp), *picks]))


def split_rows(data: RealData, sizes: RealSizes, random_state=None):
    """One seeded split of ``data``: ``(train, test_observational, test_interventional)`` row indices.

    Held-out rows are drawn first, then training rows from the rest, per kind of row and
    stratified by condition block; the training rows keep the file's order.
    """
    rng = check_random_state(random_state)
    observational = data.observational
    train, test = [], []
    for rows, n_train, n_held in ((np.flatnonzero(observational), sizes.n_samples, sizes.n_test),
                                  (np.flatnonzero(~observational), sizes.n_interventional,
                                   sizes.n_test_interventional)):
        held = _stratified_sample(rows, data.conditions, n_held, rng)
        test.append(held)
        train.append(_stratified_sample(np.setdiff1d(rows, held), data.conditions, n_train, rng))
    return np.sort(np.concatenate(train)), test[0], test[1]


def real_summary(data: RealData, n_datasets: int, n_samples: int, random_state=None):
    """A :class:`~skcausal_meta.datasets.distances.FamilySummary` of ``n_datasets`` stratified
    subsamples of ``n_samples`` observational rows, each with the consensus graph."""
    rng = check_random_state(random_state)
    rows = np.flatnonzero(data.observational)
    X = np.stack([data.X[_stratified_sample(rows, data.conditions, n_samples, rng)] for _ in range(n_datasets)])
    return summarize_datasets(X, np.broadcast_to(data.graph, (n_datasets, *data.graph.shape)), name=data.name)
