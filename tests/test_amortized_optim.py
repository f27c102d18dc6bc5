"""Tests of ``models/amortized/optim.py``: learning-rate schedules, LAMB and ``make_optimizer``."""

import math

import numpy as np
import pytest
import torch

from skcausal_meta.models.amortized.config import TrainConfig
from skcausal_meta.models.amortized.optim import Lamb, learning_rate, make_optimizer


def test_learning_rate_schedules():
    cfg = TrainConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert [learning_rate(t, cfg) for t in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert learning_rate(10, cfg) == pytest.approx(1.0)
    assert learning_rate(55, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert learning_rate(100, cfg) == pytest.approx(0.1)
    cosine = [learning_rate(t, cfg) for t in range(10, 100)]
    assert all(a >= b for a, b in zip(cosine, cosine[1:]))
    inv = TrainConfig(steps=100, lr=1.0, warmup_steps=10, decay="inverse_sqrt")
    assert learning_rate(39, inv) == pytest.approx(math.sqrt(10 / 40))
    assert learning_rate(50, TrainConfig(lr=0.3, warmup_steps=0, decay="constant")) == 0.3


def _numpy_lamb(weights, grads_per_step, lr, betas, eps, weight_decay, adapted_ndim=2):
    """LAMB (You et al. 2020, Algorithm 2) written out in float64 numpy, one tensor at a time;
    only tensors with at least ``adapted_ndim`` dimensions get the trust ratio."""
    beta1, beta2 = betas
    weights = [w.astype(np.float64).copy() for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, grads in enumerate(grads_per_step, start=1):
        for k, (w, g) in enumerate(zip(weights, grads)):
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g * g
            r = (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps) + weight_decay * w
            w_norm, r_norm = np.sqrt((w * w).sum()), np.sqrt((r * r).sum())
            adapt = w.ndim >= adapted_ndim and w_norm > 0 and r_norm > 0
            trust = w_norm / r_norm if adapt else 1.0
            weights[k] = w - lr * trust * r
    return weights


def test_lamb_steps_match_a_numpy_reference():
    rng = np.random.default_rng(0)
    # weight matrices (one zero-initialised: trust ratio 1 on its first step, one whose gradient
    # is zero: its update is weight decay alone), a bias and a scalar (never layer-adapted)
    initial = [rng.normal(size=(2, 3)), np.zeros((3, 2)), rng.normal(size=(2, 2)), rng.normal(size=3),
               np.array(0.0)]
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), np.zeros((2, 2)), rng.normal(size=3),
              rng.normal(size=())] for _ in range(3)]
    hyper = dict(lr=0.1, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.05)
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float32)) for w in initial]
    optimizer = Lamb(params, **hyper)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
    expected = _numpy_lamb(initial, grads, **hyper)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-6)
    # the reference discriminates: without the trust ratio the weights land elsewhere
    unscaled = _numpy_lamb(initial, grads, **hyper, adapted_ndim=np.inf)
    assert not np.allclose(params[0].detach().numpy(), unscaled[0], atol=1e-3)
    # and with the trust ratio on the bias and the scalar too, those land elsewhere
    adapted = _numpy_lamb(initial, grads, **hyper, adapted_ndim=0)
    for k in (3, 4):
        assert not np.allclose(params[k].detach().numpy(), adapted[k], atol=1e-3)
    assert float(optimizer.state[params[0]]["step"]) == 3.0
    assert isinstance(make_optimizer(params, TrainConfig(optimizer="lamb")), Lamb)
    assert isinstance(make_optimizer(params, TrainConfig()), torch.optim.AdamW)
    with pytest.raises(ValueError, match="betas"):
        Lamb(params, betas=(0.9, 1.0))
