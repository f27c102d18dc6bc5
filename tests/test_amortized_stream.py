"""Tests of ``models/amortized/stream.py``: the seeded data-set stream and the held-out graphs."""

import inspect

import numpy as np
import pytest
import torch

from skcausal_meta.datasets import DatasetSpec, canonical_graph_hash, graphs_isomorphic, make_scm_family
from skcausal_meta.models.amortized.config import TrainConfig
from skcausal_meta.models.amortized.stream import (
    DatasetStream,
    held_out_graph_hashes,
    read_graph_hashes,
    write_graph_hashes,
)

TINY_DATA = dict(batch_size=2, n_nodes=[3, 4], n_samples=16, n_interventional=4, eval_every=2,
                 n_validation_batches=1, checkpoint_every=2)


def test_stream_is_a_pure_function_of_seed_and_step():
    cfg = TrainConfig(seed=3, **TINY_DATA)
    a, b = DatasetStream("id", cfg), DatasetStream("id", cfg)
    x5, g5 = a[5]
    torch.testing.assert_close(b[5][0], x5)
    torch.testing.assert_close(b[5][1], g5)
    assert x5.shape[0] == 2 and x5.shape[-1] == 2 and 3 <= x5.shape[2] <= 4
    assert g5.shape == (2, x5.shape[2], x5.shape[2])
    assert not torch.equal(a[6][0], x5) or not torch.equal(a[6][1], g5)
    validation = DatasetStream("id", cfg, stream_id=1)[5][0]
    assert validation.shape != x5.shape or not torch.equal(validation, x5)


def test_a_range_of_rows_draws_one_count_per_step_and_a_fixed_count_draws_none():
    ranged = DatasetStream("id", TrainConfig(seed=3, **{**TINY_DATA, "n_samples": [10, 40],
                                                        "p_observational_only": 1.0}))
    counts = {ranged[step][0].shape[1] for step in range(12)}
    assert len(counts) > 3 and min(counts) >= 10 and max(counts) <= 40
    torch.testing.assert_close(ranged[4][0], ranged[4][0])
    # a fixed count keeps the stream it had before ranges existed: the draws after d and the
    # interventional rows are those of make_scm_family's own generator
    cfg = TrainConfig(seed=3, **{**TINY_DATA, "p_observational_only": 1.0})
    rng = np.random.default_rng(np.random.SeedSequence([3, 0, 2, 0]))
    d = int(rng.integers(3, 5))
    rng.random()
    expected = make_scm_family("id", n_datasets=2, n_nodes=d, n_samples=16, n_interventional=0, random_state=rng)
    x, graphs = DatasetStream("id", cfg)[2]
    np.testing.assert_array_equal(graphs.numpy(), np.asarray(expected[2], dtype=np.float32))


@pytest.mark.parametrize("bad", [[0, 5], [5, 4], [1, 2, 3], 0, [2.5, 4]])
def test_a_bad_row_range_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="n_samples"):
        TrainConfig(n_samples=bad)


def test_stream_skips_excluded_graphs_by_their_canonical_hash():
    cfg = TrainConfig(seed=0, **TINY_DATA)
    first = DatasetStream("id", cfg)[0][1].numpy().astype(int)
    banned = {canonical_graph_hash(g) for g in first}
    # no hash function to pass any more: the stream always uses canonical_graph_hash
    assert "graph_hash" not in inspect.signature(DatasetStream).parameters
    x, graphs = DatasetStream("id", cfg, exclude_hashes=banned)[0]
    assert graphs.shape[0] == 2 and x.shape[0] == 2
    assert not {canonical_graph_hash(g) for g in graphs.numpy().astype(int)} & banned
    # a relabelled copy of a banned graph is the same graph: canonical hashing excludes it too
    perm = np.arange(first.shape[1])[::-1]
    assert canonical_graph_hash(first[0][perm][:, perm]) in banned


