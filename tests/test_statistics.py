"""Pair statistics against independent references (numpy, scipy, scikit-learn) and the
statistics-informed AVICI network (bias path, factorised head, learning signal)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import rankdata, spearmanr
from sklearn.covariance import ledoit_wolf

from skcausal_meta.models.avici import AviciModel
from skcausal_meta.models.components.encoder import AxialMultiHeadAttention
from skcausal_meta.models.components.statistics import (
    RFF_FEATURES,
    STATISTICS,
    SUBSET_EDGE_PROB,
    SUBSET_SIZE,
    average_ranks,
    n_statistics_channels,
    pair_statistics,
    rff_parameters,
)
from skcausal_meta.models.amortized import make_model_input
from skcausal_meta.models.order_posterior import order_edge_posterior

ALL = list(STATISTICS)


def _stats(X, mask=None, names=ALL):
    return pair_statistics(torch.from_numpy(make_model_input(X, mask))[None], names)[0].double().numpy()


def _channel(names, name):
    start = sum(STATISTICS[k] for k in names[: names.index(name)])
    return start


def _zero_diag(a):
    a = np.array(a, dtype=float)
    np.fill_diagonal(a, 0.0)
    return a


def _partial_reference(X):
    Z = (X - X.mean(0)) / X.std(0)
    precision = np.linalg.inv(ledoit_wolf(Z)[0])
    scale = np.sqrt(np.diag(precision))
    return _zero_diag(-precision / np.outer(scale, scale))


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] += 2 * X[:, 0]
    X[:, 2] = np.round(X[:, 2])  # ties
    return X


@pytest.mark.parametrize("n, d", [(200, 6), (5, 8), (8, 8)])
def test_correlations_match_numpy_scipy_and_sklearn(n, d):
    X = _data(n, d, seed=n + d)
    s = _stats(X)
    np.testing.assert_allclose(s[..., _channel(ALL, "pearson")], _zero_diag(np.corrcoef(X.T)), atol=1e-6)
    np.testing.assert_allclose(s[..., _channel(ALL, "partial")], _partial_reference(X), atol=1e-5)
    np.testing.assert_allclose(s[..., _channel(ALL, "spearman")], _zero_diag(spearmanr(X).statistic), atol=1e-6)
    ranks = rankdata(X, axis=0)
    np.testing.assert_allclose(s[..., _channel(ALL, "rank_partial")], _partial_reference(ranks), atol=1e-5)


def _ols_partial_reference(X):
    precision = np.linalg.inv(np.corrcoef(X.T))
    scale = np.sqrt(np.diag(precision))
    return _zero_diag(-precision / np.outer(scale, scale))


@pytest.mark.parametrize("n, d", [(200, 6), (30, 12)])
def test_ols_partial_matches_the_inverse_correlation_matrix(n, d):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, d))
    X[:, 1] = 2 * X[:, 0] + 0.01 * rng.normal(size=n)  # near-deterministic: shrinkage would blur it
    s = _stats(X, names=["partial_ols", "partial"])
    np.testing.assert_allclose(s[..., 0], _ols_partial_reference(X), atol=1e-4)
    assert abs(s[0, 1, 0]) > 0.99 > abs(s[0, 1, 1]) + 0.01  # Ledoit-Wolf shrinks the edge


def test_ols_partial_falls_back_to_ledoit_wolf_where_the_covariance_is_singular():
    X = _data(8, 8, seed=1)
    s = _stats(X, names=["partial_ols"])[..., 0]
    np.testing.assert_allclose(s, _partial_reference(X), atol=1e-5)


def test_collider_matches_a_loop_and_points_into_the_common_child():
    rng = np.random.default_rng(6)
    n = 2000
    a, b = rng.normal(size=n), rng.normal(size=n)
    X = np.column_stack([a, b, a + b + 0.3 * rng.normal(size=n), rng.normal(size=n)])
    s = _stats(X, names=["collider"])[..., 0]
    A = np.abs(_ols_partial_reference(X))
    S = np.clip(A - np.abs(_zero_diag(np.corrcoef(X.T))), 0, None)
    expected = [[A[i, j] * sum(S[i, k] * A[k, j] for k in range(4)) for j in range(4)] for i in range(4)]
    np.testing.assert_allclose(s, _zero_diag(expected), atol=1e-4)
    assert s[0, 2] > 0.5 and s[1, 2] > 0.5  # a -> c <- b
    assert s[0, 2] > 3 * s[2, 0] and s[1, 2] > 3 * s[2, 1]  # the reverse direction scores much lower
    assert max(np.abs(s[3]).max(), np.abs(s[:, 3]).max()) < 0.01  # the independent column


def test_min_dependence_is_low_for_spouses_and_high_for_edges():
    rng = np.random.default_rng(7)
    n = 2000
    a, b = rng.normal(size=n), rng.normal(size=n)
    X = np.column_stack([a, b, a + b + 0.3 * rng.normal(size=n)])
    s = _stats(X, names=["min_dependence", "partial_ols", "pearson"])
    np.testing.assert_allclose(s[..., 0], np.minimum(np.abs(s[..., 1]), np.abs(s[..., 2])), atol=1e-6)
    assert abs(s[0, 1, 1]) > 0.8 and s[0, 1, 0] < 0.05  # the spouses: partial high, marginal ~0
    assert min(s[0, 2, 0], s[1, 2, 0]) > 0.5


def test_average_ranks_match_scipy_with_ties():
    X = np.random.default_rng(0).integers(0, 4, size=(30, 5)).astype(float)
    ours = average_ranks(torch.from_numpy(X)[None])[0].numpy()
    np.testing.assert_array_equal(ours, rankdata(X, axis=0))


def test_hsic_matches_the_kernel_form_and_sees_nonlinear_dependence():
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=n)
    X = np.column_stack([x, x**2 + 0.1 * rng.normal(size=n), rng.normal(size=n)])
    s = _stats(X, names=["hsic", "pearson"])
    # reference: tr(K_i H K_j H) with explicit n x n kernel matrices of the same features
    w, b = (t.numpy() for t in rff_parameters())
    Z = (X - X.mean(0)) / X.std(0)
    H = np.eye(n) - 1 / n
    K = [np.cos(Z[:, [k]] * w + b) @ np.cos(Z[:, [k]] * w + b).T for k in range(3)]
    hsic = np.array([[np.trace(K[i] @ H @ K[j] @ H) for j in range(3)] for i in range(3)])
    reference = _zero_diag(hsic / np.sqrt(np.outer(np.diag(hsic), np.diag(hsic))))
    np.testing.assert_allclose(s[..., 0], reference, atol=1e-4)
    assert RFF_FEATURES == len(w)
    assert abs(s[0, 1, 1]) < 0.2 and s[0, 2, 0] < 0.05  # y = x^2 is uncorrelated with x, z independent
    assert s[0, 1, 0] > 5 * s[0, 2, 0]  # but HSIC sees the dependence


def test_interventional_shift_matches_a_loop():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    mask = np.zeros_like(X, dtype=bool)
    mask[40:50, 0] = True
    mask[50:, 2] = True
    X[40:50, 1] += 3.0
    s = _stats(X, mask, names=["interventional_shift"])
    Z = (X - X.mean(0)) / X.std(0)
    obs = ~mask.any(1)
    for i in range(3):
        for j in range(3):
            if i == j:
                continue
            rows = mask[:, i]
            expected = (Z[rows, j].mean() - Z[obs, j].mean()) / Z[obs, j].std() if rows.any() else 0.0
            assert s[i, j, 0] == pytest.approx(expected, abs=1e-5)
            assert s[i, j, 1] == float(rows.any())
    assert s[0, 1, 0] > 2


def _subset_posterior_reference(X, mask):
    """Loop form of ``bge_subsets``: for each variable ``v``, the exact posterior of ``v`` and its
    ``SUBSET_SIZE - 1`` largest |partial correlations| (numpy inverse), pooled per pair."""
    n, d = X.shape
    k = min(SUBSET_SIZE, d)
    Z = (X - X.mean(0)) / X.std(0)
    precision = np.linalg.inv(Z.T @ Z / n)
    partial = np.abs(precision / np.sqrt(np.outer(np.diag(precision), np.diag(precision))))
    sums, counts = np.zeros((d, d)), np.zeros((d, d))
    for v in range(d):
        strength = partial[v].copy()
        strength[v] = np.inf
        subset = np.argsort(-strength)[:k]
        probs = order_edge_posterior(X[:, subset], mask[:, subset], edges_per_node=SUBSET_EDGE_PROB * (k - 1) / 2)
        sums[np.ix_(subset, subset)] += probs
        counts[np.ix_(subset, subset)] += 1
    mean = sums / np.maximum(counts, 1)
    return np.stack([mean, mean + mean.T, _zero_diag(counts > 0)], axis=-1)


@pytest.mark.parametrize("d, intervened", [(5, True), (11, False), (12, True)])
def test_bge_subsets_pool_the_exact_posteriors_around_each_variable(d, intervened):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(150, d))
    for j in range(1, d):
        X[:, j] += 0.9 * X[:, j - 1] - 0.5 * X[:, max(j - 3, 0)]
    X = X.astype(np.float32).astype(np.float64)  # the model input's precision
    mask = np.zeros(X.shape, bool)
    if intervened:
        mask[:20, 2] = mask[20:30, 4] = True
    s = _stats(X, mask, ["bge_subsets"])
    np.testing.assert_allclose(s, _subset_posterior_reference(X, mask), atol=1e-5)
    if d <= SUBSET_SIZE:  # one subset: the exact posterior of the whole data set
        assert s[..., 2].sum() == d * (d - 1)


def test_bge_subsets_find_a_chain_beyond_the_subset_size():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 14))
    for j in range(1, 14):
        X[:, j] += X[:, j - 1]
    skeleton = _stats(X, None, ["bge_subsets"])[..., 1]
    chain = np.eye(14, k=1, dtype=bool) | np.eye(14, k=-1, dtype=bool)
    off_chain = ~chain & ~np.eye(14, dtype=bool)
    assert skeleton[chain].min() > 0.9 and skeleton[chain].min() > skeleton[off_chain].max()


def test_bge_subsets_stay_equivariant_with_many_constant_columns():
    """Constant columns tie at zero dependence: they must neither pick members by position nor
    leak into the pooled pairs."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 12))
    X[:, 5:] = 1.0
    X[:, 0] += 2 * X[:, 1]
    x = torch.from_numpy(make_model_input(X, None))[None]
    s = pair_statistics(x, ["bge_subsets"])
    for variables in (torch.arange(11, -1, -1), torch.randperm(12, generator=torch.Generator().manual_seed(0))):
        torch.testing.assert_close(pair_statistics(x[:, :, variables], ["bge_subsets"]),
                                   s[:, variables][:, :, variables], atol=1e-6, rtol=1e-6)
    assert s[0, 5:].abs().max() == 0 and s[0, :, 5:].abs().max() == 0
    assert s[0, 0, 1, 1] > 0.9  # the dependent pair is found


