"""Our SCM families that match ``avici.simulate_data``'s ``lin-gauss`` and ``rff-gauss`` domains.

avici 1.0.7 defines both domains in ``avici/config/examples/{lin-gauss,rff-gauss}.yaml``; its
parser expands every list of options into a Cartesian product and each data set picks one of the
resulting specs uniformly. The families below copy that, entry for entry:

What matches
    - Graph prior: a uniform choice among 11 graph specs, as in avici: scale-free with 2 edges
      per node and preferential-attachment power 0.5, 1 or 1.5, with hubs of many parents
      (avici ``ScaleFree``) or of many children (``ScaleFreeTranspose``) (3 + 3 specs); small world
      (2 specs, see below); stochastic block model, 2 edges per node, 5 or 10 blocks, inter-block damping 0.1
      (2 specs); random geometric graph in the unit square with radius 0.1 (1 spec).
    - Mechanisms: ``lin``: weights ``+-U(1, 3)`` per edge, bias ``U(-3, 3)``; ``rff``: 100
      random Fourier features, length scale ``U(7, 10)``, output scale ``U(10, 20)``, bias
      ``U(-3, 3)``, ``f = c sqrt(2/100) sum_m w_m cos(omega_m^T x + b_m)`` in both.
    - Noise: additive Gaussian with a per-node standard deviation ``U(0.2, 2)``.
    - Interventions: perfect, one target per block of rows, every node targeted once (avici's
      ``n_interv_vars: -1``), values ``+-U(1, 5)``.

What differs
    - Small world: avici rewires (p = 0.3) a 2-D or 3-D grid lattice cut down to ``d`` nodes,
      which at d = 20 has about 32 or 44 edges; our
      :class:`~skcausal_meta.datasets.WattsStrogatz` rewires a ring lattice (p = 0.3), and 2
      neighbours on each side (40 edges) is the nearest density for both specs.
    - Scale-free: igraph's attachment weight is ``in_degree ** power + 1``, ours is
      ``(degree + 1) ** power``; stochastic block sizes come from random cut points in avici and
      from a uniform block label per node here.
    - Rows: avici shuffles observational and interventional rows together; we return the
      observational rows first (the mask says which is which).
    - Output: avici returns float64 data and an int graph; ours float64 data, an int8 graph
      and a boolean mask. Neither standardises the returned data.
    - Arithmetic: ours evaluates the random Fourier features in single precision (the function
      values agree with the double-precision formula to a few 1e-6 of the output scale) and
      draws Gaussian noise by Box-Muller in single precision from a double-precision uniform;
      avici works in double precision throughout and draws noise with numpy's ``normal``.
"""

from skcausal_meta.datasets import (
    Gaussian,
    GeometricRandom,
    InterventionSpec,
    Linear,
    RandomFourier,
    ScaleFree,
    SCMFamily,
    StochasticBlock,
    WattsStrogatz,
)

_GRAPHS = [
    *(ScaleFree(edges_per_node=2, power=p, in_degree=True) for p in (0.5, 1.0, 1.5)),
    *(ScaleFree(edges_per_node=2, power=p) for p in (0.5, 1.0, 1.5)),
    WattsStrogatz(neighbors=2, rewire_prob=0.3),  # for avici's 2-D lattice
    WattsStrogatz(neighbors=2, rewire_prob=0.3),  # for avici's 3-D lattice
    StochasticBlock(edges_per_node=2.0, n_blocks=5, damping=0.1),
    StochasticBlock(edges_per_node=2.0, n_blocks=10, damping=0.1),
    GeometricRandom(radius=0.1),
]
_COMMON = dict(graph=_GRAPHS, noise=Gaussian(scale=(0.2, 2.0)), n_nodes=20, n_samples=1000, n_interventional=0,
               interventions=InterventionSpec(kind="perfect", targets="single", value=(1.0, 5.0)))

AVICI_DOMAINS = {
    "lin-gauss": SCMFamily(name="avici-lin-gauss", mechanism=Linear(weight=(1.0, 3.0), bias=(-3.0, 3.0)),
                           description="avici.simulate_data domain 'lin-gauss'", **_COMMON),
    "rff-gauss": SCMFamily(name="avici-rff-gauss",
                           mechanism=RandomFourier(length_scale=(7.0, 10.0), output_scale=(10.0, 20.0),
                                                   bias=(-3.0, 3.0), n_features=100),
                           description="avici.simulate_data domain 'rff-gauss'", **_COMMON),
}
