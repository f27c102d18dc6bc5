"""The exact-posterior benchmark: DAG enumeration and the exact BGe posterior, checked against an
independent brute force (all 0/1 matrices, a depth-first acyclicity test, BGe by determinants)."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp

from skcausal_meta.graph_utils import dag_to_cpdag, enumerate_dags

pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "exact_posterior.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("exact_posterior", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _acyclic_dfs(g):
    d = len(g)
    state = [0] * d  # 0 new, 1 on the stack, 2 done

    def visit(i):
        state[i] = 1
        for j in np.flatnonzero(g[i]):
            if state[j] == 1 or (state[j] == 0 and not visit(j)):
                return False
        state[i] = 2
        return True

    return all(state[i] == 2 or visit(i) for i in range(d))


def _brute_force_dags(d):
    off = [(i, j) for i in range(d) for j in range(d) if i != j]
    dags = []
    for bits in itertools.product((0, 1), repeat=len(off)):
        g = np.zeros((d, d), dtype=np.int8)
        for (i, j), b in zip(off, bits):
            g[i, j] = b
        if _acyclic_dfs(g):
            dags.append(g)
    return np.stack(dags)


def _bge_numpy(G, Z, alpha_mu=1.0):
    """Kuipers et al. (2014) BGe score with log-determinants of sub-matrices of R."""
    n, d = Z.shape
    alpha_lambd = d + 2.0
    t = alpha_mu * (alpha_lambd - d - 1) / (alpha_mu + 1)
    mean = Z.mean(axis=0)
    R = t * np.eye(d) + (Z - mean).T @ (Z - mean) + n * alpha_mu / (n + alpha_mu) * np.outer(mean, mean)

    def logdet(nodes):
        return np.linalg.slogdet(R[np.ix_(nodes, nodes)])[1] if nodes else 0.0

    total = 0.0
    for j in range(d):
        pa = list(np.flatnonzero(G[:, j]))
        a = alpha_lambd - d + len(pa)
        total += (0.5 * (np.log(alpha_mu) - np.log(n + alpha_mu)) + gammaln(0.5 * (n + a + 1)) - gammaln(0.5 * (a + 1))
                  - 0.5 * n * np.log(np.pi) + 0.5 * (a + len(pa) + 1) * np.log(t)
                  + 0.5 * (n + a) * logdet(pa) - 0.5 * (n + a + 1) * logdet(pa + [j]))
    return total


@pytest.mark.parametrize("d, count", [(1, 1), (2, 3), (3, 25), (4, 543), (5, 29281)])
def test_dag_counts(d, count):
    dags = enumerate_dags(d)
    assert dags.shape == (count, d, d)
    assert len({g.tobytes() for g in dags}) == count  # no repeats


@pytest.mark.parametrize("d", [3, 4])
def test_enumeration_matches_brute_force(d):
    ours = {g.tobytes() for g in enumerate_dags(d)}
    assert ours == {g.tobytes() for g in _brute_force_dags(d)}


def test_enumerate_dags_refuses_large_or_bad_sizes():
    for bad in (0, 6, 2.0, True):
        with pytest.raises(ValueError, match="n_nodes"):
            enumerate_dags(bad)


def test_exact_posterior_matches_an_independent_computation():
    script = _load_script()
    rng = np.random.default_rng(0)
    n = 40
    x0 = rng.standard_normal(n)
    x1 = 0.8 * x0 + rng.standard_normal(n)
    x2 = -0.7 * x1 + 0.5 * x0 + rng.standard_normal(n)
    X = np.column_stack([x0, x1, x2])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    dags, log_post = script.exact_posterior(Z)
    assert len(dags) == 25 and np.exp(logsumexp(log_post)) == pytest.approx(1.0, abs=1e-12)
    # brute force: every 0/1 matrix, DFS acyclicity, numpy BGe; the prior is uniform at d = 3
    # (ER with 2 edges per node is capped at edge probability 1/2)
    brute = _brute_force_dags(3)
    log_joint = np.array([_bge_numpy(g, Z) for g in brute])
    expected = dict(zip((g.tobytes() for g in brute), log_joint - logsumexp(log_joint)))
    for g, value in zip(dags, log_post):
        assert value == pytest.approx(expected[g.tobytes()], abs=1e-8)
    # BGe is score equivalent: Markov-equivalent DAGs have the same posterior probability
    classes = {}
    for g, value in zip(dags, log_post):
        classes.setdefault(dag_to_cpdag(g).tobytes(), []).append(value)
    assert len(classes) == 11
    for values in classes.values():
        np.testing.assert_allclose(values, values[0], atol=1e-8)


def test_quick_run_writes_table_and_plot(tmp_path, monkeypatch):
    script = _load_script()
    # two cheap methods keep the test fast; the full list runs in the benchmark
    full = script._methods
    monkeypatch.setattr(script, "_methods", lambda seed, quick: {
        k: v for k, v in full(seed, quick).items() if k in ("avici", "partial_correlation")})
    script.main(["--out", str(tmp_path), "--quick"])
    table = (tmp_path / "table.md").read_text()
    assert "| 4 | avici |" in table and "| 3 | exact (1000 samples) |" in table
    assert (tmp_path / "exact_posterior.png").stat().st_size > 0
    import pandas as pd

    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results["method"]) == {"exact (1000 samples)", "avici", "partial_correlation"}
    assert results[["edge_mae", "tv_dag", "tv_mec"]].ge(0).all().all()
    assert results[["tv_dag", "tv_mec"]].le(1 + 1e-9).all().all()
    # merging DAGs into classes cannot increase the total variation
    assert (results["tv_mec"] <= results["tv_dag"] + 1e-9).all()
