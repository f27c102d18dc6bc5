"""Tests of the CPU thread policy and allocator setting of the torch estimators."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skcausal_meta import AviciEstimator, BayesDAGEstimator, DibsEstimator
from skcausal_meta.models.devices import SMALL_WORK, intra_op_threads, reuse_freed_memory, torch_threads
from skcausal_meta.models.likelihoods import mlp_output_layers


def test_intra_op_threads_policy(monkeypatch):
    import skcausal_meta.models.devices as devices

    assert intra_op_threads(None, SMALL_WORK - 1) == 1
    assert intra_op_threads(3, 10) == 3
    with torch_threads(2):
        for idle, expected in ((None, 2), (5, 2), (1, 1), (0, 1), (-3, 1)):
            monkeypatch.setattr(devices, "idle_cores", lambda idle=idle: idle)
            assert intra_op_threads(None, SMALL_WORK) == expected


def test_idle_cores_counts_a_busy_process():
    """A spinning child process takes one core away from the count (Linux only)."""
    import multiprocessing
    import time

    from skcausal_meta.models.devices import idle_cores

    before = idle_cores()
    if before is None:
        pytest.skip("no /proc/loadavg: not Linux")
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=_spin, args=(stop,))
    child.start()
    try:
        time.sleep(0.2)
        during = min(idle_cores() for _ in range(20))
    finally:
        stop.set()
        child.join()
    assert during <= before - 1 or during <= 0


def _spin(stop):
    while not stop.is_set():
        pass


def test_torch_threads_restores_the_previous_count_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_reuse_freed_memory_is_idempotent():
    first = reuse_freed_memory()
    assert isinstance(first, bool) and reuse_freed_memory() == first


@pytest.mark.parametrize("make", [
    lambda **kw: BayesDAGEstimator(n_chains=2, n_steps=20, thinning=5, random_state=0, **kw),
    lambda **kw: AviciEstimator(n_graphs=10, random_state=0, **kw),
    lambda **kw: DibsEstimator(n_particles=3, n_steps=5, random_state=0, **kw),
])
def test_fit_uses_one_thread_on_small_work_and_restores_the_setting(make, monkeypatch):
    X = np.random.default_rng(0).standard_normal((40, 3))
    seen, set_threads = [], torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), set_threads(n)))
    before = torch.get_num_threads()
    a = make().fit(X)
    assert torch.get_num_threads() == before
    if not isinstance(a, AviciEstimator):  # tiny samplers: one thread; AVICI: the idle cores
        assert seen[0] == 1
    seen.clear()
    b = make(n_threads=2).fit(X)
    assert seen[0] == 2 and torch.get_num_threads() == before
    np.testing.assert_allclose(a.predict_graph_posterior().edge_probs, b.predict_graph_posterior().edge_probs,
                               atol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_n_threads_is_refused_by_name(bad):
    X = np.random.default_rng(0).standard_normal((40, 3))
    with pytest.raises(InvalidParameterError, match=rf"The 'n_threads' parameter of BayesDAGEstimator must be an int "
                                                    rf"in the range \[1, inf\) or None. Got {bad!r} instead"):
        BayesDAGEstimator(n_steps=20, thinning=5, n_threads=bad).fit(X)


@pytest.mark.parametrize("widths", [(4, 1), (4, 3, 1), (2, 5)])
def test_mlp_output_layers_fast_paths_equal_the_matrix_products(widths):
    """The multiply-and-sum path for width-1 outputs and the in-place path give the reference means."""
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 3, 7, widths[0], generator=gen, dtype=torch.float64)
    shapes = list(zip(widths[:-1], widths[1:]))
    weights = [None] + [torch.randn(2, 3, a, b, generator=gen, dtype=torch.float64) for a, b in shapes]
    biases = [None] + [torch.randn(2, 3, b, generator=gen, dtype=torch.float64) for _, b in shapes]
    reference = hidden
    for W, b in zip(weights[1:], biases[1:]):
        reference = torch.relu(reference) @ W + b.unsqueeze(-2)
    reference = reference.squeeze(-1).transpose(-1, -2)
    torch.testing.assert_close(mlp_output_layers(weights, biases, hidden), reference)
    copy = hidden.clone()
    torch.testing.assert_close(mlp_output_layers(weights, biases, copy, overwrite=True), reference)
