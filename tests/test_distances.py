"""Family distances: ~0 within a family, monotone along controlled shifts."""

import numpy as np

from skcausal_meta.datasets import ErdosRenyi, Gaussian, Linear, Mixture, Periodic, SCMFamily, StudentT
from skcausal_meta.datasets.distances import family_distance, mmd2, summarize_family

KW = dict(n_datasets=12, n_nodes=8, n_samples=300)


def _family(name, **kw):
    spec = dict(name=name, graph=ErdosRenyi(edges_per_node=1.5), mechanism=Linear(), noise=Gaussian(scale=0.3),
                n_nodes=8)
    spec.update(kw)
    return SCMFamily(**spec)


def _dist(a, b, seed_a=0, seed_b=1):
    return family_distance(summarize_family(a, random_state=seed_a, **KW), summarize_family(b, random_state=seed_b, **KW))


def test_identical_summaries_have_zero_distance():
    s = summarize_family("id", random_state=0, **KW)
    dist = family_distance(s, s)
    assert all(abs(v) < 1e-9 for k, v in dist.items() if k != "mmd")
    assert dist["mmd"] < 1e-9  # unbiased MMD^2 of a sample with itself is slightly negative


def test_within_family_distance_below_between_family():
    within = _dist("id", "id")
    for other, keys in [("ood_dense", ["density", "degree_w1", "spectral_radius"]),
                        ("ood_noise_student", ["kurtosis", "mmd"]),
                        ("ood_mech_periodic", ["nonlinearity", "mmd"])]:
        between = _dist("id", other)
        for key in keys:
            assert between[key] > 2 * abs(within[key]) + 1e-3, (other, key, between[key], within[key])


def _monotone(values):
    return all(b > a for a, b in zip(values, values[1:]))


def test_graph_distances_grow_with_er_density():
    ref = _family("er_ref", graph=ErdosRenyi(edges_per_node=0.5))
    sweep = [_dist(ref, _family(f"er_{k}", graph=ErdosRenyi(edges_per_node=k))) for k in (1.0, 2.0, 3.0)]
    for key in ("density", "degree_w1", "spectral_radius"):
        assert _monotone([d[key] for d in sweep]), key


def test_noise_distance_grows_with_kurtosis():
    ref = _family("gauss_ref")
    sweep = [_dist(ref, _family(f"t_{df}", noise=StudentT(scale=0.3, df=df))) for df in (30.0, 6.0, 3.0)]
    assert _monotone([d["kurtosis"] for d in sweep])


def test_mechanism_distance_grows_with_nonlinearity():
    ref = _family("lin_ref")
    sweep = [
        _dist(ref, _family(f"mix_{p}", mechanism=Mixture(components=[Linear(), Periodic()], weights=[1 - p, p])))
        for p in (0.2, 0.6, 1.0)
    ]
    assert _monotone([d["nonlinearity"] for d in sweep])


def test_mmd_detects_a_shift_and_not_its_absence():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(60, 3)), rng.normal(size=(60, 3)), rng.normal(0.7, 1, size=(60, 3))
    assert abs(mmd2(a, b)) < mmd2(a, c)
    # shifting further increases the discrepancy (fixed bandwidth so the kernel is comparable)
    assert mmd2(a, rng.normal(1.5, 1, size=(60, 3)), bandwidth=1.0) > mmd2(a, c, bandwidth=1.0)


def test_families_of_different_sizes_compare():
    dist = family_distance(summarize_family("id", n_datasets=6, n_nodes=6, n_samples=200, random_state=0),
                           summarize_family("id", n_datasets=6, n_nodes=15, n_samples=200, random_state=0))
    assert np.isfinite(list(dist.values())).all()