def test_r2_gap_is_antisymmetric_and_points_to_the_explained_variable():
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    X = np.column_stack([x, 3 * x + 0.1 * rng.normal(size=500), rng.normal(size=500)])
    s = _stats(X, names=["r2_gap"])[..., 0]
    np.testing.assert_allclose(s, -s.T, atol=1e-6)
    assert abs(s[0, 1]) < 0.05 and s[2, 0] > 0.9


@pytest.mark.parametrize("case", ["constant", "duplicated", "n_below_d", "all_intervened", "two_rows"])
def test_statistics_stay_finite_on_degenerate_data(case):
    rng = np.random.default_rng(4)
    n, d = (3, 10) if case == "n_below_d" else (2, 4) if case == "two_rows" else (50, 4)
    X = rng.normal(size=(n, d))
    mask = None
    if case == "constant":
        X[:, 1] = 7.0
    if case == "duplicated":
        X[:, 2] = X[:, 1]
    if case == "all_intervened":
        mask = np.zeros_like(X, dtype=bool)
        mask[:, 0] = True
    s = _stats(X, mask)
    assert s.shape == (d, d, n_statistics_channels(ALL))
    assert np.isfinite(s).all()
    if case == "constant":
        assert np.abs(s[1, :, :5]).max() < 1e-6 and np.abs(s[:, 1, :5]).max() < 1e-6  # no dependence
        ols = _channel(ALL, "partial_ols")
        assert np.abs(s[1, :, ols]).max() < 1e-6 and np.abs(s[:, 1, ols]).max() < 1e-6


