"""Data-set specifications and their on-disk cache.

A :class:`DatasetSpec` names a family, a split, sizes and a seed; :meth:`DatasetSpec.load`
returns the data sets, generating them once and caching them under
``{root}/{family}/{split}/{seed}/``:

- ``data.npz``: ``X (N, n, d)``, ``interventions (N, n, d)``, ``graphs (N, d, d)``;
- ``scm.json``: the SCM instances (:meth:`SCMInstance.to_dict`);
- ``manifest.json``: the spec, the family, the generator version, the SHA-256 of both files and
  of the excluded-graph set.

The manifest is written last, and every file is written to a temporary name and renamed, so an
interrupted write never leaves an entry that looks complete. JSON is read with a depth limit
(:func:`~skcausal_meta._validation.read_json`), so even a hostile file is only "unreadable". A corrupt file (hash mismatch) or a
stale entry (different spec, family or generator version) is detected on load and regenerated.

Splits draw from independent seed streams, and ``exclude_graphs`` keeps test graphs disjoint,
up to isomorphism, from a given set of (training) graphs: colliding instances are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._files import atomic_write_bytes
from .._validation import read_json
from .families import get_family, list_families
from .graphs import canonical_graph_hash, graphs_isomorphic
from .scm import SCMInstance

__all__ = ["DatasetSpec", "DatasetBundle", "DEFAULT_DATA_ROOT", "check_disjoint_graphs"]

DEFAULT_DATA_ROOT = Path(os.environ.get("SKCAUSAL_META_DATA", "datasets/data"))
_SPLITS = ("train", "val", "test")
_MAX_TRIES_PER_DATASET = 50
# Bumped whenever the same spec draws other data values (graphs or not), so that caches written
# by an older generator are regenerated (each bump is listed in CHANGELOG.md).
GENERATOR_VERSION = 2


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class _GraphIndex:
    """Graphs bucketed by canonical hash, for exact up-to-isomorphism membership tests."""

    def __init__(self, graphs=()):
        self._buckets: dict[str, list[np.ndarray]] = {}
        for g in graphs:
            self._buckets.setdefault(canonical_graph_hash(g), []).append(np.asarray(g))

    def __contains__(self, graph) -> bool:
        candidates = self._buckets.get(canonical_graph_hash(graph), [])
        return any(c.shape == np.shape(graph) and graphs_isomorphic(c, graph) for c in candidates)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(sorted(self._buckets)).encode()).hexdigest()


def check_disjoint_graphs(graphs_a, graphs_b) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` with ``graphs_a[i]`` isomorphic to ``graphs_b[j]`` (empty when disjoint).

    Examples
    --------
    A chain matches a relabelled chain; a collider does not match a fork:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import DatasetSpec, check_disjoint_graphs
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> collider = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])
    >>> check_disjoint_graphs([chain, collider], [collider.T, chain[::-1, ::-1]])
    [(0, 1)]

    Small graphs repeat across splits unless the test split excludes the training graphs:

    >>> sizes = dict(n_datasets=5, n_nodes=4, n_samples=10, n_interventional=0)
    >>> train = DatasetSpec(family="id", split="train", **sizes).generate()
    >>> len(check_disjoint_graphs(DatasetSpec(family="id", **sizes).generate().graphs, train.graphs)) > 0
    True
    >>> test = DatasetSpec(family="id", **sizes).generate(exclude_graphs=train.graphs)
    >>> check_disjoint_graphs(test.graphs, train.graphs)
    []
    """
    index = {}
    for j, g in enumerate(graphs_b):
        index.setdefault(canonical_graph_hash(g), []).append(j)
    return [
        (i, j)
        for i, g in enumerate(graphs_a)
        for j in index.get(canonical_graph_hash(g), [])
        if np.shape(graphs_b[j]) == np.shape(g) and graphs_isomorphic(graphs_b[j], g)
    ]


@dataclass
class DatasetBundle:
    """Data sets of one spec: stacked arrays plus the SCM instances that generated them.

    Examples
    --------
    Two data sets of 10 observational and 2 interventional rows on 3 nodes:

    >>> from skcausal_meta.datasets import DatasetSpec
    >>> bundle = DatasetSpec(family="id", n_datasets=2, n_nodes=3, n_samples=10, n_interventional=2).generate()
    >>> len(bundle), bundle.X.shape, bundle.interventions.shape, bundle.graphs.shape
    (2, (2, 12, 3), (2, 12, 3), (2, 3, 3))
    >>> bundle.interventions[0].sum(axis=1)  # intervened nodes per row
    array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    >>> bool((bundle.scms[0].graph == bundle.graphs[0]).all())
    True
    """

    spec: "DatasetSpec"
    X: np.ndarray
    interventions: np.ndarray
    graphs: np.ndarray
    scms: list[SCMInstance]

    def __len__(self) -> int:
        return len(self.X)


