"""Tests of log_sinkhorn_fixed_point: the implicit gradient at the fixed point and the warm start."""

import doctest

import numpy as np
import pytest
import torch

from skcausal_meta.models.bayesdag.sampler import BayesDAGSampler
from skcausal_meta.models.components import sinkhorn as sinkhorn_module
from skcausal_meta.models.components.sinkhorn import log_sinkhorn, log_sinkhorn_fixed_point


def plain_rounds(y, n_iters):
    """Row-then-column normalisation in plain torch ops (autograd differentiates the rounds)."""
    for _ in range(n_iters):
        y = y - torch.logsumexp(y, dim=-1, keepdim=True)
        y = y - torch.logsumexp(y, dim=-2, keepdim=True)
    return y


def near_permutations(gen, batch, d, strength):
    perms = torch.stack([torch.eye(d, dtype=torch.float64)[torch.randperm(d, generator=gen)] for _ in range(batch)])
    return strength * perms + torch.randn(batch, d, d, generator=gen, dtype=torch.float64)


def rank_one_scores(gen, chains, d, spread, temperature=0.2):
    """BayesDAG's scores ``p_i o_j / t`` for potentials of standard deviation ``spread``."""
    p = spread * torch.randn(chains, d, generator=gen, dtype=torch.float64)
    return p.unsqueeze(-1) * (10.0 * torch.arange(1, d + 1, dtype=torch.float64)) / temperature


@pytest.mark.parametrize("case", ["randn", "randn/0.3", "near-permutation", "rank-one"])
def test_implicit_gradient_equals_autograd_through_2000_rounds(case):
    """Where 2000 float64 rounds converge (rows within 1e-12), autograd through them gives the
    fixed point's gradient; the implicit one agrees to rounding, for a function of ``P`` and,
    away from permutations, for a generic upstream gradient of ``log P``."""
    gen = torch.Generator().manual_seed(0)
    x = {"randn": lambda: torch.randn(5, 6, 6, generator=gen, dtype=torch.float64),
         "randn/0.3": lambda: torch.randn(5, 6, 6, generator=gen, dtype=torch.float64) / 0.3,
         "near-permutation": lambda: near_permutations(gen, 5, 6, strength=4.0),
         "rank-one": lambda: rank_one_scores(gen, 4, 10, spread=0.05)}[case]().requires_grad_(True)
    weights = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    reference = plain_rounds(x, 2000)
    assert float((reference.exp().sum(-1) - 1).abs().max()) < 1e-12
    fixed = log_sinkhorn_fixed_point(x, tol=1e-13, max_iters=10_000)
    torch.testing.assert_close(fixed.log_p, reference, rtol=0, atol=1e-11)
    losses = [lambda y: (y.exp() * weights).sum()]
    if case != "near-permutation":
        losses.append(lambda y: (y * weights).sum())
    for loss in losses:
        (expected,) = torch.autograd.grad(loss(reference), x, retain_graph=True)
        (got,) = torch.autograd.grad(loss(fixed.log_p), x)
        assert float(expected.abs().max()) > 1e-2
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-11)


def test_implicit_gradient_equals_the_unrolled_one_near_a_permutation():
    """Close to a permutation Sinkhorn needs ~15000 rounds; through as many rounds as the fixed
    point took, the unrolled backward pass (tested against autograd in test_permutation.py)
    and the implicit one agree."""
    gen = torch.Generator().manual_seed(1)
    x = near_permutations(gen, 3, 6, strength=8.0).requires_grad_(True)
    weights = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    fixed = log_sinkhorn_fixed_point(x, tol=1e-12, max_iters=100_000)
    assert fixed.n_rounds > 2000
    (expected,) = torch.autograd.grad((log_sinkhorn(x, fixed.n_rounds).exp() * weights).sum(), x)
    (got,) = torch.autograd.grad((fixed.log_p.exp() * weights).sum(), x)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


def test_implicit_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(2)
    x = 2.0 * torch.randn(2, 5, 5, generator=gen, dtype=torch.float64)
    weights = torch.randn(x.shape, generator=gen, dtype=torch.float64)

    def loss(y):
        return (log_sinkhorn_fixed_point(y, tol=1e-14, max_iters=100_000).log_p.exp() * weights).sum()

    xg = x.clone().requires_grad_(True)
    (got,) = torch.autograd.grad(loss(xg), xg)
    h, numeric = 1e-6, torch.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        step = torch.zeros_like(x)
        step[idx] = h
        numeric[idx] = (loss(x + step) - loss(x - step)) / (2 * h)
    torch.testing.assert_close(got, numeric, rtol=0, atol=1e-8)


def test_gradient_keeps_the_input_dtype_and_is_finite_at_a_numerical_permutation():
    """Scores so extreme that ``P`` is a permutation in float64: the system is singular, the
    pseudo-inverse still gives a finite (about zero) gradient."""
    gen = torch.Generator().manual_seed(3)
    x = rank_one_scores(gen, 4, 10, spread=1.0).float().requires_grad_(True)
    fixed = log_sinkhorn_fixed_point(x, tol=1e-3)
    assert fixed.log_p.dtype == torch.float32 and fixed.potentials.dtype == torch.float32
    (grad,) = torch.autograd.grad((fixed.log_p.exp() * torch.randn(x.shape, generator=gen)).sum(), x)
    assert grad.dtype == torch.float32 and torch.isfinite(grad).all()


