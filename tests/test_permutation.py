"""Tests of the Sinkhorn / Gumbel-Sinkhorn / Hungarian permutation components."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skcausal_meta.models.components.permutation import (
    hungarian,
    log_sinkhorn,
    rank_permutation,
    sample_gumbel,
    sample_permutations,
    sinkhorn,
    straight_through,
)

def square_matrices(max_d=5, bound=3.0):
    return st.integers(1, max_d).flatmap(
        lambda d: arrays(np.float64, (d, d), elements=st.floats(-bound, bound, allow_nan=False))
    )


def brute_force_assignment(scores):
    """Best permutation by enumerating all d! of them."""
    d = scores.shape[0]
    best = max(itertools.permutations(range(d)), key=lambda s: scores[np.arange(d), list(s)].sum())
    return np.eye(d)[list(best)]


def is_permutation_matrix(p):
    p = np.asarray(p)
    return np.isin(p, (0.0, 1.0)).all() and (p.sum(-1) == 1).all() and (p.sum(-2) == 1).all()


@settings(max_examples=50, deadline=None)
@given(square_matrices(max_d=6), st.sampled_from([1.5, 2.0, 3.0]))
def test_sinkhorn_is_doubly_stochastic(matrix, temperature):
    # Sinkhorn converges linearly with rate tanh(D / 4)^2, D <= 4 max|matrix| / temperature the
    # Hilbert projective diameter (Birkhoff); with |matrix| / temperature <= 2 the rate is <= 0.93,
    # so 1000 rounds are far past the tolerance (lower temperatures need many more rounds).
    s = sinkhorn(torch.tensor(matrix), temperature=temperature, n_iters=1000).numpy()
    assert (s >= 0).all()
    np.testing.assert_allclose(s.sum(-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(s.sum(-2), 1.0, atol=1e-6)


def test_sinkhorn_batched_matches_loop():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 2, 4, 4, generator=gen)
    batched = log_sinkhorn(x, n_iters=10)
    for idx in itertools.product(range(3), range(2)):
        torch.testing.assert_close(batched[idx], log_sinkhorn(x[idx], n_iters=10))


def test_sinkhorn_of_a_doubly_stochastic_matrix_is_unchanged():
    # A doubly stochastic matrix is a fixed point of the row/column normalisation.
    a = torch.tensor([[0.2, 0.5, 0.3], [0.5, 0.1, 0.4], [0.3, 0.4, 0.3]])
    torch.testing.assert_close(sinkhorn(a.log(), n_iters=5), a)


def test_sinkhorn_low_temperature_approaches_hungarian():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 5, generator=gen, dtype=torch.float64)
    s = sinkhorn(x, temperature=0.01, n_iters=500)
    torch.testing.assert_close(s, hungarian(x), atol=1e-2, rtol=0)


@settings(max_examples=60, deadline=None)
@given(square_matrices(max_d=5, bound=10.0))
def test_hungarian_matches_brute_force(matrix):
    p = hungarian(torch.tensor(matrix)).numpy()
    assert is_permutation_matrix(p)
    best = brute_force_assignment(matrix)
    # ties allowed: compare the achieved objective, not the argmax itself
    assert (p * matrix).sum() == pytest.approx((best * matrix).sum(), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(square_matrices(max_d=5), st.data())
def test_hungarian_ignores_row_and_column_constants(matrix, data):
    d = matrix.shape[0]
    rows = np.array(data.draw(arrays(np.float64, d, elements=st.floats(-5, 5))))
    cols = np.array(data.draw(arrays(np.float64, d, elements=st.floats(-5, 5))))
    shifted = matrix + rows[:, None] + cols[None, :]
    p, q = hungarian(torch.tensor(matrix)).numpy(), hungarian(torch.tensor(shifted)).numpy()
    assert (p * matrix).sum() == pytest.approx((q * matrix).sum(), abs=1e-8)


def test_hungarian_batched_and_keeps_dtype():
    x = torch.randn(2, 3, 4, 4, dtype=torch.float32, generator=torch.Generator().manual_seed(2))
    p = hungarian(x)
    assert p.shape == x.shape and p.dtype == torch.float32
    assert is_permutation_matrix(p.numpy())


def test_hungarian_rejects_non_finite_and_non_square():
    with pytest.raises(ValueError, match="finite"):
        hungarian(torch.tensor([[0.0, float("nan")], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="scores"):
        hungarian(torch.zeros(2, 3))


@pytest.mark.parametrize("seed", range(3))
def test_straight_through_gradient_equals_soft_gradient(seed):
    gen = torch.Generator().manual_seed(seed)
    log_alpha = torch.randn(2, 4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    gumbel = sample_gumbel((2, 3, 4, 4), generator=gen, dtype=torch.float64)

    def soft_and_hard():
        perturbed = log_alpha.unsqueeze(1) + gumbel
        soft = sinkhorn(perturbed, temperature=0.7, n_iters=30)
        return soft, hungarian(perturbed)

    soft, hard = soft_and_hard()
    st_perm = straight_through(hard, soft)
    assert torch.equal(st_perm, hard)  # forward: exactly the hard permutation

    def loss(p):
        # nonlinear, so the upstream gradient depends on where it is evaluated (at the hard matrix)
        return (p * weights).sum() ** 2 + (p**3 * weights).sum()

    (grad_st,) = torch.autograd.grad(loss(st_perm), log_alpha)
    p_hard = hard.clone().requires_grad_()
    (upstream,) = torch.autograd.grad(loss(p_hard), p_hard)
    soft, _ = soft_and_hard()
    (grad_soft,) = torch.autograd.grad(soft, log_alpha, grad_outputs=upstream)
    torch.testing.assert_close(grad_st, grad_soft)
    assert grad_st.abs().sum() > 0


def test_sample_permutations_shapes_hard_values_and_seed():
    log_alpha = torch.randn(3, 5, 5, generator=torch.Generator().manual_seed(0))
    hard, soft = sample_permutations(log_alpha, n_draws=7, generator=torch.Generator().manual_seed(4))
    assert hard.shape == soft.shape == (3, 7, 5, 5)
    assert is_permutation_matrix(hard.detach().numpy())
    again, _ = sample_permutations(log_alpha, n_draws=7, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(hard, again)
    mode, _ = sample_permutations(log_alpha, gumbel=torch.zeros(3, 2, 5, 5))
    torch.testing.assert_close(mode, hungarian(log_alpha).unsqueeze(1).expand_as(mode))
    with pytest.raises(ValueError, match="gumbel"):
        sample_permutations(log_alpha, gumbel=torch.zeros(3, 4, 4))


def test_sample_permutations_follows_gumbel_matching_distribution():
    # For d = 2 the identity wins when a11 + g11 + g22 > g12 + g21 (the other scores are 0).
    # g11 - g12 and g22 - g21 are independent standard logistic, so
    # P(identity) = P(L1 - L2 < a11), computed below by quadrature.
    log_alpha = torch.tensor([[1.2, 0.0], [0.0, 0.0]])
    hard, _ = sample_permutations(log_alpha, n_draws=20000, generator=torch.Generator().manual_seed(0))
    freq = hard[:, 0, 0].mean().item()
    grid = np.linspace(-40, 40, 200001)
    logistic_pdf = np.exp(-grid) / (1 + np.exp(-grid)) ** 2
    cdf_shift = 1 / (1 + np.exp(-(grid + 1.2)))
    expected = np.trapezoid(logistic_pdf * cdf_shift, grid)
    assert freq == pytest.approx(expected, abs=0.015)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_draws": 0}, "n_draws"),
        ({"temperature": 0.0}, "temperature"),
        ({"n_iters": 0}, "n_iters"),
    ],
)
def test_sample_permutations_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_permutations(torch.zeros(3, 3), **kwargs)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_fixed_noise_sample_is_equivariant_to_relabelling_rows(d, seed):
    # Relabelling the rows (nodes) of the logits and of the noise relabels the hard sample's rows.
    gen = torch.Generator().manual_seed(seed)
    log_alpha = torch.randn(d, d, generator=gen, dtype=torch.float64)
    gumbel = sample_gumbel((3, d, d), generator=gen, dtype=torch.float64)
    perm = torch.randperm(d, generator=gen)
    hard, soft = sample_permutations(log_alpha, gumbel=gumbel)
    hard_p, soft_p = sample_permutations(log_alpha[perm], gumbel=gumbel[:, perm])
    torch.testing.assert_close(hard_p, hard[:, perm])
    torch.testing.assert_close(soft_p, soft[:, perm])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 7).flatmap(lambda d: st.lists(
    st.lists(st.integers(-500, 500), min_size=d, max_size=d, unique=True), min_size=3, max_size=3)))
def test_rank_permutation_is_the_hungarian_assignment_of_rank_one_scores(values):
    """For scores v_i o_j with o increasing, sorting gives the optimal assignment (distinct v)."""
    v = torch.tensor(values, dtype=torch.float64) / 100
    o = torch.arange(1, v.shape[-1] + 1, dtype=v.dtype) * 10.0
    torch.testing.assert_close(rank_permutation(v), hungarian(v.unsqueeze(-1) * o), rtol=0, atol=0)


def test_log_sinkhorn_gradient_equals_autograd_through_the_rounds():
    """The hand-written backward pass against autograd through the plain rounds (float64)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 2, 6, 6, generator=gen, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(3, 2, 6, 6, generator=gen, dtype=torch.float64)

    def plain(y, n_iters):
        for _ in range(n_iters):
            y = y - torch.logsumexp(y, dim=-1, keepdim=True)
            y = y - torch.logsumexp(y, dim=-2, keepdim=True)
        return y

    for n_iters in (1, 7):
        ours = log_sinkhorn(x, n_iters)
        torch.testing.assert_close(ours, plain(x, n_iters))
        (expected,) = torch.autograd.grad((plain(x, n_iters).exp() * weights).sum(), x)
        (got,) = torch.autograd.grad((ours.exp() * weights).sum(), x)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
        assert float(got.abs().max()) > 1e-3
