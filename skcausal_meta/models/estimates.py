"""Point estimates of a graph posterior: :class:`GraphEstimate` (one graph with node names) and
the methods that draw one from weighted samples (threshold, mode, CPDAG of the mode).

The methods live on :class:`PointEstimates`, a base of
:class:`~skcausal_meta.models.posterior.GraphPosterior`, so that the posterior module holds the
distribution itself (samples, weights, marginals, saving) and this one what is read off it.
Numpy only.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from .._validation import check_adjacency_stack, is_dag
from ..graph_utils import dag_to_cpdag

__all__ = ["GraphEstimate", "PointEstimates"]


class GraphEstimate:
    """One graph estimated from a :class:`~skcausal_meta.models.posterior.GraphPosterior`, with node names.

    Returned by :meth:`PointEstimates.threshold`, :meth:`PointEstimates.mode` and
    :meth:`PointEstimates.cpdag`, and exposed as ``graph_`` by fitted estimators.

    Parameters
    ----------
    adjacency : array-like of shape (d, d)
        ``adjacency[i, j] == 1`` for the edge ``i -> j``. In a CPDAG (``cpdag=True``) a pair with
        ``adjacency[i, j] == adjacency[j, i] == 1`` is the undirected edge ``i - j``; otherwise it
        is a 2-cycle ``i -> j -> i``.
    node_names : sequence of str
        Names of the ``d`` nodes.
    cpdag : bool, default=False
        Whether symmetric pairs are undirected edges.
    probability : float, default=None
        Posterior probability of the graph (the summed weight of the samples equal to it) for the
        mode, of the mode for its CPDAG; ``None`` where it has none (a thresholded graph).

    Attributes
    ----------
    adjacency : ndarray of shape (d, d), dtype int8
    node_names : list of str
    cpdag : bool
    probability : float or None

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.models.posterior import GraphEstimate
    >>> chain = GraphEstimate(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]), ["a", "b", "c"], cpdag=True)
    >>> chain.undirected_edges(), chain.directed_edges()
    ([('a', 'b'), ('b', 'c')], [])
    >>> int(chain.to_frame().loc["a", "b"])
    1
    """

    def __init__(self, adjacency, node_names, cpdag=False, probability=None):
        self.adjacency = check_adjacency_stack(np.asarray(adjacency)[None], name="adjacency")[0]
        self.node_names = [str(name) for name in node_names]
        if len(self.node_names) != self.adjacency.shape[0]:
            raise ValueError(f"node_names must have {self.adjacency.shape[0]} entries, got {len(self.node_names)}")
        self.cpdag = bool(cpdag)
        self.probability = None if probability is None else float(probability)

    def _pairs(self, undirected: bool) -> list[tuple[str, str]]:
        A = self.adjacency.astype(bool)
        both = A & A.T if self.cpdag else np.zeros_like(A)
        edges = np.triu(both) if undirected else A & ~both
        return [(self.node_names[i], self.node_names[j]) for i, j in zip(*np.nonzero(edges))]

    def directed_edges(self) -> list[tuple[str, str]]:
        """The directed edges ``(parent, child)``, by node name, in row-major order."""
        return self._pairs(undirected=False)

    def undirected_edges(self) -> list[tuple[str, str]]:
        """The undirected edges of a CPDAG, each pair once (empty for other graphs)."""
        return self._pairs(undirected=True)

    def is_dag(self) -> bool:
        """True when the graph has no undirected edge and no directed cycle."""
        return not self.undirected_edges() and is_dag(self.adjacency)

    def to_frame(self) -> pd.DataFrame:
        """The adjacency matrix as a DataFrame indexed by node name (rows cause columns)."""
        return pd.DataFrame(self.adjacency, index=self.node_names, columns=self.node_names)

    def to_networkx(self) -> nx.DiGraph:
        """A :class:`~networkx.DiGraph` on the named nodes.

        Every edge has the boolean attribute ``undirected``; an undirected edge of a CPDAG is the
        pair of arcs ``i -> j`` and ``j -> i``, both with ``undirected=True`` (the convention of
        pcalg's and causal-learn's CPDAG matrices).
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(self.node_names)
        graph.add_edges_from(self.directed_edges(), undirected=False)
        for a, b in self.undirected_edges():
            graph.add_edges_from([(a, b), (b, a)], undirected=True)
        return graph

    def __repr__(self) -> str:
        kind = "CPDAG" if self.cpdag else "graph"
        return (f"GraphEstimate({kind}, n_nodes={len(self.node_names)}, directed={len(self.directed_edges())}, "
                f"undirected={len(self.undirected_edges())})")


