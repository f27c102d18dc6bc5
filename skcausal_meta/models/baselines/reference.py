"""Reference baselines that look at the data only through its number of columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..._validation import check_random_state
from ...datasets.graphs import ErdosRenyi
from .._constraints import NON_NEGATIVE_FLOAT, POSITIVE_INT
from ._empirical import EmpiricalGraphEstimator

if TYPE_CHECKING:
    from ..._typing import RandomStateLike

__all__ = ["EmptyGraphEstimator", "RandomDAGEstimator"]


class EmptyGraphEstimator(EmpiricalGraphEstimator):
    """The graph without edges, as a one-sample posterior.

    The reference row of every benchmark: its SHD equals the number of true edges, and a method
    that does not beat it has learnt nothing about the structure.

    Parameters
    ----------
    standardize : bool, default=True
        z-score the columns (affects :meth:`score` only; see :class:`~skcausal_meta.models.base.BaseCausalEstimator`).
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None
        Unused (the estimator is deterministic); accepted for a uniform API.

    Attributes
    ----------
    graphs_ : ndarray of shape (1, d, d)
        The empty graph.

    Examples
    --------
    >>> from skcausal_meta import EmptyGraphEstimator, make_scm_family
    >>> from skcausal_meta.metrics import e_shd
    >>> X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50, random_state=0)
    >>> est = EmptyGraphEstimator().fit(X[0])
    >>> est.graph_
    GraphEstimate(graph, n_nodes=4, directed=0, undirected=0)
    >>> e_shd(graphs[0], est.predict_graph_posterior()), int(graphs[0].sum())  # SHD = true edges
    (3.0, 3)
    """

    def __init__(
        self,
        *,
        standardize: bool = True,
        device: str = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _fit(self, X, mask):
        d = X.shape[1]
        self.graphs_ = np.zeros((1, d, d), dtype=np.int8)


class RandomDAGEstimator(EmpiricalGraphEstimator):
    """Random DAGs from an Erdos-Renyi prior, ignoring the data: the chance-level baseline.

    Graphs are drawn from :class:`~skcausal_meta.datasets.graphs.ErdosRenyi` with
    ``edges_per_node * d`` expected edges and a uniformly random node order. The default
    ``edges_per_node=1`` (ER-1) is a sparse prior that needs no knowledge of the true graph; set
    it to the true density (e.g. ``17 / 11`` for Sachs) for a chance level matched in density.
    Values above ``(d - 1) / 2`` are lowered to the complete DAG.

    Parameters
    ----------
    edges_per_node : float, default=1.0
        Expected edges per node ``k`` (edge probability ``2k / (d - 1)`` per pair).
    n_graphs : int, default=100
        Number of DAGs in the posterior.
    standardize : bool, default=True
    device : str, default="auto"
        Accepted for a uniform API; the estimator runs in numpy.
    random_state : int, numpy.random.Generator or None, default=None

    Attributes
    ----------
    graphs_ : ndarray of shape (n_graphs, d, d)
        The sampled DAGs (equal weights).

    Examples
    --------
    >>> from skcausal_meta import RandomDAGEstimator, make_scm_family
    >>> X, _, _ = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50, random_state=0)
    >>> est = RandomDAGEstimator(edges_per_node=1.5, n_graphs=10, random_state=0).fit(X[0])
    >>> posterior = est.predict_graph_posterior()
    >>> posterior.samples.shape, bool(posterior.is_dag.all())
    ((10, 4, 4), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **EmpiricalGraphEstimator._parameter_constraints,
        "edges_per_node": [NON_NEGATIVE_FLOAT],
        "n_graphs": [POSITIVE_INT],
    }

    def __init__(
        self,
        edges_per_node: float = 1.0,
        n_graphs: int = 100,
        *,
        standardize: bool = True,
        device: str = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.edges_per_node = edges_per_node
        self.n_graphs = n_graphs
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    def _fit(self, X, mask):
        rng = check_random_state(self.random_state)
        prior = ErdosRenyi(edges_per_node=float(self.edges_per_node), cap_density=True)
        self.graphs_ = np.stack([prior.sample(X.shape[1], rng) for _ in range(self.n_graphs)])
