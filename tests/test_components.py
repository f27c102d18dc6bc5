"""Tests of the shared torch components: acyclicity measures and the axial encoder."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skcausal_meta.models.components.acyclicity import polynomial_acyclicity, spectral_radius_penalty


def _random_dag(rng, d, p=0.5):
    upper = np.triu(rng.random((d, d)) < p, k=1).astype(np.float64)
    perm = rng.permutation(d)
    return upper[np.ix_(perm, perm)]


def _explicit_h(G):
    d = G.shape[0]
    M = np.eye(d)
    step = np.eye(d) + G / d
    for _ in range(d):
        M = M @ step
    return np.trace(M) - d


# --------------------------------------------------------------------------- acyclicity
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(2, 9))
def test_polynomial_acyclicity_zero_on_dags_positive_with_a_cycle(seed, d):
    rng = np.random.default_rng(seed)
    dag = _random_dag(rng, d)
    assert abs(polynomial_acyclicity(torch.tensor(dag)).item()) < 1e-10
    cyclic = dag.copy()
    i, j = rng.choice(d, size=2, replace=False)
    cyclic[i, j] = cyclic[j, i] = 1.0  # a 2-cycle
    assert polynomial_acyclicity(torch.tensor(cyclic)).item() > 1e-3


def test_polynomial_acyclicity_matches_explicit_matrix_power_batched():
    rng = np.random.default_rng(0)
    G = rng.random((3, 2, 6, 6))
    h = polynomial_acyclicity(torch.tensor(G)).numpy()
    assert h.shape == (3, 2)
    expected = np.array([[_explicit_h(g) for g in row] for row in G])
    np.testing.assert_allclose(h, expected, rtol=1e-10)


def test_polynomial_acyclicity_of_a_three_cycle_closed_form():
    # only closed walks of length 3 exist: tr[(I + C/d)^d] - d = 3 * (C(3, 3) / 3^3) * 1 = 1/9
    C = torch.tensor([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=torch.float64)
    assert polynomial_acyclicity(C).item() == pytest.approx(3 / 27)


def test_spectral_radius_matches_numpy_eigvals():
    rng = np.random.default_rng(1)
    P = rng.random((4, 7, 7))
    for k in range(4):
        np.fill_diagonal(P[k], 0.0)
    rho = spectral_radius_penalty(torch.tensor(P), n_iter=100).numpy()
    expected = np.abs(np.linalg.eigvals(P)).max(axis=-1)
    np.testing.assert_allclose(rho, expected, rtol=1e-8)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(2, 9))
def test_spectral_radius_zero_on_dags_positive_with_a_cycle(seed, d):
    rng = np.random.default_rng(seed)
    dag = _random_dag(rng, d) * rng.random((d, d))
    assert spectral_radius_penalty(torch.tensor(dag), n_iter=d + 1).item() == pytest.approx(0.0, abs=1e-8)
    cyclic = dag.copy()
    i, j = rng.choice(d, size=2, replace=False)
    cyclic[i, j] = cyclic[j, i] = 0.5
    assert spectral_radius_penalty(torch.tensor(cyclic), n_iter=20).item() > 1e-3


def test_spectral_radius_gradient_is_eigenvalue_derivative():
    # for a symmetric positive matrix the Perron vector w gives d rho / d P = w w^T
    rng = np.random.default_rng(2)
    A = rng.random((5, 5))
    P = torch.tensor(A + A.T, requires_grad=True)
    spectral_radius_penalty(P, n_iter=200).backward()
    vals, vecs = np.linalg.eigh((A + A.T))
    w = np.abs(vecs[:, -1])
    np.testing.assert_allclose(P.grad.numpy(), np.outer(w, w), atol=1e-8)


@pytest.mark.parametrize("bad", [torch.zeros(3), torch.zeros(2, 3)])
def test_acyclicity_rejects_non_square(bad):
    with pytest.raises(ValueError, match="shape"):
        polynomial_acyclicity(bad)
    with pytest.raises(ValueError, match="shape"):
        spectral_radius_penalty(bad)


def test_spectral_radius_rejects_bad_n_iter():
    with pytest.raises(ValueError, match="n_iter"):
        spectral_radius_penalty(torch.zeros(2, 2), n_iter=0)


# --------------------------------------------------------------------------- encoder
from skcausal_meta.models.components.encoder import (  # noqa: E402
    AlternatingAxialEncoder,
    AxialMultiHeadAttention,
)


def _encoder(**kw):
    torch.manual_seed(0)
    return AlternatingAxialEncoder(in_features=2, dim=16, n_layers=2, n_heads=2, **kw).double().eval()


def test_axial_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    ours = AxialMultiHeadAttention(dim=8, n_heads=2).double()
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    z = torch.randn(3, 5, 4, 8, dtype=torch.float64)
    # over variables (axis -2): sequences are z[b, r]
    expected = ref(*(z.reshape(15, 4, 8),) * 3, need_weights=False)[0].reshape(3, 5, 4, 8)
    torch.testing.assert_close(ours(z, axis=-2), expected)
    # over samples (axis -3): sequences are z[b, :, j]
    zt = z.transpose(1, 2).reshape(12, 5, 8)
    expected = ref(zt, zt, zt, need_weights=False)[0].reshape(3, 4, 5, 8).transpose(1, 2)
    torch.testing.assert_close(ours(z, axis=-3), expected)


def test_axial_attention_with_wider_heads_matches_explicit_softmax_attention():
    """key_size decouples head width from dim (AVICI's reference: dim 128, 8 heads of 32)."""
    torch.manual_seed(1)
    dim, heads, key = 8, 2, 5
    ours = AxialMultiHeadAttention(dim=dim, n_heads=heads, key_size=key).double()
    assert ours.qkv.weight.shape == (3 * heads * key, dim) and ours.out.weight.shape == (dim, heads * key)
    z = torch.randn(3, 6, 4, dim, dtype=torch.float64)
    q, k, v = (z @ w.T + b for w, b in zip(ours.qkv.weight.split(heads * key), ours.qkv.bias.split(heads * key)))
    outputs = []
    for h in range(heads):  # attention over samples (axis -3): rows attend to rows, per variable
        part = slice(h * key, (h + 1) * key)
        logits = torch.einsum("bnjk,bmjk->bjnm", q[..., part], k[..., part]) / key**0.5
        outputs.append(torch.einsum("bjnm,bmjk->bnjk", logits.softmax(-1), v[..., part]))
    expected = torch.cat(outputs, -1) @ ours.out.weight.T + ours.out.bias
    torch.testing.assert_close(ours(z, axis=-3), expected)
    with pytest.raises(ValueError, match="key_size"):
        AxialMultiHeadAttention(dim=dim, n_heads=heads, key_size=0)


def test_encoder_is_equivariant_over_variables_and_samples():
    enc = _encoder()
    x = torch.randn(2, 7, 5, 2, dtype=torch.float64)
    out = enc(x)
    assert out.shape == (2, 7, 5, 16)
    pv, ps = torch.randperm(5), torch.randperm(7)
    torch.testing.assert_close(enc(x[:, :, pv]), out[:, :, pv])
    torch.testing.assert_close(enc(x[:, ps]), out[:, ps])


def test_encoder_query_rows_are_invariant_readouts_and_do_not_leak_into_data_rows():
    enc = _encoder(n_query_rows=2)
    x = torch.randn(2, 6, 4, 2, dtype=torch.float64)
    out = enc(x)
    assert out.shape == (2, 8, 4, 16)
    torch.testing.assert_close(enc(x[:, torch.randperm(6)])[:, 6:], out[:, 6:])
    with torch.no_grad():
        enc.query.add_(torch.randn_like(enc.query))
    changed = enc(x)
    torch.testing.assert_close(changed[:, :6], out[:, :6])
    assert not torch.allclose(changed[:, 6:], out[:, 6:])


def test_encoder_validates_arguments():
    with pytest.raises(ValueError, match="n_heads"):
        AlternatingAxialEncoder(in_features=2, dim=10, n_heads=3)
    with pytest.raises(ValueError, match="dropout"):
        AlternatingAxialEncoder(in_features=2, dropout=1.5)
    with pytest.raises(ValueError, match="x must have shape"):
        _encoder()(torch.zeros(3, 4, 2, dtype=torch.float64))


def _largest_op_allocation(encoder, x, backend=None):
    """Bytes allocated by the most memory-hungry op type of one no-grad forward pass."""
    from contextlib import nullcontext

    from torch.nn.attention import sdpa_kernel
    from torch.profiler import ProfilerActivity, profile

    only = nullcontext() if backend is None else sdpa_kernel(backend)
    with torch.no_grad(), only, profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        encoder(x)
    return max(event.cpu_memory_usage for event in prof.key_averages())


@pytest.mark.parametrize("n_query_rows", [0, 1])
def test_sample_attention_never_materialises_the_n_by_n_weights(n_query_rows):
    # What keeps inference at d = 100, n = 5000 within a few GB: the fused attention kernel
    # streams over keys instead of allocating [batch * d * heads, n, n] attention weights.
    from torch.nn.attention import SDPBackend

    torch.manual_seed(0)
    enc = AlternatingAxialEncoder(in_features=2, dim=8, n_layers=1, n_heads=2, n_query_rows=n_query_rows).eval()
    B, n, d, heads = 1, 1000, 8, 2
    x = torch.randn(B, n, d, 2)
    weights_bytes = 4 * B * d * heads * (n + n_query_rows) ** 2  # float32 attention weights
    assert _largest_op_allocation(enc, x) < weights_bytes / 4
    # the measure sees them when they are materialised (the unfused reference kernel)
    assert _largest_op_allocation(enc, x, SDPBackend.MATH) >= weights_bytes


def test_polynomial_acyclicity_gradient_equals_autograd_through_the_matrix_power():
    """The closed-form backward pass against autograd through ``matrix_power`` (float64)."""
    gen = torch.Generator().manual_seed(0)
    for d in (1, 2, 5, 10):
        G = torch.rand(3, 4, d, d, generator=gen, dtype=torch.float64, requires_grad=True)
        weights = torch.randn(3, 4, generator=gen, dtype=torch.float64)
        eye = torch.eye(d, dtype=G.dtype)
        reference = torch.diagonal(torch.linalg.matrix_power(eye + G / d, d), dim1=-2, dim2=-1).sum(-1) - d
        ours = polynomial_acyclicity(G)
        torch.testing.assert_close(ours, reference)
        (expected,) = torch.autograd.grad((reference * weights).sum(), G)
        (got,) = torch.autograd.grad((ours * weights).sum(), G)
        torch.testing.assert_close(got, expected)
