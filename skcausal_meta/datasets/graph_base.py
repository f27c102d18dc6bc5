"""The base class of graph priors, and the orientation every prior but the scale-free one uses.

The kinds are in :mod:`skcausal_meta.datasets.graphs` (and :mod:`~skcausal_meta.datasets.scale_free`).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .._validation import check_positive_int, check_random_state

__all__ = ["GraphPrior", "orient_by_random_order"]


def orient_by_random_order(skeleton: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Orient a symmetric 0/1 skeleton into a DAG along a uniformly random node order."""
    d = skeleton.shape[0]
    rank = rng.permutation(d)
    upper = np.triu(np.asarray(skeleton, dtype=bool), k=1)
    upper = upper | upper.T
    return (upper & (rank[:, None] < rank[None, :])).astype(np.int8)


class GraphPrior:
    """Base class: ``sample(d, random_state) -> (d, d) int8 DAG``.

    Every prior draws with :meth:`sample` and describes itself with :meth:`to_dict`; the
    kinds (``kind``) are the subclasses :class:`~skcausal_meta.datasets.ErdosRenyi`,
    :class:`~skcausal_meta.datasets.ScaleFree`, :class:`~skcausal_meta.datasets.WattsStrogatz`,
    :class:`~skcausal_meta.datasets.StochasticBlock`,
    :class:`~skcausal_meta.datasets.GeometricRandom` and :class:`~skcausal_meta.datasets.FixedGraph`.

    Examples
    --------
    A sample is acyclic: the ``d``-th power of its adjacency matrix is zero.

    >>> import numpy as np
    >>> from skcausal_meta.datasets import ErdosRenyi, GraphPrior
    >>> prior = ErdosRenyi(edges_per_node=1.0)
    >>> isinstance(prior, GraphPrior)
    True
    >>> A = prior.sample(5, random_state=0)
    >>> A.shape, A.dtype, bool(np.linalg.matrix_power(A, 5).any())
    ((5, 5), dtype('int8'), False)
    >>> prior.to_dict()
    {'type': 'er', 'edges_per_node': 1.0, 'cap_density': False}
    """

    kind: str = ""

    def sample(self, n_nodes: int, random_state=None) -> np.ndarray:
        """Draw one DAG over ``n_nodes`` nodes."""
        n_nodes = check_positive_int(n_nodes, "n_nodes")
        rng = check_random_state(random_state)
        return self._sample(n_nodes, rng)

    def _sample(self, d: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def to_dict(self) -> dict:
        """JSON-serialisable description; ``make_graph_prior(prior.to_dict())`` rebuilds it."""
        out = {"type": self.kind}
        out.update({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()})
        return out
