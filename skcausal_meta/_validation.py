"""Input validation shared by every module (no torch here).

Each checker raises ``ValueError`` naming the parameter and the offending value, so that bad
input fails early with a message a user can act on (DESIGN section 2). :func:`parse_yaml` and
:func:`read_json` are the only ways files come in: they bound what a hostile or damaged file can
cost (aliases, nesting depth, node count) and name the file in their errors.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from pathlib import Path

import numpy as np
import yaml

__all__ = [
    "check_random_state",
    "check_adjacency",
    "check_adjacency_stack",
    "check_interventions",
    "check_positive_int",
    "check_positive_float",
    "is_dag",
    "kahn_order",
    "parse_yaml",
    "parse_json",
    "read_json",
]

# Every file the library reads nests far less deeply (a benchmark config about 8 levels, an
# scm.json 7); the limits keep parsers and the code walking their output away from Python's
# recursion limit, and the node count bounds a config's parse time (about a second).
MAX_NESTING = 64
MAX_YAML_NODES = 100_000


def check_random_state(random_state) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int, a Generator, a SeedSequence or None.

    A Generator is returned as is (so the caller's stream advances), anything else seeds a new
    one. The global numpy RNG is never read or changed.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state!r}")
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, a non-negative int, a numpy SeedSequence or a "
        f"numpy.random.Generator, got {random_state!r} of type {type(random_state).__name__}"
    )


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise ``ValueError`` naming ``name`` if it is not >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(value, name: str, *, inclusive: bool = False, maximum: float | None = None) -> float:
    """Return ``value`` as float, or raise ``ValueError`` naming ``name`` unless it is a finite real
    number (not a bool) > 0 (>= 0 when ``inclusive``) and, when given, <= ``maximum``."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
          and (value >= 0 if inclusive else value > 0) and (maximum is None or value <= maximum))
    if not ok:
        bounds = (">= 0" if inclusive else "> 0") + ("" if maximum is None else f" and <= {maximum:g}")
        raise ValueError(f"{name} must be a finite float {bounds}, got {value!r}")
    return float(value)


def kahn_order(d: int, parent: list[int], child: list[int]) -> list[int] | None:
    """Topological order of the ``d`` nodes with edges ``parent[e] -> child[e]``, ``None`` on a cycle.

    Kahn's algorithm, first-in first-out from the roots in index order; each node's children
    are released in the order its edges are listed.
    """
    indegree = [0] * d
    children = [[] for _ in range(d)]
    for i, j in zip(parent, child):
        children[i].append(j)
        indegree[j] += 1
    order = [j for j in range(d) if indegree[j] == 0]
    for node in order:  # the list grows while it is walked: a FIFO queue
        for j in children[node]:
            indegree[j] -= 1
            if indegree[j] == 0:
                order.append(j)
    return order if len(order) == d else None


def is_dag(adjacency: np.ndarray) -> bool:
    """True when the square 0/1 matrix ``adjacency`` has no directed cycle (:func:`kahn_order`)."""
    parent, child = np.nonzero(np.asarray(adjacency))
    return kahn_order(np.shape(adjacency)[0], parent.tolist(), child.tolist()) is not None


def check_adjacency(adjacency, name: str = "graph", require_dag: bool = False,
                    n_nodes: int | None = None) -> np.ndarray:
    """Validate a single ``(d, d)`` 0/1 adjacency matrix with zero diagonal (and ``d = n_nodes``
    when given); return it as int8."""
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {a.shape}")
    if n_nodes is not None and a.shape[0] != n_nodes:
        raise ValueError(f"{name} must have shape {(n_nodes, n_nodes)}, got {a.shape}")
    if a.shape[0] < 1:
        raise ValueError(f"{name} must have at least one node, got shape {a.shape}")
    if not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 (or bool) entries, got values {np.unique(a)[:5]}")
    if np.diag(a).any():
        raise ValueError(f"{name} must have a zero diagonal (no self loops)")
    a = a.astype(np.int8)
    if require_dag and not is_dag(a):
        raise ValueError(f"{name} must be a DAG, but it has a directed cycle")
    return a


