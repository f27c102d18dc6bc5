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
    """Pairs ``(i, j)`` with ``graphs_a[i]`` isomorphic to ``graphs_b[j]`` (empty when disjoint)."""
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
    """Data sets of one spec: stacked arrays plus the SCM instances that generated them."""

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
