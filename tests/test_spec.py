"""DatasetSpec: validation, cache round trip, corruption and staleness, disjoint test graphs."""

import json

import numpy as np
import pytest
from pydantic import ValidationError

from skcausal_meta.datasets.spec import GENERATOR_VERSION, DatasetSpec, check_disjoint_graphs

SPEC = dict(family="id", n_datasets=3, n_nodes=5, n_samples=30, n_interventional=10, seed=4)


def test_cache_round_trip(tmp_path):
    spec = DatasetSpec(**SPEC)
    first = spec.load(root=tmp_path)
    folder = tmp_path / "id" / "test" / "4"
    assert {p.name for p in folder.iterdir()} == {"data.npz", "scm.json", "manifest.json"}
    second = spec.load(root=tmp_path)
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.graphs, second.graphs)
    np.testing.assert_array_equal(second.scms[0].sample(5, random_state=0), first.scms[0].sample(5, random_state=0))
    np.testing.assert_array_equal(first.X, spec.generate().X)


def test_splits_use_different_streams():
    a = DatasetSpec(**SPEC).generate()
    b = DatasetSpec(**{**SPEC, "split": "train"}).generate()
    assert not np.array_equal(a.X, b.X)


def test_corrupt_file_is_detected_and_regenerated(tmp_path):
    spec = DatasetSpec(**SPEC)
    good = spec.load(root=tmp_path)
    path = spec.path(tmp_path) / "data.npz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="corrupt"):
        again = spec.load(root=tmp_path)
    np.testing.assert_array_equal(good.X, again.X)
    assert spec.load(root=tmp_path) is not None  # rewritten: a clean load without warnings follows


def test_a_manifest_that_is_no_object_is_regenerated(tmp_path):
    spec = DatasetSpec(**SPEC)
    good = spec.load(root=tmp_path)
    (spec.path(tmp_path) / "manifest.json").write_text("[1, 2]")
    with pytest.warns(UserWarning, match="unreadable.*manifest.json holds a list"):
        again = spec.load(root=tmp_path)
    np.testing.assert_array_equal(good.X, again.X)


def test_stale_entry_is_regenerated(tmp_path):
    DatasetSpec(**SPEC).load(root=tmp_path)
    changed = DatasetSpec(**{**SPEC, "n_samples": 12})
    with pytest.warns(UserWarning, match="stale"):
        bundle = changed.load(root=tmp_path)
    assert bundle.X.shape[1] == 22
    manifest = json.loads((changed.path(tmp_path) / "manifest.json").read_text())
    assert manifest["spec"]["n_samples"] == 12


def test_entry_of_an_older_generator_is_regenerated(tmp_path):
    spec = DatasetSpec(**SPEC)
    spec.load(root=tmp_path)
    path = spec.path(tmp_path) / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["generator"] == GENERATOR_VERSION
    del manifest["generator"]  # as written before generator versions were recorded
    path.write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="generator version"):
        spec.load(root=tmp_path)
    assert json.loads(path.read_text())["generator"] == GENERATOR_VERSION


def test_missing_manifest_means_incomplete_entry(tmp_path):
    spec = DatasetSpec(**SPEC)
    spec.load(root=tmp_path)
    (spec.path(tmp_path) / "manifest.json").unlink()
    (spec.path(tmp_path) / "scm.json").write_text("half-written")
    bundle = spec.load(root=tmp_path)  # regenerated silently, not read
    assert len(bundle) == 3


def test_test_graphs_disjoint_from_training_graphs_up_to_isomorphism():
    # small graphs collide often, so exclusion has real work to do
    train = DatasetSpec(family="ood_nodes_small", split="train", n_datasets=12, n_nodes=4, n_samples=5,
                        n_interventional=0, seed=0).generate()
    spec = DatasetSpec(family="ood_nodes_small", n_datasets=6, n_nodes=4, n_samples=5, n_interventional=0, seed=0)
    plain = spec.generate()
    assert check_disjoint_graphs(plain.graphs, train.graphs)  # without exclusion they overlap
    test = spec.generate(exclude_graphs=train.graphs)
    assert check_disjoint_graphs(test.graphs, train.graphs) == []
    # a relabelled copy of a training graph is caught as isomorphic
    perm = [2, 0, 3, 1]
    g = train.graphs[0]
    assert check_disjoint_graphs([g[np.ix_(perm, perm)]], [g]) == [(0, 0)]


def test_impossible_exclusion_fails_clearly():
    every_dag_on_2 = [np.array([[0, 0], [0, 0]]), np.array([[0, 1], [0, 0]])]
    spec = DatasetSpec(family="ood_nodes_small", n_datasets=1, n_nodes=2, n_samples=5, n_interventional=0)
    with pytest.raises(RuntimeError, match="too small"):
        spec.generate(exclude_graphs=every_dag_on_2)


@pytest.mark.parametrize("bad, field", [({"family": "nope"}, "family"), ({"n_datasets": 0}, "n_datasets"),
                                         ({"split": "dev"}, "split"), ({"seed": -1}, "seed"),
                                         ({"colour": 1}, "colour"), ({"n_nodes": 1}, "n_nodes")])
def test_invalid_spec_names_the_field(bad, field):
    with pytest.raises(ValidationError, match=field):
        DatasetSpec(**{**SPEC, **bad})
