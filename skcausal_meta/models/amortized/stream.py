"""The seeded stream of training data sets, and the held-out graphs kept out of it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..._files import atomic_write_bytes
from ..._validation import check_adjacency_stack, check_positive_int
from ...datasets import DatasetSpec, canonical_graph_hash, make_scm_family
from .config import TrainConfig
from .inputs import make_model_input

__all__ = ["DatasetStream", "held_out_graph_hashes", "read_graph_hashes", "write_graph_hashes"]

TRAIN, VALIDATION = 0, 1
_MAX_ATTEMPTS = 100  # redraws of one batch before the excluded graphs are declared to cover the family


class DatasetStream(torch.utils.data.Dataset):
    """Endless, seeded stream of training batches from an SCM family, indexed by step.

    ``stream[t]`` is the batch of step ``t``: a number of nodes ``d`` and whether the step has
    interventional rows are drawn from ``SeedSequence([seed, stream_id, t])``, then
    ``batch_size`` data sets from :func:`skcausal_meta.datasets.make_scm_family`. Data sets whose
    graph hash is in ``exclude_hashes`` (the test graphs, of any sizes) are replaced by data sets
    drawn with the next attempt counter, ``SeedSequence([seed, stream_id, t, attempt])``, with the
    same ``d`` and row counts, so the batch is a pure function of ``(seed, stream_id, t)``
    whatever process draws it (this is what makes multi-worker loading and resuming exact).

    Parameters
    ----------
    family : str or SCMFamily
        Passed to ``make_scm_family``.
    config : TrainConfig
    stream_id : int, default=0
        0 for training, 1 for validation (independent streams with the same seed).
    exclude_hashes : collection of str, default=()
        Canonical hashes (:func:`~skcausal_meta.datasets.canonical_graph_hash`) of graphs that must
        never be trained on.
    """

    def __init__(self, family, config: TrainConfig, stream_id: int = TRAIN, exclude_hashes=()):
        self.family = family
        self.config = config
        self.stream_id = stream_id
        self.exclude_hashes = frozenset(exclude_hashes)

    def __len__(self) -> int:  # a DataLoader needs a length; steps beyond it are still valid
        return self.config.steps

    def _draw(self, step: int, attempt: int):
        """Data sets of ``attempt`` at ``step``; ``d`` and the row counts come from attempt 0 (a fixed
        ``n_samples`` draws nothing, so its stream does not depend on the range option)."""
        c = self.config

        def rng_of(k):
            return np.random.default_rng(np.random.SeedSequence([c.seed, self.stream_id, step, k]))

        rng = rng_of(0)
        d = int(rng.integers(c.n_nodes[0], c.n_nodes[1] + 1))
        n_int = 0 if rng.random() < c.p_observational_only else c.n_interventional
        n = c.n_samples if isinstance(c.n_samples, int) else int(rng.integers(c.n_samples[0], c.n_samples[1] + 1))
        if attempt:
            rng = rng_of(attempt)
        return make_scm_family(self.family, n_datasets=c.batch_size, n_nodes=d, n_samples=n,
                               n_interventional=n_int, random_state=rng)

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        kept, attempt = [], 0
        while len(kept) < self.config.batch_size:
            if attempt == _MAX_ATTEMPTS:
                raise RuntimeError(f"step {step}: found {len(kept)} of {self.config.batch_size} data sets "
                                   f"outside the {len(self.exclude_hashes)} excluded graph hashes in "
                                   f"{_MAX_ATTEMPTS} attempts; the excluded graphs cover (almost) every "
                                   f"graph of the family at this size")
            X, masks, graphs = self._draw(int(step), attempt)
            kept += [(x, m, g) for x, m, g in zip(X, masks, graphs)
                     if not self.exclude_hashes or canonical_graph_hash(g) not in self.exclude_hashes]
            attempt += 1
        X, masks, graphs = (np.stack(arrays) for arrays in zip(*kept[: self.config.batch_size]))
        x = make_model_input(X, masks)
        return torch.from_numpy(x), torch.from_numpy(graphs.astype(np.float32))


def held_out_graph_hashes(family, n_nodes, seeds, n_datasets: int, split: str | None = "test") -> list[str]:
    """Canonical hashes of the graphs of held-out data sets, to exclude from meta-training.

    For every ``d`` in ``n_nodes`` and ``seed`` in ``seeds``, the graphs of ``n_datasets`` data
    sets are drawn the way a test set draws them, then hashed with
    :func:`~skcausal_meta.datasets.canonical_graph_hash` (which includes ``d``, so graphs of
    different sizes never share a hash).

    Parameters
    ----------
    family : str
        Registered family of the held-out data sets.
    n_nodes : iterable of int
        Graph sizes ``d`` of the held-out data sets.
    seeds : iterable of int
        Seeds of the held-out sets.
    n_datasets : int
        Data sets per ``(d, seed)``.
    split : {"test", "val", "train"} or None, default="test"
        A split name draws the graphs of ``DatasetSpec(family, split, n_datasets, n_nodes=d,
        seed=seed)`` (the data sets of the benchmark runner); ``None`` draws those of
        ``make_scm_family(family, n_datasets, n_nodes=d, random_state=seed)`` (the held-out
        evaluations in ``docs/training.md``).

    Returns
    -------
    list of str
        Sorted unique hashes.

    Notes
    -----
    A data set's graph depends on the family, split, seed, ``d`` and its index only, not on the
    row counts, so the data sets are drawn with two observational rows (fast).

    Examples
    --------
    >>> from skcausal_meta.models.amortized.stream import held_out_graph_hashes
    >>> hashes = held_out_graph_hashes("id", n_nodes=[5, 10], seeds=[0, 1], n_datasets=10)
    >>> len(hashes), hashes[:2]  # 40 test graphs, some drawn twice; d is part of the hash
    (35, ['05ded646e499b707', '079efc9cf7eeea57'])
    """
    n_datasets = check_positive_int(n_datasets, "n_datasets")
    hashes = set()
    for d in n_nodes:
        for seed in seeds:
            if split is None:
                graphs = make_scm_family(family, n_datasets=n_datasets, n_nodes=int(d), n_samples=2,
                                         n_interventional=0, random_state=int(seed))[2]
            else:
                graphs = DatasetSpec(family=family, split=split, n_datasets=n_datasets, n_nodes=int(d),
                                     n_samples=2, n_interventional=0, seed=int(seed)).generate().graphs
            hashes.update(canonical_graph_hash(g) for g in graphs)
    return sorted(hashes)


def write_graph_hashes(path, hashes, header: str = "") -> Path:
    """Write graph hashes one per line (after ``#`` comment lines from ``header``), atomically.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcausal_meta.models.amortized.stream import held_out_graph_hashes, read_graph_hashes, write_graph_hashes
    >>> hashes = held_out_graph_hashes("id", n_nodes=[5], seeds=[0], n_datasets=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_graph_hashes(Path(tmp) / "test_graphs.txt", hashes, header="id test set, d=5, seed 0")
    ...     print(path.read_text())
    ...     print(read_graph_hashes([path]) == set(hashes))
    # id test set, d=5, seed 0
    09d700d69f9c6861
    df0ad08c85a522cd
    fb88bb1d8ea3de45
    <BLANKLINE>
    True
    """
    path = Path(path)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    atomic_write_bytes(path, (comments + "".join(f"{h}\n" for h in hashes)).encode())
    return path


def read_graph_hashes(paths) -> frozenset:
    """The union of the canonical graph hashes in ``paths`` (files of any graph sizes).

    Each file is either a ``.npy`` stack ``(S, d, d)`` (or one ``(d, d)`` graph) of adjacency
    matrices, hashed here, or a text file of hashes, one per line, as written by
    :func:`write_graph_hashes` (blank lines and ``#`` comments are ignored).

    Raises
    ------
    ValueError
        Naming the file, if an array is not a stack of square matrices or a line is not a hash.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skcausal_meta.datasets import canonical_graph_hash
    >>> from skcausal_meta.models.amortized.stream import read_graph_hashes, write_graph_hashes
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(Path(tmp) / "graphs.npy", np.stack([chain, chain.T]))  # a stack of held-out graphs
    ...     _ = write_graph_hashes(Path(tmp) / "more.txt", [canonical_graph_hash(np.zeros((4, 4)))])
    ...     hashes = read_graph_hashes([Path(tmp) / "graphs.npy", Path(tmp) / "more.txt"])
    >>> len(hashes), canonical_graph_hash(chain) in hashes
    (2, True)
    """
    hashes = set()
    for path in map(Path, paths):
        if path.suffix.lower() == ".npy":
            try:
                graphs = np.load(path, allow_pickle=False)
            except ValueError as error:  # e.g. an object array
                raise ValueError(f"graph file {str(path)!r} is not a numeric .npy array: {error}") from None
            try:
                graphs = check_adjacency_stack(graphs, name="the stack")
            except ValueError as error:
                raise ValueError(f"graph file {str(path)!r} must hold an (S, d, d) stack of adjacency "
                                 f"matrices: {error}") from None
            hashes.update(canonical_graph_hash(g) for g in graphs)
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f"graph-hash file {str(path)!r} is not text; graph stacks must end in .npy") from None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not re.fullmatch(r"[0-9a-f]{16}", line):
                raise ValueError(f"line {number} of graph-hash file {str(path)!r} is not a canonical graph "
                                 f"hash (16 hex digits): {line[:40]!r}")
            hashes.add(line)
    return frozenset(hashes)
