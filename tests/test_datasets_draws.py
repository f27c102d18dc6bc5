"""Random draws of the SCM generator: signed uniforms, Box-Muller normals, noise drawn per kind."""

import numpy as np
import pytest
from scipy import stats

from skcausal_meta.datasets import FixedGraph, Gaussian, Laplace, Linear, SCMFamily, StudentT, Uniform
from skcausal_meta.datasets._params import draw, draw_signed
from skcausal_meta.datasets.noise import _standard_normal
from skcausal_meta.datasets.scm import NodeModel, SCMInstance


def test_scalar_draw_is_numpys_uniform():
    rng, ref = np.random.default_rng(3), np.random.default_rng(3)
    for lo, hi in [(-3.0, 3.0), (0.2, 2.0), (7.0, 10.0)]:
        assert draw((lo, hi), rng) == ref.uniform(lo, hi)
    assert draw((1, 4), rng) in {1, 2, 3, 4} and draw(2.5, rng) == 2.5


@pytest.mark.parametrize("low, high", [(1.0, 3.0), (0.5, 2.0), (0.0, 1.0)])
def test_signed_uniform_has_fair_signs_and_uniform_magnitudes(low, high):
    w = draw_signed((low, high), (400, 50), np.random.default_rng(int(10 * high)))
    assert w.shape == (400, 50)
    magnitude, negative = np.abs(w), w < 0
    assert low <= magnitude.min() and magnitude.max() <= high
    assert stats.binomtest(int(negative.sum()), w.size).pvalue > 1e-3
    for part in (magnitude[negative], magnitude[~negative]):  # uniform, whatever the sign
        assert stats.kstest(part, stats.uniform(low, high - low).cdf).pvalue > 1e-3


def test_signed_integer_range_and_number():
    w = draw_signed((1, 3), 6000, np.random.default_rng(0))
    values, counts = np.unique(w, return_counts=True)
    assert values.tolist() == [-3, -2, -1, 1, 2, 3]
    assert stats.chisquare(counts).pvalue > 1e-3
    fixed = draw_signed(2.0, 1000, np.random.default_rng(1))
    assert set(fixed.tolist()) == {-2.0, 2.0}


def test_box_muller_normals_are_standard_normal():
    z = _standard_normal((7, 30001), np.random.default_rng(0))  # odd total: the last pair is cut
    assert z.shape == (7, 30001) and z.dtype == np.float64 and np.isfinite(z).all()
    flat = z.ravel()
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    assert abs(flat.mean()) < 0.01 and abs(flat.std() - 1.0) < 0.01
    assert abs(stats.kurtosis(flat)) < 0.05 and abs(stats.skew(flat)) < 0.05
    assert abs(np.mean(np.abs(flat) > 3.0) - 2 * stats.norm.sf(3.0)) < 5e-4  # tails
    half = flat.size // 2  # the cosine and sine halves of the same pairs are independent
    assert abs(np.corrcoef(flat[:half], flat[half : 2 * half])[0, 1]) < 0.01
    np.testing.assert_array_equal(z, _standard_normal((7, 30001), np.random.default_rng(0)))


def test_box_muller_matches_double_precision_formula():
    """Single-precision arithmetic after a double-precision uniform: the variates agree with
    ``sqrt(-2 log(1 - u)) (cos, sin)(2 pi v)`` in double precision to 1e-6 relative, 5e-6
    absolute (the single-precision angle, near the zeros of the cosine and sine)."""
    z = _standard_normal((4, 5001), np.random.default_rng(3)).ravel()
    rng = np.random.default_rng(3)
    half = (z.size + 1) // 2
    u, v = rng.random(half), rng.random(half, dtype=np.float32).astype(float)
    r = np.sqrt(-2.0 * np.log(1.0 - u))
    expected = np.concatenate([r * np.cos(2.0 * np.pi * v), r * np.sin(2.0 * np.pi * v)])[: z.size]
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=5e-6)


def test_student_t_draws_one_degrees_of_freedom_per_node():
    noise = StudentT()
    draws = noise.draw_standard([{"scale": 1.0, "df": 1.5}, {"scale": 1.0, "df": 30.0}], 20000,
                                np.random.default_rng(2))
    assert draws.shape == (2, 20000)
    for row, df in zip(draws, (1.5, 30.0)):
        assert stats.kstest(row, stats.t(df).cdf).pvalue > 1e-3


def test_noise_of_mixed_kinds_is_drawn_per_kind():
    """Nodes of different noise kinds, and one without noise: each node's residual comes from its
    own kind and scale."""
    graph = np.zeros((4, 4), dtype=np.int8)
    graph[0, 1] = graph[1, 2] = 1
    kinds = [Gaussian(), Uniform(), Laplace(), None]
    nodes = [NodeModel(Linear(), {"weights": np.ones(int(graph[:, j].sum())), "bias": 0.5},
                       noise, {} if noise is None else {"scale": 2.0}) for j, noise in enumerate(kinds)]
    scm = SCMInstance(graph, nodes)
    X = scm.sample(20000, random_state=4)
    resid = np.column_stack([X[:, 0] - 0.5, X[:, 1] - X[:, 0] - 0.5, X[:, 2] - X[:, 1] - 0.5]) / 2.0
    assert stats.kstest(resid[:, 0], "norm").pvalue > 1e-3
    assert stats.kstest(resid[:, 1], stats.uniform(-np.sqrt(3.0), 2 * np.sqrt(3.0)).cdf).pvalue > 1e-3
    assert stats.kstest(resid[:, 2], stats.laplace(scale=1 / np.sqrt(2.0)).cdf).pvalue > 1e-3
    np.testing.assert_array_equal(X[:, 3], 0.5)
    np.testing.assert_array_equal(X, scm.sample(20000, random_state=4))


def test_heteroscedastic_scale_follows_parents():
    graph = np.array([[0, 1], [0, 0]], dtype=np.int8)
    family = SCMFamily(name="hetero", graph=FixedGraph(graph), noise={"type": "heteroscedastic", "strength": 1.0},
                       n_nodes=2)
    scm = family.sample_instance(5)
    X = scm.sample(20000, random_state=6)
    child = scm.nodes[1]
    resid = X[:, 1] - child.mechanism.apply(child.mechanism_params, X[:, :1])
    scale = child.noise.node_scale(child.noise_params, X[:, :1])
    assert np.ptp(scale) > 0.1
    assert stats.kstest(resid / scale, "norm").pvalue > 1e-3
