"""Tests for varsortability and R^2-sortability: hand-worked cases, brute force, invariances."""

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcausal_meta.datasets import list_families
from skcausal_meta.datasets.descriptors import (
    _r2_scores,
    dataset_descriptors,
    family_descriptors,
    r2_sortability,
    sortability,
    varsortability,
)
from skcausal_meta.datasets.real import load_sachs

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])


def _chain_data(n, seed=0):
    """x0 = e0, x1 = x0 + e1, x2 = x1 + e2 with unit-variance noise: variances 1, 2, 3."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((n, 3)), axis=1)


def _brute_force(scores, graph):
    """Enumerate every directed path; each pair counts once per distinct path length."""
    g = nx.DiGraph(np.asarray(graph))
    num = den = 0.0
    for i, j in itertools.permutations(range(len(scores)), 2):
        lengths = {len(p) - 1 for p in nx.all_simple_paths(g, i, j)}
        credit = 1.0 if scores[i] < scores[j] else 0.5 if scores[i] == scores[j] else 0.0
        num += credit * len(lengths)
        den += len(lengths)
    return num / den if den else float("nan")


def test_hand_worked_scores():
    assert sortability([1, 2, 3], CHAIN) == 1.0
    assert sortability([3, 2, 1], CHAIN) == 0.0
    assert sortability([1, 1, 1], CHAIN) == 0.5
    # pairs: (0,1) up, (1,2) down (length 1); (0,2) up (length 2) -> 2/3
    assert sortability([1, 3, 2], CHAIN) == pytest.approx(2 / 3)
    # triangle 0->1->2, 0->2: (0,2) counts for length 1 and for length 2
    triangle = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    assert sortability([2, 3, 1], triangle) == pytest.approx(1 / 4)


def test_empty_graph_is_nan():
    assert np.isnan(sortability([1, 2, 3], np.zeros((3, 3), int)))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1), st.booleans())
def test_matches_path_enumeration(d, seed, with_ties):
    rng = np.random.default_rng(seed)
    graph = np.triu(rng.random((d, d)) < 0.5, k=1).astype(int)
    perm = rng.permutation(d)
    graph = graph[np.ix_(perm, perm)]
    scores = rng.integers(0, 3, size=d).astype(float) if with_ties else rng.standard_normal(d)
    expected = _brute_force(scores, graph)
    got = sortability(scores, graph)
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected)


def test_varsortability_chain_and_standardisation():
    X = _chain_data(5000)
    assert varsortability(X, CHAIN) == 1.0
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    assert varsortability(Z, CHAIN) == 0.5  # all variances tied after z-scoring
    assert varsortability(X[:, ::-1], CHAIN[::-1, ::-1]) == 1.0  # relabelling nodes changes nothing
    assert varsortability(X / np.array([1.0, 10.0, 100.0]), CHAIN) == 0.0


def test_r2_scores_of_the_chain_match_closed_form():
    """For the unit-noise chain, R^2 of x_j on the rest is 1 - Var(x_j | rest) / Var(x_j) with
    Var(x_j | rest) = 1 / K_jj, K = (I - B)^T (I - B): R^2 = (1/2, 3/4, 2/3)."""
    X = _chain_data(200_000, seed=1)
    np.testing.assert_allclose(_r2_scores(X), [0.5, 0.75, 2 / 3], atol=5e-3)
    assert r2_sortability(X, CHAIN) == pytest.approx(2 / 3)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=3, max_size=3), st.integers(0, 1000))
def test_r2_sortability_is_scale_invariant(scales, seed):
    X = _chain_data(400, seed=seed)
    assert r2_sortability(X * np.array(scales), CHAIN) == r2_sortability(X, CHAIN)


def test_dataset_descriptors_stack():
    X = np.stack([_chain_data(300, seed=s) for s in range(3)])
    graphs = np.stack([CHAIN, CHAIN, np.zeros((3, 3), int)])
    out = dataset_descriptors(X, graphs)
    np.testing.assert_array_equal(out["varsortability"][:2], [1.0, 1.0])
    assert np.isnan(out["varsortability"][2]) and np.isnan(out["r2_sortability"][2])


def test_family_descriptors():
    assert "id" in list_families()
    row = family_descriptors("id", n_datasets=4, n_nodes=5, n_samples=100, random_state=0)
    assert row["family"] == "id" and row["n_datasets"] == 4
    for key in ("varsortability_mean", "r2_sortability_mean"):
        assert 0.0 <= row[key] <= 1.0
    assert row == family_descriptors("id", n_datasets=4, n_nodes=5, n_samples=100, random_state=0)


def test_sachs_descriptors_are_defined():
    X, _, graph = load_sachs(observational_only=True)
    assert 0.0 <= varsortability(X.to_numpy(), graph) <= 1.0
    assert 0.0 <= r2_sortability(X.to_numpy(), graph) <= 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="scores must have shape"):
        sortability([1, 2], CHAIN)
    with pytest.raises(ValueError, match="directed cycle"):
        sortability([1, 2], np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="graph must have shape"):
        varsortability(np.ones((5, 2)), CHAIN)
    with pytest.raises(ValueError, match="must be finite"):
        r2_sortability(np.full((5, 3), np.nan), CHAIN)
    with pytest.raises(ValueError, match="stacks of equal length"):
        dataset_descriptors(np.ones((2, 5, 3)), np.zeros((1, 3, 3)))
