"""The posterior over graphs every estimator returns.

:class:`GraphPosterior` holds weighted samples and edge marginals, and saves them; its point
estimates (:meth:`~GraphPosterior.threshold`, :meth:`~GraphPosterior.mode`,
:meth:`~GraphPosterior.cpdag`) come from :class:`~skcausal_meta.models.estimates.PointEstimates`
and are :class:`GraphEstimate` objects (re-exported here). Numpy only (no torch), so that
metrics, baselines and saved posteriors work without it.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from scipy.special import logsumexp

from .._files import atomic_write_bytes
from .._validation import check_adjacency_stack, check_positive_int, check_random_state, is_dag
from .estimates import GraphEstimate, PointEstimates

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._typing import PathLike, RandomStateLike

__all__ = ["GraphEstimate", "GraphPosterior"]


def _normalise_log_weights(log_weights, n_graphs: int) -> np.ndarray:
    if log_weights is None:
        return np.full(n_graphs, -np.log(n_graphs))
    lw = np.asarray(log_weights, dtype=np.float64)
    if lw.shape != (n_graphs,):
        raise ValueError(f"log_weights must have shape ({n_graphs},), got {lw.shape}")
    if np.isnan(lw).any() or np.isposinf(lw).any() or np.isneginf(lw).all():
        raise ValueError("log_weights must be finite or -inf, with at least one finite entry")
    return lw - logsumexp(lw)


class GraphPosterior(PointEstimates):
    """A (weighted) sample-based posterior over graphs.

    Parameters
    ----------
    samples : array-like of shape (S, d, d)
        Sampled adjacency matrices, ``samples[k, i, j] == 1`` meaning edge ``i -> j``.
    log_weights : array-like of shape (S,), default=None
        Log weights of the samples, normalised here to ``logsumexp == 0``. ``None`` means
        uniform weights (an empirical posterior).
    edge_probs : array-like of shape (d, d), default=None
        Marginal edge probabilities. ``None`` computes the weighted marginals
        ``sum_k w_k samples[k]``; models whose posterior factorises over edges (AVICI) pass
        their exact marginals instead.
    node_names : sequence of str, default=None
        Names of the ``d`` nodes; ``None`` gives ``x0, ..., x{d-1}``.
    log_prob : callable, default=None
        ``log_prob(G) -> float`` for models that define an exact (possibly unnormalised)
        graph log probability. It is not saved by :meth:`save`.

    Attributes
    ----------
    samples : ndarray of shape (S, d, d), dtype int8
    log_weights : ndarray of shape (S,)
    edge_probs : ndarray of shape (d, d)
    is_dag : ndarray of shape (S,), dtype bool
        Whether each sample is acyclic.
    node_names : list of str

    Examples
    --------
    Fitted estimators return one from ``predict_graph_posterior()``; it can also be built from
    sampled graphs. Two samples of the chain ``a -> b -> c`` and one of the reversed chain:

    >>> import numpy as np
    >>> from skcausal_meta import GraphPosterior
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> posterior = GraphPosterior(np.stack([G, G, G.T]), node_names=["a", "b", "c"])
    >>> posterior.n_graphs, posterior.n_nodes, bool(posterior.is_dag.all())
    (3, 3, True)
    >>> posterior.edge_probs.round(2)
    array([[0.  , 0.67, 0.  ],
           [0.33, 0.  , 0.67],
           [0.  , 0.33, 0.  ]])
    >>> mode = posterior.mode()
    >>> mode.directed_edges(), round(mode.probability, 2)
    ([('a', 'b'), ('b', 'c')], 0.67)
    >>> posterior.cpdag().undirected_edges()  # the chain's Markov equivalence class
    [('a', 'b'), ('b', 'c')]
    >>> posterior.sample(4, random_state=0).shape
    (4, 3, 3)

    Weighted samples (``log_weights`` are normalised), and a round trip through a file:

    >>> weighted = GraphPosterior(np.stack([G, G.T]), log_weights=np.log([0.9, 0.1]))
    >>> weighted.weights.round(2), weighted.node_names
    (array([0.9, 0.1]), ['x0', 'x1', 'x2'])
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     weighted.save(os.path.join(tmp, "posterior.npz"))
    ...     loaded = GraphPosterior.load(os.path.join(tmp, "posterior.npz"))
    >>> bool(np.allclose(loaded.edge_probs, weighted.edge_probs))
    True
    """

    def __init__(
        self,
        samples: ArrayLike,
        log_weights: ArrayLike | None = None,
        edge_probs: ArrayLike | None = None,
        node_names: Sequence[str] | None = None,
        log_prob: Callable[[np.ndarray], float] | None = None,
    ) -> None:
        self.samples = check_adjacency_stack(samples, name="samples")
        n_graphs, d = self.samples.shape[0], self.samples.shape[1]
        self.log_weights = _normalise_log_weights(log_weights, n_graphs)
        self._explicit_edge_probs = edge_probs is not None
        if edge_probs is None:
            # clipped: a sum of S equal weights 1/S can round to 1 + 1e-16
            self.edge_probs = np.clip(np.einsum("k,kij->ij", self.weights, self.samples), 0.0, 1.0)
        else:
            self.edge_probs = np.asarray(edge_probs, dtype=np.float64)
            if self.edge_probs.shape != (d, d):
                raise ValueError(f"edge_probs must have shape {(d, d)}, got {self.edge_probs.shape}")
            if not np.all((self.edge_probs >= 0) & (self.edge_probs <= 1)):
                raise ValueError("edge_probs must lie in [0, 1]")
            if np.diag(self.edge_probs).any():
                raise ValueError("edge_probs must have a zero diagonal (no self loops)")
        if node_names is None:
            node_names = [f"x{j}" for j in range(d)]
        self.node_names = [str(name) for name in node_names]
        if len(self.node_names) != d:
            raise ValueError(f"node_names must have {d} entries, got {len(self.node_names)}")
        if log_prob is not None and not callable(log_prob):
            raise ValueError(f"log_prob must be callable or None, got {log_prob!r}")
        self._log_prob = log_prob
        self.is_dag = np.array([is_dag(g) for g in self.samples], dtype=bool)

    @property
    def n_graphs(self) -> int:
        """Number of stored graph samples ``S``."""
        return self.samples.shape[0]

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``d``."""
        return self.samples.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """Normalised sample weights ``exp(log_weights)``."""
        return np.exp(self.log_weights)

    @property
    def has_log_prob(self) -> bool:
        """True when the model supplied an exact graph log probability."""
        return self._log_prob is not None

    def with_node_names(self, node_names: Sequence[str]) -> "GraphPosterior":
        """A copy of this posterior with other node names."""
        return GraphPosterior(
            self.samples,
            self.log_weights,
            self.edge_probs if self._explicit_edge_probs else None,
            node_names=node_names,
            log_prob=self._log_prob,
        )

    def entropy(self) -> float:
        """Plug-in Shannon entropy (nats) of the weighted distribution over unique samples.

        Weights of identical sampled graphs are summed first, so the value is the entropy of
        the discrete distribution the samples represent, ``-sum_G p(G) log p(G)``.
        """
        flat = self.samples.reshape(self.n_graphs, -1)
        _, inverse = np.unique(flat, axis=0, return_inverse=True)
        p = np.bincount(inverse.ravel(), weights=self.weights)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    def log_prob(self, graph: ArrayLike) -> float:
        """Exact log probability of ``graph`` under the model, where the model defines one.

        Raises
        ------
        NotImplementedError
            If the posterior was built without a ``log_prob`` callable.
        """
        if self._log_prob is None:
            raise NotImplementedError(
                "this posterior has no exact log_prob; use edge_probs for a product-of-marginals "
                "approximation"
            )
        return float(self._log_prob(np.asarray(graph)))

    def sample(self, n: int, random_state: RandomStateLike = None) -> np.ndarray:
        """Draw ``n`` graphs with replacement according to the weights; returns ``(n, d, d)`` int8."""
        n = check_positive_int(n, "n")
        rng = check_random_state(random_state)
        idx = rng.choice(self.n_graphs, size=n, p=self.weights)
        return self.samples[idx]


    def to_networkx(self) -> nx.DiGraph:
        """A :class:`~networkx.DiGraph` on the named nodes with an edge ``i -> j`` wherever ``edge_probs > 0``.

        The edge attribute ``weight`` holds the marginal probability.
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(self.node_names)
        rows, cols = np.nonzero(self.edge_probs)
        graph.add_weighted_edges_from(
            (self.node_names[i], self.node_names[j], float(self.edge_probs[i, j]))
            for i, j in zip(rows, cols)
        )
        return graph

    def save(self, path: PathLike) -> None:
        """Write the posterior to ``path`` as an ``.npz`` archive, atomically.

        Written with ``skcausal_meta._files.atomic_write_bytes``, so a reader never sees a
        half-written file. The ``log_prob``
        callable is not saved.
        """
        buffer = io.BytesIO()
        np.savez(
            buffer,
            samples=self.samples,
            log_weights=self.log_weights,
            edge_probs=self.edge_probs,
            explicit_edge_probs=np.array(self._explicit_edge_probs),
            node_names=np.array(self.node_names, dtype=str),
        )
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: PathLike) -> "GraphPosterior":
        """Read a posterior written by :meth:`save` (no pickle is ever loaded).

        Raises
        ------
        ValueError
            Naming the file when it is not an ``.npz`` archive of a posterior (another file, a
            truncated one, or one holding pickled objects).
        """
        path = os.fspath(path)
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path!r} is not a GraphPosterior file (an .npz archive written by GraphPosterior.save)")
        try:
            with np.load(path, allow_pickle=False) as data:
                explicit = bool(data["explicit_edge_probs"])
                return cls(
                    data["samples"],
                    data["log_weights"],
                    data["edge_probs"] if explicit else None,
                    node_names=data["node_names"].tolist(),
                )
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:  # a damaged or foreign archive
            raise ValueError(f"{path!r} is not a valid GraphPosterior file ({type(exc).__name__}: {exc})") from None

    def __repr__(self) -> str:
        return f"GraphPosterior(n_graphs={self.n_graphs}, n_nodes={self.n_nodes})"
