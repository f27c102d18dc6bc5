"""Input validation shared by every module (no torch here).

Each checker raises ``ValueError`` naming the parameter and the offending value, so that bad
input fails early with a message a user can act on (DESIGN section 2).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_random_state",
    "check_adjacency",
    "check_adjacency_stack",
    "check_interventions",
    "check_positive_int",
    "check_positive_float",
    "is_dag",
]


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


def is_dag(adjacency: np.ndarray) -> bool:
    """True when the square 0/1 matrix ``adjacency`` has no directed cycle (Kahn's algorithm)."""
    a = np.asarray(adjacency) != 0
    indegree = a.sum(axis=0)
    remaining = np.ones(a.shape[0], dtype=bool)
    frontier = list(np.flatnonzero(indegree == 0))
    while frontier:
        node = frontier.pop()
        remaining[node] = False
        for child in np.flatnonzero(a[node]):
            indegree[child] -= 1
            if indegree[child] == 0:
                frontier.append(child)
    return not remaining.any()


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