@pytest.mark.parametrize("d", [6, SUBSET_SIZE + 4])
def test_statistics_are_row_invariant_and_variable_equivariant(d):
    rng = np.random.default_rng(5)
    x = torch.from_numpy(make_model_input(_data(80, d, 5), rng.random((80, d)) < 0.1))[None]
    s = pair_statistics(x)
    rows, variables = torch.randperm(80), torch.randperm(d)
    torch.testing.assert_close(pair_statistics(x[:, rows]), s, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pair_statistics(x[:, :, variables]), s[:, variables][:, :, variables],
                               atol=1e-5, rtol=1e-5)


def test_unknown_statistics_are_refused_naming_them():
    with pytest.raises(ValueError, match="statistics must be distinct names.*'bogus'"):
        pair_statistics(torch.zeros(1, 5, 3, 2), ["pearson", "bogus"])
    with pytest.raises(ValueError, match="statistics"):
        AviciModel(dim=8, n_layers=1, n_heads=2, statistics=["pearson", "pearson"])


def test_attention_bias_matches_explicit_softmax():
    torch.manual_seed(0)
    attention = AxialMultiHeadAttention(8, 2).double()
    z = torch.randn(2, 5, 4, 8, dtype=torch.float64)
    bias = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    q, k, v = attention.qkv(z).reshape(2, 5, 4, 3, 2, 4).unbind(3)  # [B, n, d, heads, key]
    logits = torch.einsum("bnihk,bnjhk->bnhij", q, k) / 2 + bias[:, None]
    expected = attention.out(torch.einsum("bnhij,bnjhk->bnihk", logits.softmax(-1), v).reshape(2, 5, 4, 8))
    torch.testing.assert_close(attention(z, axis=-2, bias=bias), expected)
    torch.testing.assert_close(attention(z, axis=-2, bias=torch.zeros_like(bias)), attention(z, axis=-2))