class DatasetSpec(BaseModel):
    """What to generate: family, split, sizes and seed (validated with pydantic).

    Parameters
    ----------
    family : str
        A registered family name.
    split : {"train", "val", "test"}
        Each split draws from its own seed stream.
    n_datasets : int
        Number of data sets.
    n_nodes, n_samples, n_interventional : int, optional
        Sizes; the family's defaults when omitted (``n_nodes`` is then drawn once per spec).
    seed : int
        Seed of the spec; with the split it fixes every array.

    Examples
    --------
    The first :meth:`load` generates the data sets and caches them under
    ``{root}/{family}/{split}/{seed}``; the next one reads the same arrays back:

    >>> import tempfile
    >>> from skcausal_meta.datasets import DatasetSpec
    >>> spec = DatasetSpec(family="id", split="train", n_datasets=3, n_nodes=4, n_samples=20,
    ...                    n_interventional=5, seed=0)
    >>> with tempfile.TemporaryDirectory() as root:
    ...     bundle = spec.load(root)
    ...     files = sorted(path.name for path in spec.path(root).iterdir())
    ...     again = spec.load(root)
    >>> bundle.X.shape, files, bool((again.X == bundle.X).all())
    ((3, 25, 4), ['data.npz', 'manifest.json', 'scm.json'], True)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    split: Literal["train", "val", "test"] = "test"
    n_datasets: int = Field(10, ge=1)
    n_nodes: int | None = Field(None, ge=2)
    n_samples: int | None = Field(None, ge=1)
    n_interventional: int | None = Field(None, ge=0)
    seed: int = Field(0, ge=0)

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value not in list_families():
            raise ValueError(f"unknown family {value!r}; known families: {list_families()}")
        return value

    # ------------------------------------------------------------------ generation
    def generate(self, exclude_graphs=None) -> DatasetBundle:
        """Generate the data sets in memory (no cache), skipping graphs isomorphic to any of
        ``exclude_graphs``."""
        fam = get_family(self.family)
        rng = np.random.default_rng([self.seed, _SPLITS.index(self.split)])
        excluded = exclude_graphs if isinstance(exclude_graphs, _GraphIndex) else _GraphIndex(
            [] if exclude_graphs is None else exclude_graphs)
        stream = fam.iter_datasets(rng, n_nodes=self.n_nodes, n_samples=self.n_samples,
                                   n_interventional=self.n_interventional)
        X, masks, graphs, scms = [], [], [], []
        for tries, (x, mask, scm) in enumerate(stream, start=1):
            if scm.graph not in excluded:
                X.append(x), masks.append(mask), graphs.append(scm.graph), scms.append(scm)
            if len(X) == self.n_datasets:
                break
            if tries >= _MAX_TRIES_PER_DATASET * self.n_datasets:
                raise RuntimeError(
                    f"could not draw {self.n_datasets} graphs of family {self.family!r} outside the excluded set "
                    f"({len(X)} found in {tries} tries); the family is too small to keep splits disjoint"
                )
        return DatasetBundle(self, np.stack(X), np.stack(masks), np.stack(graphs), scms)

    # ------------------------------------------------------------------ cache
    def path(self, root=None) -> Path:
        """Cache folder ``{root}/{family}/{split}/{seed}``."""
        return Path(DEFAULT_DATA_ROOT if root is None else root) / self.family / self.split / str(self.seed)

    def load(self, root=None, exclude_graphs=None) -> DatasetBundle:
        """The cached data sets, regenerated when missing, corrupt or stale."""
        folder = self.path(root)
        excluded = _GraphIndex([] if exclude_graphs is None else exclude_graphs)
        cached = self._read(folder, excluded.digest())
        if cached is not None:
            return cached
        bundle = self.generate(excluded)
        self._write(folder, bundle, excluded.digest())
        return bundle

    def _manifest_core(self, exclude_digest: str) -> dict:
        return {"spec": self.model_dump(), "family": get_family(self.family).to_dict(), "exclude": exclude_digest,
                "generator": GENERATOR_VERSION}

    def _read(self, folder: Path, exclude_digest: str) -> DatasetBundle | None:
        manifest_path = folder / "manifest.json"
        if not manifest_path.exists():
            return None
        try:
            manifest = read_json(manifest_path)
            if not isinstance(manifest, dict):
                raise ValueError(f"manifest.json holds a {type(manifest).__name__}, not an object")
            if {k: manifest.get(k) for k in ("spec", "family", "exclude", "generator")} != json.loads(
                    json.dumps(self._manifest_core(exclude_digest))):
                warnings.warn(f"stale data-set cache at {folder} (its spec, family or generator version differs); "
                              f"regenerating", stacklevel=3)
                return None
            for name in ("data.npz", "scm.json"):
                if _sha256(folder / name) != manifest["sha256"][name]:
                    warnings.warn(f"corrupt data-set cache file {folder / name} (hash mismatch); regenerating",
                                  stacklevel=3)
                    return None
            with np.load(folder / "data.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("X", "interventions", "graphs")}
            scms = [SCMInstance.from_dict(d) for d in read_json(folder / "scm.json")]
        except (OSError, ValueError, KeyError, TypeError) as exc:  # TypeError: a record of the wrong types
            warnings.warn(f"unreadable data-set cache at {folder} ({exc}); regenerating", stacklevel=3)
            return None
        return DatasetBundle(self, arrays["X"], arrays["interventions"], arrays["graphs"], scms)

    def _write(self, folder: Path, bundle: DatasetBundle, exclude_digest: str) -> None:
        import io

        (folder / "manifest.json").unlink(missing_ok=True)  # the entry is incomplete until rewritten
        buffer = io.BytesIO()
        np.savez_compressed(buffer, X=bundle.X, interventions=bundle.interventions, graphs=bundle.graphs)
        atomic_write_bytes(folder / "data.npz", buffer.getvalue())
        atomic_write_bytes(folder / "scm.json", json.dumps([s.to_dict() for s in bundle.scms]).encode())
        manifest = self._manifest_core(exclude_digest)
        manifest["sha256"] = {name: _sha256(folder / name) for name in ("data.npz", "scm.json")}
        atomic_write_bytes(folder / "manifest.json", json.dumps(manifest, indent=1).encode())