class PointEstimates:
    """The point estimates of a weighted sample of graphs, as :class:`~skcausal_meta.models.estimates.GraphEstimate` objects.

    A base class of :class:`~skcausal_meta.models.posterior.GraphPosterior`; it reads the
    attributes ``samples``, ``weights``, ``edge_probs``, ``is_dag``, ``node_names``,
    ``n_graphs`` and ``n_nodes`` of the posterior.

    Examples
    --------
    Three of four samples are the chain ``a -> b -> c``, one its reverse:

    >>> import numpy as np
    >>> from skcausal_meta import GraphPosterior
    >>> chain, reverse = [[0, 1, 0], [0, 0, 1], [0, 0, 0]], [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    >>> posterior = GraphPosterior(np.array([chain, chain, chain, reverse]), node_names=["a", "b", "c"])
    >>> posterior.threshold(0.5).directed_edges()  # the edges of more than half of the samples
    [('a', 'b'), ('b', 'c')]
    >>> mode = posterior.mode()
    >>> mode.directed_edges(), mode.probability
    ([('a', 'b'), ('b', 'c')], 0.75)
    >>> posterior.cpdag().undirected_edges()  # observational data cannot orient a chain
    [('a', 'b'), ('b', 'c')]
    """

    def threshold(self, p: float = 0.5) -> GraphEstimate:
        """The graph of the edges whose marginal probability exceeds ``p``.

        With ``p=0.5`` this is the median probability graph: it minimises the posterior expected
        number of wrong adjacency entries. It may be cyclic when the samples may be (AVICI).

        Parameters
        ----------
        p : float, default=0.5
            Threshold in ``[0, 1)``; an edge is kept when ``edge_probs > p``.

        Returns
        -------
        GraphEstimate

        Examples
        --------
        >>> import numpy as np
        >>> from skcausal_meta import GraphPosterior
        >>> samples = np.array([[[0, 1], [0, 0]], [[0, 1], [0, 0]], [[0, 0], [1, 0]]])
        >>> GraphPosterior(samples, node_names=["a", "b"]).threshold(0.5).directed_edges()
        [('a', 'b')]
        """
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.number)) or not 0 <= p < 1:
            raise ValueError(f"p must be a number in [0, 1), got {p!r}")
        return GraphEstimate((self.edge_probs > p).astype(np.int8), self.node_names)

    def mode(self, acyclic: bool = False) -> GraphEstimate:
        """The most probable sampled graph: the largest summed weight over identical samples.

        Deterministic: ties (within floating-point rounding) go to the graph whose flattened
        adjacency sorts first, whatever the order of the samples.

        Parameters
        ----------
        acyclic : bool, default=False
            Rank only the acyclic samples (for posteriors whose samples may be cyclic).

        Returns
        -------
        GraphEstimate
            With ``probability`` the summed weight of the graph.

        Raises
        ------
        ValueError
            If ``acyclic=True`` and no sample of positive weight is a DAG.

        Examples
        --------
        >>> import numpy as np
        >>> from skcausal_meta import GraphPosterior
        >>> samples = np.array([[[0, 1], [0, 0]], [[0, 0], [1, 0]], [[0, 0], [1, 0]]])
        >>> mode = GraphPosterior(samples, node_names=["a", "b"]).mode()
        >>> mode.directed_edges(), round(mode.probability, 3)
        ([('b', 'a')], 0.667)
        """
        keep = self.is_dag if acyclic else np.ones(self.n_graphs, dtype=bool)
        keep = keep & (self.weights > 0)
        if not keep.any():
            raise ValueError("no sample of positive weight is a DAG; there is no acyclic mode")
        flat = self.samples[keep].reshape(int(keep.sum()), -1)
        unique, inverse = np.unique(flat, axis=0, return_inverse=True)  # rows in lexicographic order
        mass = np.bincount(inverse.ravel(), weights=self.weights[keep])
        best = int(np.flatnonzero(np.isclose(mass, mass.max(), rtol=1e-9, atol=0))[0])
        return GraphEstimate(unique[best].reshape(self.n_nodes, self.n_nodes), self.node_names,
                             probability=mass[best])

    def map_graph(self, acyclic: bool = False) -> GraphEstimate:
        """The maximum a posteriori sampled graph: the same as :meth:`mode`.

        Examples
        --------
        >>> import numpy as np
        >>> from skcausal_meta import GraphPosterior
        >>> GraphPosterior(np.array([[[0, 1], [0, 0]]]), node_names=["a", "b"]).map_graph().directed_edges()
        [('a', 'b')]
        """
        return self.mode(acyclic=acyclic)

    def cpdag(self) -> GraphEstimate:
        """The CPDAG of the most probable acyclic sample (``mode(acyclic=True)``).

        The completed partially directed acyclic graph represents the Markov equivalence class
        of the mode: the edges every equivalent DAG orients alike stay directed, the others are
        undirected (v-structures plus Meek's orientation rules; see :class:`~skcausal_meta.models.estimates.GraphEstimate` for
        the encoding; built by :func:`skcausal_meta.graph_utils.dag_to_cpdag`). Observational
        data cannot tell the members of a class apart.

        Returns
        -------
        GraphEstimate
            With ``cpdag=True`` and ``probability`` the summed weight of the mode.

        Raises
        ------
        ValueError
            If no sample of positive weight is a DAG.

        Examples
        --------
        >>> import numpy as np
        >>> from skcausal_meta import GraphPosterior
        >>> collider = np.array([[[0, 0, 1], [0, 0, 1], [0, 0, 0]]])  # a -> c <- b
        >>> GraphPosterior(collider, node_names=["a", "b", "c"]).cpdag().directed_edges()
        [('a', 'c'), ('b', 'c')]
        >>> chain = np.array([[[0, 1, 0], [0, 0, 1], [0, 0, 0]]])  # a -> b -> c
        >>> GraphPosterior(chain, node_names=["a", "b", "c"]).cpdag().undirected_edges()
        [('a', 'b'), ('b', 'c')]
        """
        mode = self.mode(acyclic=True)
        return GraphEstimate(dag_to_cpdag(mode.adjacency), self.node_names, cpdag=True,
                             probability=mode.probability)