def _stats_model(seed=0, **kw):
    torch.manual_seed(seed)
    return AviciModel(**{"dim": 16, "n_layers": 1, "n_heads": 2, "statistics": ALL, "edge_head": "factorised",
                         "dual_lr": 0.0, **kw})


def test_statistics_model_is_equivariant_and_its_head_factorises():
    model = _stats_model().double().eval()
    x = torch.from_numpy(make_model_input(np.random.default_rng(6).normal(size=(2, 40, 6)), None)).double()
    probs = model.edge_probs(x)
    variables, rows = torch.randperm(6), torch.randperm(40)
    torch.testing.assert_close(model.edge_probs(x[:, :, variables]), probs[:, variables][:, :, variables])
    torch.testing.assert_close(model.edge_probs(x[:, rows]), probs)
    adjacency, orientation = model.pair_head(*model._encode(x))
    torch.testing.assert_close(adjacency, adjacency.transpose(-1, -2))
    torch.testing.assert_close(orientation, -orientation.transpose(-1, -2))
    off = ~torch.eye(6, dtype=torch.bool)
    assert torch.all((probs + probs.transpose(-1, -2))[:, off] <= 1 + 1e-12)


def test_statistics_only_reference_has_no_attention():
    model = _stats_model(n_layers=0)
    assert len(model.encoder.variable_blocks) == 0
    x = torch.from_numpy(make_model_input(np.random.default_rng(7).normal(size=(1, 30, 5)), None))
    assert model.edge_probs(x).shape == (1, 5, 5)


def _overfit_loss(statistics, steps=60):
    """Mean loss of the last 10 of ``steps`` steps on four fixed linear-Gaussian data sets."""
    rng = np.random.default_rng(8)
    graphs, data = [], []
    for _ in range(4):
        g = np.triu(rng.random((6, 6)) < 0.4, k=1).astype(np.int8)
        W = g * rng.choice([-1, 1], size=g.shape) * rng.uniform(1, 2, size=g.shape)
        X = np.zeros((200, 6))
        for j in range(6):
            X[:, j] = X @ W[:, j] + rng.normal(size=200)
        order = rng.permutation(6)
        graphs.append(g[order][:, order])
        data.append(X[:, order])
    x = torch.from_numpy(make_model_input(np.stack(data), None))
    g = torch.from_numpy(np.stack(graphs).astype(np.float32))
    model = _stats_model(seed=1, statistics=statistics, edge_head="factorised")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = model.loss(x, g)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return np.mean(losses[-10:])


