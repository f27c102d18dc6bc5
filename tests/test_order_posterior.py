"""The exact order-modular BGe edge posterior against enumeration over every DAG."""

import itertools

import numpy as np
import pytest
import torch

from skcausal_meta.graph_utils import enumerate_dags
from skcausal_meta.models.bge import BGe
from skcausal_meta.models.order_posterior import MAX_NODES, order_edge_posterior


def _n_topological_orders(graph):
    d = len(graph)
    return sum(all(graph[b, a] == 0 for k, a in enumerate(p) for b in p[k + 1:])
               for p in itertools.permutations(range(d)))


def _enumerated_edge_posterior(X, mask, edges_per_node):
    """Every DAG weighted by its BGe marginal likelihood, its edge prior and its number of
    topological orders (the order-modular prior), normalised; the weighted mean graph."""
    d = X.shape[1]
    Z = (X - X.mean(0)) / X.std(0)
    dags = enumerate_dags(d).astype(np.float64)
    p = min(2 * edges_per_node / (d - 1), 0.5)
    bge = BGe(torch.as_tensor(Z), torch.as_tensor(mask))
    log_lik = bge.log_marginal_likelihood(torch.as_tensor(dags)).numpy()
    log_w = log_lik + dags.sum((1, 2)) * np.log(p / (1 - p)) + np.log([_n_topological_orders(g) for g in dags])
    w = np.exp(log_w - log_w.max())
    return np.einsum("k,kij->ij", w / w.sum(), dags)


@pytest.mark.parametrize("d, edges_per_node, intervened", [(3, 1.0, False), (4, 1.5, False), (4, 1.0, True)])
def test_equals_enumeration_over_all_dags(d, edges_per_node, intervened):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(40, d))
    X[:, 1] += 0.8 * X[:, 0]
    X[:, d - 1] += 0.5 * X[:, 1] - 0.7 * X[:, 0]
    mask = np.zeros(X.shape, bool)
    if intervened:
        mask[:10, 1] = True
    probs = order_edge_posterior(X, mask, edges_per_node=edges_per_node)
    expected = _enumerated_edge_posterior(X, mask, edges_per_node)
    np.testing.assert_allclose(probs, expected, atol=1e-9)
    assert np.all(np.diag(probs) == 0)


def test_ranks_a_chain_skeleton_first():
    """With n = 2000 rows of a 6-node chain every adjacent pair has skeleton probability near 1
    and above every other pair (which keep some mass: orders that break the chain need an extra
    edge, and the order-modular prior counts orders)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    for j in range(1, 6):
        X[:, j] += 0.8 * X[:, j - 1]
    probs = order_edge_posterior(X)
    skeleton = probs + probs.T
    chain = np.eye(6, k=1, dtype=bool) | np.eye(6, k=-1, dtype=bool)
    assert skeleton[chain].min() > 0.97
    assert skeleton[~chain & ~np.eye(6, dtype=bool)].max() < skeleton[chain].min() - 0.5


@pytest.mark.parametrize("X, kwargs, match", [
    (np.zeros((10, MAX_NODES + 1)), {}, "MAX_NODES"),
    (np.zeros(10), {}, "2-d"),
    (np.ones((10, 3)), {"edges_per_node": 0.0}, "edges_per_node"),
])
def test_rejects_bad_input(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        order_edge_posterior(X, **kwargs)