def check_adjacency_stack(graphs, name: str = "graphs") -> np.ndarray:
    """Validate a non-empty stack ``(S, d, d)`` of 0/1 matrices with zero diagonals (a single
    ``(d, d)`` becomes ``S = 1``)."""
    g = np.asarray(graphs)
    if g.ndim == 2:
        g = g[None]
    if g.ndim != 3 or g.shape[1] != g.shape[2]:
        raise ValueError(f"{name} must have shape (S, d, d), got {np.asarray(graphs).shape}")
    if g.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one graph, got S=0")
    if not np.isin(g, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 (or bool) entries")
    g = g.astype(np.int8)
    loops = np.flatnonzero(np.einsum("kii->k", g))
    if loops.size:
        raise ValueError(f"{name} must have zero diagonals (no self loops); graph {int(loops[0])} has one")
    return g


def check_interventions(interventions, n: int, d: int, name: str = "interventions") -> np.ndarray:
    """Validate a boolean intervention mask of shape ``(n, d)``; ``None`` gives all False.

    ``mask[r, j]`` is True when node ``j`` was intervened on in row ``r``. Accepts bool arrays
    and 0/1 integer arrays; anything else (floats, other values, wrong shape) is an error. A row
    that intervenes on every node carries no information about any mechanism and is rejected.
    """
    if interventions is None:
        return np.zeros((n, d), dtype=bool)
    m = np.asarray(interventions)
    if m.shape != (n, d):
        raise ValueError(f"{name} must have shape (n, d) = {(n, d)}, got {m.shape}")
    if m.dtype != bool:
        if not np.issubdtype(m.dtype, np.integer) or not np.isin(m, (0, 1)).all():
            raise ValueError(f"{name} must be a boolean (or 0/1 integer) mask, got dtype {m.dtype}")
        m = m.astype(bool)
    if d > 1 and m.all(axis=1).any():
        row = int(np.flatnonzero(m.all(axis=1))[0])
        raise ValueError(f"{name} row {row} intervenes on every node; at least one must be observed")
    return m


class _BoundedYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases and bounds nesting depth and node count.

    Aliases are refused outright: they let a few hundred bytes expand to billions of nodes (the
    "billion laughs"), and a config never needs them. Depth and count are checked while the
    document is composed, before anything is built from it.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = self._nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            problem = f"YAML aliases (*{event.anchor}) are not allowed: write the value out in full"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        self._nodes += 1
        self._depth += 1
        if self._depth > MAX_NESTING or self._nodes > MAX_YAML_NODES:
            what = f"nests deeper than {MAX_NESTING} levels" if self._depth > MAX_NESTING else \
                f"has more than {MAX_YAML_NODES} nodes"
            raise yaml.composer.ComposerError(None, None, f"the document {what}", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, source: str):
    """Parse YAML ``text`` safely (plain data only, no aliases, bounded depth and size).

    Parameters
    ----------
    text : str
        The document.
    source : str
        What the text is (a file name), for the error message.

    Raises
    ------
    ValueError
        Naming ``source`` and what is wrong (with YAML's line and column).
    """
    try:
        return yaml.load(text, Loader=_BoundedYamlLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source} is not valid YAML: {exc}") from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def parse_json(text: str, source: str, max_depth: int = MAX_NESTING):
    """Parse JSON ``text``, refusing documents nested deeper than ``max_depth`` levels.

    The depth is counted on the brackets outside strings before parsing, so a hostile document
    nested 100 000 deep fails here with a clear message instead of a ``RecursionError``.

    Raises
    ------
    ValueError
        Naming ``source``: invalid JSON or nested too deeply.
    """
    codes = np.frombuffer(_JSON_STRING.sub('""', text).encode(), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    depth = int(np.cumsum(steps).max(initial=0))
    if depth > max_depth:
        raise ValueError(f"{source} nests {depth} levels deep, more than the {max_depth} allowed")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not valid JSON: {exc}") from None


def read_json(path, max_depth: int = MAX_NESTING):
    """:func:`parse_json` of the file ``path`` (UTF-8).

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        Naming the file: not UTF-8, invalid JSON or nested too deeply.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not UTF-8 text: {exc}") from None
    return parse_json(text, repr(str(path)), max_depth)