def test_stream_excludes_test_graphs_of_several_sizes():
    # d in {3, 4}: few graphs up to isomorphism, so the stream keeps hitting the test graphs
    cfg = TrainConfig(seed=0, **{**TINY_DATA, "batch_size": 4})
    test_sets = {d: make_scm_family("id", n_datasets=4, n_nodes=d, n_samples=30, n_interventional=5,
                                    random_state=7)[2] for d in (3, 4)}
    excluded = held_out_graph_hashes("id", [3, 4], seeds=[7], n_datasets=4, split=None)
    assert set(excluded) == {canonical_graph_hash(g) for gs in test_sets.values() for g in gs}

    def hits(stream, steps):
        return sum(any(graphs_isomorphic(g, t) for t in test_sets[len(g)])
                   for step in steps for g in stream[step][1].numpy().astype(np.int8))

    steps = range(12)
    assert hits(DatasetStream("id", cfg), steps) > 0  # without exclusion the test graphs occur
    stream = DatasetStream("id", cfg, exclude_hashes=excluded)
    assert hits(stream, steps) == 0
    sizes = {stream[t][1].shape[1] for t in steps}
    assert sizes == {3, 4}  # the redrawn data sets keep the step's d, so they stack
    again = DatasetStream("id", cfg, exclude_hashes=excluded)
    for t in (0, 5):  # still a pure function of (seed, step)
        torch.testing.assert_close(again[t][0], stream[t][0])
        torch.testing.assert_close(again[t][1], stream[t][1])


def test_stream_fails_clearly_when_every_graph_is_excluded():
    cfg = TrainConfig(**{**TINY_DATA, "n_nodes": [2, 2]})
    every_graph = {canonical_graph_hash(np.zeros((2, 2))), canonical_graph_hash(np.array([[0, 1], [0, 0]]))}
    stream = DatasetStream("id", cfg, exclude_hashes=every_graph)
    with pytest.raises(RuntimeError, match="excluded graph hashes"):
        stream[0]


def test_graph_hash_files_of_several_sizes(tmp_path):
    g10, g20 = (make_scm_family("id", n_datasets=3, n_nodes=d, n_samples=2, random_state=1)[2] for d in (10, 20))
    np.save(tmp_path / "d10.npy", g10)
    write_graph_hashes(tmp_path / "d20.txt", [canonical_graph_hash(g) for g in g20], header="d = 20\nseed 1")
    assert (tmp_path / "d20.txt").read_text().startswith("# d = 20\n# seed 1\n")
    hashes = read_graph_hashes([tmp_path / "d10.npy", tmp_path / "d20.txt"])
    assert hashes == {canonical_graph_hash(g) for g in [*g10, *g20]}
    (tmp_path / "bad.txt").write_text("# comment\n\nnot-a-hash\n")
    with pytest.raises(ValueError, match="line 3 of graph-hash file .*bad.txt"):
        read_graph_hashes([tmp_path / "bad.txt"])
    np.save(tmp_path / "bad.npy", np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="bad.npy"):
        read_graph_hashes([tmp_path / "bad.npy"])
    np.save(tmp_path / "probs.npy", np.full((1, 3, 3), 0.5) * (1 - np.eye(3)))  # probabilities, not graphs
    with pytest.raises(ValueError, match="probs.npy.* 0/1"):
        read_graph_hashes([tmp_path / "probs.npy"])
    np.save(tmp_path / "objects.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npy.* not a numeric"):
        read_graph_hashes([tmp_path / "objects.npy"])
    np.savez(tmp_path / "stack.npz", g=g10)
    with pytest.raises(ValueError, match="stack.npz.* not text"):
        read_graph_hashes([tmp_path / "stack.npz"])


def test_held_out_hashes_follow_the_dataset_spec(tmp_path):
    spec = DatasetSpec(family="id", split="test", n_datasets=3, n_nodes=5, n_samples=50, seed=2)
    hashes = held_out_graph_hashes("id", [5], [2], 3)
    assert hashes == sorted({canonical_graph_hash(g) for g in spec.generate().graphs})
    # what the removed `hash-test-graphs` subcommand wrote: held_out_graph_hashes + write_graph_hashes
    more = held_out_graph_hashes("id", [3, 4], seeds=[0, 1], n_datasets=3, split=None)
    assert {len(h) for h in more} == {16} and len(more) >= 2
    path = write_graph_hashes(tmp_path / "test.txt", more, header="id d=3,4 seeds 0,1")
    assert read_graph_hashes([path]) == set(more)
