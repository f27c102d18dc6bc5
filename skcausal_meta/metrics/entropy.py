"""Uncertainty summaries of a posterior over graphs: graph entropy and mean edge entropy (nats)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.special import xlogy

from ._docs import fill_doc
from ._inputs import _edge_marginals, _graph_samples, _is_posterior, _off_diagonal

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from skcausal_meta.models.posterior import GraphPosterior

__all__ = ["graph_entropy", "edge_entropy"]


@fill_doc
def graph_entropy(
    prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None, return_source: bool = False
) -> float | tuple[float, Literal["independent_edges", "plugin", "plugin_cap"]]:
    """Entropy (nats) of the posterior over graphs: exact for independent edges, else plug-in.

    * ``"independent_edges"`` (exact): when ``prediction`` is a posterior whose ``log_prob`` is
      the product of independent Bernoulli edges with its ``edge_probs`` (AVICI's posterior; it
      is recognised by comparing ``log_prob`` with that product on the first samples), the
      entropy has the closed form ``sum_{i != j} h(p_ij)``, the sum of the edges' binary
      entropies (``d (d - 1)`` times :func:`edge_entropy`).
    * ``"plugin"``: otherwise, the entropy of the (weighted) empirical distribution of the
      samples. The weights of identical samples are pooled, ``p_u = sum_{k: G_k = G_u} w_k``, and
      ``H = -sum_u p_u log p_u``. It cannot exceed ``log S`` for ``S`` samples: for a posterior
      that spreads over more graphs than it has samples every sample is distinct and the value
      is exactly ``log S`` (4.61 for 100 samples) whatever the true spread, so it is then a
      lower bound (the estimator's cap), not a measurement. Weighted particle posteriors (DiBS)
      are their weighted samples, for which the value is exact.

    Parameters
    ----------
    %(sample_prediction)s
    return_source : bool, default=False
        Also return which estimate was used: ``"independent_edges"``, ``"plugin"`` or
        ``"plugin_cap"`` (the plug-in estimate equals its cap ``log S`` with uniform weights and
        all samples distinct).

    Returns
    -------
    entropy : float
    source : {"independent_edges", "plugin", "plugin_cap"}
        Only when ``return_source`` is True.

    Examples
    --------
    Twenty independent edges with probability 1/2 have ``2^20`` equally likely graphs, so the
    entropy is ``20 log 2 = 13.86``; 100 samples of them are all distinct, and their plug-in
    entropy stops at ``log 100 = 4.61``:

    >>> import numpy as np
    >>> from skcausal_meta.metrics import graph_entropy
    >>> from skcausal_meta.models.posterior import GraphPosterior
    >>> probs = np.full((5, 5), 0.5) - 0.5 * np.eye(5)
    >>> samples = (np.random.default_rng(0).random((100, 5, 5)) < probs).astype(np.int8)
    >>> bernoulli = lambda G: float(np.sum(np.log(np.where(G, probs, 1 - probs))[~np.eye(5, dtype=bool)]))
    >>> exact = GraphPosterior(samples, edge_probs=probs, log_prob=bernoulli)
    >>> [round(v, 2) if isinstance(v, float) else v for v in graph_entropy(exact, return_source=True)]
    [13.86, 'independent_edges']
    >>> [round(v, 2) if isinstance(v, float) else v for v in graph_entropy(samples, return_source=True)]
    [4.61, 'plugin_cap']
    """
    samples, w = _graph_samples(prediction, weights)
    if _has_independent_edges(prediction, samples):
        p = _off_diagonal(np.asarray(prediction.edge_probs, dtype=float))
        value, source = float((-xlogy(p, p) - xlogy(1 - p, 1 - p)).sum()), "independent_edges"
    else:
        _, inverse = np.unique(samples.reshape(samples.shape[0], -1), axis=0, return_inverse=True)
        pooled = np.bincount(inverse.ravel(), weights=w)
        value = float(-xlogy(pooled, pooled).sum())
        capped = pooled.size == samples.shape[0] > 1 and np.allclose(w, w[0])
        source = "plugin_cap" if capped else "plugin"
    return (value, source) if return_source else value


def _has_independent_edges(prediction, samples, n_checked: int = 3) -> bool:
    """Whether a posterior's ``log_prob`` is the independent-Bernoulli product of its marginals,
    checked on its first ``n_checked`` samples (a posterior with another ``log_prob``, such as a
    mixture over orders, differs from the product on almost every graph)."""
    if not (_is_posterior(prediction) and callable(getattr(prediction, "log_prob", None))):
        return False
    probs = _off_diagonal(np.asarray(prediction.edge_probs, dtype=float))
    for graph in samples[:n_checked]:
        edges = _off_diagonal(graph)
        with np.errstate(divide="ignore"):
            product = float((xlogy(edges, probs) + xlogy(1 - edges, 1 - probs)).sum())
        try:
            value = float(prediction.log_prob(graph))
        except NotImplementedError:
            return False
        if not np.isclose(value, product, rtol=1e-6, atol=1e-6):
            return False
    return True


@fill_doc
def edge_entropy(prediction: GraphPosterior | ArrayLike, weights: ArrayLike | None = None) -> float:
    """Mean binary entropy (nats) of the off-diagonal edge marginals.

    ``mean_{i != j} -[p_ij log p_ij + (1 - p_ij) log(1 - p_ij)]``; 0 for a point mass, ``log 2``
    when every edge has probability 1/2.

    Parameters
    ----------
    %(marginal_prediction)s

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.metrics import edge_entropy
    >>> round(edge_entropy(np.full((3, 3), 0.5)), 3)  # log 2
    0.693
    >>> G = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> edge_entropy(G)  # one graph: no uncertainty
    0.0
    >>> samples = np.stack([G, [[0, 0, 1], [1, 0, 1], [0, 0, 0]]])  # 3 of 6 edges at 1/2
    >>> round(edge_entropy(samples), 3)
    0.347
    """
    probs = _edge_marginals(prediction, weights)
    if probs.shape[0] < 2:
        raise ValueError(f"edge_entropy needs at least 2 nodes, got a graph with {probs.shape[0]}")
    p = _off_diagonal(probs)
    return float(np.mean(-xlogy(p, p) - xlogy(1 - p, 1 - p)))
