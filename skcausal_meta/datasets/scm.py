"""One structural causal model: a DAG, a mechanism and a noise per node.

Node ``j`` is generated as ``x_j = post_j(f_j(pa_j) + shift_j + e_j)`` where ``post_j`` is the
identity except for post-nonlinear mechanisms. Sampling first draws the unscaled noise of every
node (one call per noise kind), then walks the nodes in topological order, vectorised over
rows; the log density is exact (additive noise, and post-nonlinear through
the change of variables) and uses the truncated factorisation under perfect interventions.
Each node's model is a :class:`~skcausal_meta.datasets.node_model.NodeModel` (re-exported here).
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING

import numpy as np

from .._validation import check_adjacency, check_positive_int, check_random_state, kahn_order
from .ancestral import forward
from .interventions import Interventions
from .mechanisms import Constant
from .node_model import NodeModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from .._typing import RandomStateLike

__all__ = ["NodeModel", "SCMInstance"]


@functools.lru_cache(maxsize=64)
def _default_names(d: int) -> tuple[str, ...]:
    """``("X0", ..., "X{d-1}")``, made once per size (instances are drawn by the thousand)."""
    return tuple(f"X{j}" for j in range(d))


class SCMInstance:
    """A structural causal model with a fixed graph, mechanisms and noises.

    Parameters
    ----------
    graph : array of shape (d, d)
        The DAG, ``graph[i, j] = 1`` for ``i -> j``.
    nodes : list of NodeModel
        One model per node, in node order.
    node_names : list of str, optional
        Names of the nodes (``X0, X1, ...`` by default).

    Examples
    --------
    Instances are usually drawn from a family:

    >>> import numpy as np
    >>> from skcausal_meta import SCMInstance, get_family
    >>> scm = get_family("id").sample_instance(random_state=0, n_nodes=3)
    >>> scm.node_names, scm.graph.shape
    (['X0', 'X1', 'X2'], (3, 3))
    >>> X = scm.sample(100, random_state=0)
    >>> X.shape, scm.log_prob(X).shape
    ((100, 3), (100,))

    Interventions, per call or as a new SCM in which the node is fixed:

    >>> scm.sample(5, interventions={"X0": 2.0}, random_state=0)[:, 0]
    array([2., 2., 2., 2., 2.])
    >>> fixed = scm.do({0: 2.0})
    >>> bool((fixed.sample(5, random_state=0)[:, 0] == 2.0).all())
    True

    The plain-data record rebuilds the same SCM:

    >>> again = SCMInstance.from_dict(scm.to_dict())
    >>> bool(np.allclose(again.sample(5, random_state=1), scm.sample(5, random_state=1)))
    True
    """

    def __init__(self, graph: ArrayLike, nodes: list[NodeModel], node_names: Sequence[str] | None = None) -> None:
        self._setup(check_adjacency(graph, "graph", require_dag=True), nodes, node_names)

    @classmethod
    def _from_prior(cls, graph: np.ndarray, nodes: list[NodeModel]) -> "SCMInstance":
        """An instance over a DAG a graph prior has just drawn (an int8 DAG by construction), without
        validating it again: families draw one per data set, and the check cost more than the rest
        of the set-up. A cycle would still be caught when the topological order is made."""
        scm = cls.__new__(cls)
        scm._setup(graph, nodes, None)
        return scm

    def _setup(self, graph: np.ndarray, nodes: list[NodeModel], node_names) -> None:
        self.graph = graph
        self.n_nodes = graph.shape[0]
        if len(nodes) != self.n_nodes:
            raise ValueError(f"nodes must hold one model per node ({self.n_nodes}), got {len(nodes)}")
        self.nodes = list(nodes)
        self.node_names = list(node_names if node_names is not None else _default_names(self.n_nodes))
        # Edges grouped by child, parents ascending: one np.nonzero instead of one scan per node.
        child, parent = np.nonzero(graph.T)
        bounds = np.searchsorted(child, np.arange(self.n_nodes + 1)).tolist()
        self.parents = [parent[bounds[j]:bounds[j + 1]] for j in range(self.n_nodes)]
        order = kahn_order(self.n_nodes, parent.tolist(), child.tolist())
        if order is None:
            raise ValueError("graph must be a DAG, but it has a directed cycle")
        self.order = np.asarray(order)
        # nodes with noise grouped by noise kind, in node order: each group draws its noise at once
        groups = {}
        for j, node in enumerate(self.nodes):
            if node.noise is not None:
                groups.setdefault(type(node.noise), []).append(j)
        self._noise_groups = list(groups.values())

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n: int,
        interventions: Interventions | dict[int | str, float] | None = None,
        random_state: RandomStateLike = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw ``n`` rows.

        Parameters
        ----------
        n : int
            Number of rows.
        interventions : None, Interventions or dict
            ``None`` for observational rows; an :class:`Interventions` with ``n`` rows; or a dict
            ``{node: value}`` meaning ``do(x_node = value)`` on every row.
        random_state : int, numpy Generator or None
            Seed; the same seed gives the same array.
        out : ndarray of shape (n, d), optional
            Where to write the rows (a C-ordered float64 array; :func:`make_scm_family` passes
            a slice of its stack).

        Returns
        -------
        X : ndarray of shape (n, d)
            ``out`` when given.
        """
        n = check_positive_int(n, "n")
        if out is not None and (out.shape != (n, self.n_nodes) or out.dtype != np.float64
                                or not out.flags.c_contiguous):
            raise ValueError(f"out must be a C-ordered float64 array of shape {(n, self.n_nodes)}, "
                             f"got {out.dtype} {out.shape}")
        iv = None if interventions is None else self._interventions(interventions, n)
        XT = forward(self, n, iv, check_random_state(random_state))
        if out is None:
            return np.ascontiguousarray(XT.T)
        np.copyto(out, XT.T)
        return out

    def _interventions(self, interventions, n: int) -> Interventions:
        if isinstance(interventions, dict):
            mask = np.zeros((n, self.n_nodes), dtype=bool)
            values = np.zeros((n, self.n_nodes))
            for node, value in interventions.items():
                j = self._node_index(node)
                mask[:, j], values[:, j] = True, float(value)
            return Interventions(mask, values, "perfect")
        return Interventions.coerce(interventions, n, self.n_nodes)

    def _node_index(self, node) -> int:
        if isinstance(node, str):
            if node not in self.node_names:
                raise ValueError(f"unknown node {node!r}; nodes are {self.node_names}")
            return self.node_names.index(node)
        if not 0 <= int(node) < self.n_nodes:
            raise ValueError(f"node index {node!r} out of range for {self.n_nodes} nodes")
        return int(node)

    # ------------------------------------------------------------------ density
    def log_prob(self, X: ArrayLike, interventions: Interventions | ArrayLike | None = None) -> np.ndarray:
        """Exact log density of each row, ``(n,)``.

        Under perfect interventions (a bare mask, or :class:`Interventions` of kind
        ``"perfect"``) the intervened nodes' terms are dropped (truncated factorisation); under
        shift interventions the shifted mechanism is used. Nodes fixed by :meth:`do` contribute
        no term.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_nodes:
            raise ValueError(f"X must have shape (n, {self.n_nodes}), got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinite values")
        iv = self._interventions(interventions, X.shape[0])
        out = np.zeros(X.shape[0])
        for j in range(self.n_nodes):
            node = self.nodes[j]
            if node.noise is None:
                continue
            pa = X[:, self.parents[j]]
            z, log_jac = node.mechanism.post_inverse(node.mechanism_params, X[:, j])
            resid = z - node.mechanism.apply(node.mechanism_params, pa)
            if iv.kind == "shift":
                resid = resid - np.where(iv.mask[:, j], iv.values[:, j], 0.0)
                keep = np.ones(X.shape[0], dtype=bool)
            else:
                keep = ~iv.mask[:, j]
            term = node.noise.log_prob(node.noise_params, resid, pa) + log_jac
            out += np.where(keep, term, 0.0)
        return out

    # ------------------------------------------------------------------ interventions
    def do(self, interventions: dict) -> "SCMInstance":
        """A new SCM in which each node in ``interventions`` (``{node: value}``, index or name)
        is fixed to its value: its incoming edges and its noise are removed."""
        graph = self.graph.copy()
        nodes = list(self.nodes)
        for node, value in interventions.items():
            j = self._node_index(node)
            graph[:, j] = 0
            nodes[j] = NodeModel(Constant(float(value)), {"value": float(value)}, None, {})
        return SCMInstance(graph, nodes, self.node_names)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """JSON-serialisable metadata that :meth:`from_dict` turns back into the same SCM."""
        return {
            "graph": self.graph.tolist(),
            "node_names": self.node_names,
            "nodes": [node.to_dict() for node in self.nodes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SCMInstance":
        """Rebuild an SCM written by :meth:`to_dict` (or read back from its JSON)."""
        missing = {"graph", "nodes"} - set(data) if isinstance(data, dict) else {"graph", "nodes"}
        if missing:
            raise ValueError(f"an SCM record needs the keys ['graph', 'nodes'], missing {sorted(missing)}")
        try:
            nodes = [NodeModel.from_dict(node) for node in data["nodes"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"an SCM record's nodes must be NodeModel records (to_dict), failed on {exc!r}") from exc
        return cls(np.asarray(data["graph"]), nodes, data.get("node_names"))

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        kinds = sorted({node.mechanism.kind for node in self.nodes})
        return f"SCMInstance(n_nodes={self.n_nodes}, n_edges={int(self.graph.sum())}, mechanisms={kinds})"
