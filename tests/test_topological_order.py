"""``kahn_order`` / ``is_dag``, the one topological sort of the package, against networkx."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcausal_meta._validation import is_dag, kahn_order
from skcausal_meta.datasets import SCMInstance, get_family


@settings(max_examples=200, deadline=None)
@given(d=st.integers(1, 7), density=st.floats(0.0, 0.6), seed=st.integers(0, 2**31 - 1))
def test_kahn_order_agrees_with_networkx(d, density, seed):
    adjacency = (np.random.default_rng(seed).random((d, d)) < density).astype(int)
    graph = nx.from_numpy_array(adjacency, create_using=nx.DiGraph)
    parent, child = np.nonzero(adjacency)
    order = kahn_order(d, parent.tolist(), child.tolist())
    assert is_dag(adjacency) == nx.is_directed_acyclic_graph(graph) == (order is not None)
    if order is not None:
        assert sorted(order) == list(range(d))
        position = {node: k for k, node in enumerate(order)}
        assert all(position[i] < position[j] for i, j in zip(parent, child))


def test_scm_sampling_follows_its_topological_order():
    scm = get_family("id").sample_instance(random_state=3, n_nodes=6)
    position = {node: k for k, node in enumerate(scm.order.tolist())}
    assert all(position[i] < position[j] for i, j in zip(*np.nonzero(scm.graph)))


def test_a_cyclic_graph_is_refused_by_name():
    cycle = np.array([[0, 1], [1, 0]])
    assert kahn_order(2, [0, 1], [1, 0]) is None
    with pytest.raises(ValueError, match="cycle"):
        SCMInstance(cycle, [])