def test_stops_at_the_tolerance_with_exact_columns():
    gen = torch.Generator().manual_seed(4)
    x = rank_one_scores(gen, 6, 10, spread=0.1)
    for tol in (1e-2, 1e-3, 1e-5):
        fixed = log_sinkhorn_fixed_point(x, tol=tol, max_iters=100_000)
        P = fixed.log_p.exp()
        assert float((P.sum(-1) - 1).abs().max()) < tol
        assert float((P.sum(-2) - 1).abs().max()) < 1e-12
        # one round fewer was not enough (the check runs every round)
        if fixed.n_rounds > 1:
            earlier = log_sinkhorn_fixed_point(x, tol=tol, max_iters=fixed.n_rounds - 1).log_p.exp()
            assert float((earlier.sum(-1) - 1).abs().max()) >= tol


def test_warm_start_reaches_the_same_fixed_point_in_fewer_rounds():
    """From the scalings of the previous, slightly different scores (a sampler's step), the
    result meets the same tolerance and equals the cold-started one as closely as either equals
    the exact fixed point (rows within 1e-3 leave entries off by up to about 2e-3), in fewer
    rounds (cold starts at spread 0.3 need over a thousand)."""
    gen = torch.Generator().manual_seed(5)
    tol = 1e-3
    for spread in (0.05, 0.1, 0.3):
        p = spread * torch.randn(8, 10, generator=gen, dtype=torch.float64)
        o = 10.0 * torch.arange(1, 11, dtype=torch.float64) / 0.2
        previous = log_sinkhorn_fixed_point(p.unsqueeze(-1) * o, tol=tol, max_iters=100_000)
        moved = p + 1e-3 * torch.randn(p.shape, generator=gen, dtype=torch.float64)
        x = moved.unsqueeze(-1) * o
        cold = log_sinkhorn_fixed_point(x, tol=tol, max_iters=100_000)
        warm = log_sinkhorn_fixed_point(x, tol=tol, max_iters=100_000, init=previous.potentials)
        for result in (cold, warm):
            P = result.log_p.exp()
            assert float((P.sum(-1) - 1).abs().max()) < tol
            assert float((P.sum(-2) - 1).abs().max()) < 1e-12
        if spread < 0.3:  # the exact fixed point at spread 0.3 takes about a million rounds
            exact = log_sinkhorn_fixed_point(x, tol=1e-9, max_iters=100_000).log_p.exp()
            for result in (cold, warm):
                assert float((result.log_p.exp() - exact).abs().max()) < 3 * tol
        assert float((warm.log_p.exp() - cold.log_p.exp()).abs().max()) < 3 * tol
        assert warm.n_rounds < cold.n_rounds / 2, (spread, warm.n_rounds, cold.n_rounds)


def test_sampler_warm_start_cuts_the_rounds_and_keeps_the_gradient():
    """Over a short run of the sampler (the default step sizes), its warm-started Sinkhorn needs
    fewer rounds than cold starts at the same potentials, and the straight-through gradient of
    ``p`` it gives is as close to that of the fixed point at tolerance 1e-8 as the cold-started
    one: the tolerance 1e-3 on the row sums, not the start, sets the error."""
    gen = torch.Generator().manual_seed(6)
    X = torch.randn(60, 6, generator=gen)
    mask = torch.zeros(60, 6, dtype=torch.bool)
    sampler = BayesDAGSampler(X, mask, "linear", (), 3, 1.0, 3e-3, 1e-4, 0.1, gen)
    with torch.no_grad():
        sampler.p.copy_(0.2 * torch.randn(3, 6, generator=gen))  # spread as settled chains are
    rounds, errors = {"warm": 0, "cold": 0}, {"warm": [], "cold": []}
    for _ in range(20):
        sampler.step()
        p = sampler.p.detach().clone().requires_grad_(True)
        weights = torch.randn(3, 6, 6, generator=gen)
        grads = {}
        for start in ("exact", "cold", "warm"):  # warm last: it keeps the sampler's potentials
            saved = (sampler.sinkhorn_potentials, sampler.sinkhorn_rounds, sampler.sinkhorn_tol,
                     sampler.sinkhorn_max_iters)
            if start != "warm":
                sampler.sinkhorn_potentials = None
            if start == "exact":
                sampler.sinkhorn_tol, sampler.sinkhorn_max_iters = 1e-8, 20_000
            (grads[start],) = torch.autograd.grad((sampler.order_mask(p) * weights).sum(), p)
            if start != "exact":
                rounds[start] += sampler.sinkhorn_rounds - saved[1]
            if start != "warm":
                (sampler.sinkhorn_potentials, sampler.sinkhorn_rounds, sampler.sinkhorn_tol,
                 sampler.sinkhorn_max_iters) = saved
        scale = float(grads["exact"].abs().max())
        for start in ("cold", "warm"):
            errors[start].append(float((grads[start] - grads["exact"]).abs().max()) / scale)
    assert rounds["warm"] < rounds["cold"] / 2, rounds
    assert np.mean(errors["warm"]) <= max(np.mean(errors["cold"]), 0.02), errors
    assert max(errors["warm"]) < 0.15, errors


def test_argument_checks_and_docstring_example():
    x = torch.zeros(2, 3, 3)
    with pytest.raises(ValueError, match="tol"):
        log_sinkhorn_fixed_point(x, tol=0.0)
    with pytest.raises(ValueError, match="max_iters"):
        log_sinkhorn_fixed_point(x, max_iters=0)
    with pytest.raises(ValueError, match="init"):
        log_sinkhorn_fixed_point(x, init=torch.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        log_sinkhorn_fixed_point(torch.zeros(2, 3))
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(sinkhorn_module):
        runner.run(test)
    assert runner.failures == 0