def test_statistics_reach_the_output_a_tiny_model_fits_faster_with_them():
    with_statistics, without = _overfit_loss(ALL), _overfit_loss(None)
    assert with_statistics < 0.8 * without


def test_bcnp_with_statistics_is_equivariant_and_row_invariant():
    from skcausal_meta.models.bcnp.model import BCNP

    torch.manual_seed(0)
    model = BCNP(dim=16, n_layers=1, n_heads=2, statistics=ALL).double().eval()
    x = torch.from_numpy(make_model_input(np.random.default_rng(9).normal(size=(2, 40, 6)), None)).double()
    perm_logits, edge_logits = model.decode(x)
    variables, rows = torch.randperm(6), torch.randperm(40)
    permuted = model.decode(x[:, :, variables])
    torch.testing.assert_close(permuted[0], perm_logits[:, variables])
    torch.testing.assert_close(permuted[1], edge_logits[:, variables][:, :, variables])
    torch.testing.assert_close(model.decode(x[:, rows])[1], edge_logits)
    torch.testing.assert_close(edge_logits, edge_logits.transpose(-1, -2))
    paper = BCNP(dim=16, n_layers=1, n_heads=2)
    assert not hasattr(paper, "pair_head") and paper.config["statistics"] is None


@pytest.mark.parametrize("model_name", ["avici", "bcnp"])
def test_add_statistics_keeps_the_output_until_training_moves_the_new_weights(model_name):
    from skcausal_meta.models.amortized.training import add_statistics, network_class

    torch.manual_seed(0)
    kw = {"edge_head": "factorised"} if model_name == "avici" else {}
    model = network_class(model_name)(dim=16, n_layers=1, n_heads=2, statistics=["pearson", "partial"], **kw)
    wider = add_statistics(model, ["partial", "collider", "partial_ols"]).eval()
    assert wider.config["statistics"] == ["pearson", "partial", "collider", "partial_ols"]
    x = torch.from_numpy(make_model_input(np.random.default_rng(11).normal(size=(2, 40, 5)), None))
    if model_name == "avici":
        torch.testing.assert_close(wider.edge_probs(x), model.eval().edge_probs(x))
    else:
        torch.testing.assert_close(wider.decode(x), model.eval().decode(x))
    widened = [k for k, v in wider.state_dict().items() if v.shape != model.state_dict()[k].shape]
    assert widened and all(torch.all(wider.state_dict()[k][..., 2:] == 0) for k in widened)
    with pytest.raises(ValueError, match="already reads statistics"):
        add_statistics(network_class(model_name)(dim=16, n_layers=1, n_heads=2), ["pearson"])


def test_train_refuses_add_statistics_without_a_checkpoint():
    from skcausal_meta.models.amortized import TrainConfig, train

    with pytest.raises(ValueError, match=r"add_statistics=\['collider'\] needs init_from"):
        train("avici", "id", TrainConfig(steps=1), add_statistics=["collider"], progress=False)


def test_train_sets_encoder_rows_and_the_checkpoint_keeps_it(tmp_path, monkeypatch):
    """``encoder_rows`` on a fine-tuned network: during training the encoder attends over that many
    rows and the statistics read every row; the saved checkpoint loads with the setting."""
    from skcausal_meta.models.amortized import TrainConfig, train
    from skcausal_meta.models.amortized.checkpoint import load_model, save_model
    from skcausal_meta.models.avici import model as avici_module
    from skcausal_meta.models.components.encoder import AlternatingAxialEncoder

    torch.manual_seed(0)
    source = save_model(tmp_path / "source", avici_module.AviciModel(dim=16, n_layers=1, n_heads=2,
                                                                     statistics=["pearson"], edge_head="factorised"))
    encoder_rows, statistics_rows = [], []
    encode, statistics = AlternatingAxialEncoder.forward, avici_module.pair_statistics
    monkeypatch.setattr(AlternatingAxialEncoder, "forward",
                        lambda self, x, *a, **k: encoder_rows.append(x.shape[1]) or encode(self, x, *a, **k))
    monkeypatch.setattr(avici_module, "pair_statistics",
                        lambda x, names: statistics_rows.append(x.shape[1]) or statistics(x, names))
    config = TrainConfig(steps=2, batch_size=2, n_nodes=[3, 4], n_samples=30, n_interventional=0, warmup_steps=1,
                         eval_every=2, n_validation_batches=1, seed=0)
    train("avici", "id", config, out=tmp_path / "tuned", init_from=source, encoder_rows=8, device="cpu",
          progress=False)
    assert encoder_rows and set(encoder_rows) == {8} and set(statistics_rows) == {30}
    assert load_model(tmp_path / "tuned", avici_module.AviciModel)[0].config["encoder_rows"] == 8
    with pytest.raises(ValueError, match="encoder_rows"):
        train("avici", "id", config, init_from=source, encoder_rows=0, device="cpu", progress=False)


@pytest.mark.parametrize("case, message", [("n_below_d", "rows for d=6"), ("duplicated", "duplicates"),
                                           ("all_intervened", "every row")])
def test_estimators_warn_where_the_statistics_are_degenerate(tmp_path, case, message):
    from skcausal_meta import AviciEstimator, BCNPEstimator
    from skcausal_meta.models.amortized.checkpoint import save_model
    from skcausal_meta.models.bcnp.model import BCNP

    rng = np.random.default_rng(10)
    X = rng.normal(size=(5 if case == "n_below_d" else 60, 6))
    mask = None
    if case == "duplicated":
        X[:, 3] = -2 * X[:, 2]
    if case == "all_intervened":
        mask = np.zeros(X.shape, dtype=bool)
        mask[:, 1] = True
    torch.manual_seed(0)
    for estimator, network in ((AviciEstimator, _stats_model()), (BCNPEstimator, BCNP(dim=16, n_layers=1, n_heads=2,
                                                                                      statistics=ALL))):
        stem = save_model(tmp_path / network.model_name, network)
        with pytest.warns(UserWarning, match=message):
            fitted = estimator(checkpoint=stem, device="cpu", random_state=0).fit(X, interventions=mask)
        assert np.isfinite(fitted.predict_graph_posterior().edge_probs).all()


# docs/training.md: mean edge AUROC of the shipped statistics-informed networks on the first 5 held-out data sets of
# benchmarks/eval_statistics.py's settings lin20 and mlp20 (ER-2, d = 20, 1000 observational rows)
DOCUMENTED = {("avici_stats", "linear"): 0.942, ("avici_stats", "mlp"): 0.922,
              ("bcnp_stats", "linear"): 0.925, ("bcnp_stats", "mlp"): 0.903}


@pytest.mark.parametrize("checkpoint, mechanism", sorted(DOCUMENTED))
def test_shipped_statistics_checkpoints_reach_their_documented_auroc(checkpoint, mechanism):
    from skcausal_meta import AviciEstimator, BCNPEstimator
    from skcausal_meta.datasets import SCMFamily, canonical_graph_hash, make_scm_family
    from skcausal_meta.metrics import edge_auroc
    from skcausal_meta.models.amortized.stream import read_graph_hashes

    mechanisms = {"linear": {"type": "linear", "weight": [1.0, 3.0], "bias": [-3.0, 3.0]},
                  "mlp": {"type": "mlp", "hidden": 16, "weight_scale": [1.0, 2.0]}}
    family = SCMFamily.from_dict({"name": f"er2_{mechanism}", "graph": [{"type": "er", "edges_per_node": [2, 2],
                                                            "cap_density": True}],
                                  "mechanism": [mechanisms[mechanism]],
                                  "noise": [{"type": "gaussian", "scale": [0.2, 2.0]}], "n_nodes": [5, 50],
                                  "interventions": {"kind": "perfect", "targets": "single", "value": [1.0, 3.0]}})
    X, _, graphs = make_scm_family(family, n_datasets=5, n_nodes=20, n_samples=1000, n_interventional=0,
                                   random_state=21_020)
    held_out = read_graph_hashes([Path(__file__).parents[1] / "benchmarks" / "heldout" / "eval_graphs.txt"])
    assert all(canonical_graph_hash(g) in held_out for g in graphs)  # never trained on
    estimator = AviciEstimator if checkpoint.startswith("avici") else BCNPEstimator
    auroc = np.mean([edge_auroc(g, estimator(checkpoint=checkpoint, device="cpu", random_state=0).fit(
        x).predict_graph_posterior().edge_probs) for x, g in zip(X, graphs)])
    assert auroc == pytest.approx(DOCUMENTED[checkpoint, mechanism], abs=0.02)
