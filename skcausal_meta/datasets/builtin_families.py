"""The built-in families: AVICI's training domain ``id`` and its out-of-distribution shifts.

Data, not code: each family is ``id`` with one or more axes changed (``shift`` names them), so
that a report can say which change a model is sensitive to.
:mod:`skcausal_meta.datasets.families` registers them on import.
"""

from __future__ import annotations

from .family import SCMFamily
from .graphs import ErdosRenyi, GeometricRandom, ScaleFree, StochasticBlock, WattsStrogatz
from .interventions import InterventionSpec
from .mechanisms import MLP, GaussianProcess, Linear, Mixture, Periodic, PostNonlinear, RandomFourier, Square
from .noise import Gaussian, Heteroscedastic, Laplace, StudentT, Uniform

__all__ = ["builtin_families"]


def _id_family(**overrides) -> SCMFamily:
    """AVICI's published training domain (Lorch et al. 2022), the meta-training prior."""
    spec = dict(
        name="id",
        graph=[ErdosRenyi(edges_per_node=[1, 3], cap_density=True),
               ScaleFree(edges_per_node=[1, 3], cap_density=True),
               ScaleFree(edges_per_node=[1, 3], in_degree=True, cap_density=True)],
        mechanism=[Linear(weight=(1.0, 3.0), bias=(-3.0, 3.0)),
                   RandomFourier(length_scale=(7.0, 10.0), output_scale=(10.0, 20.0), bias=(-3.0, 3.0))],
        noise=[Gaussian(scale=(0.2, 2.0))],
        n_nodes=(5, 20),
        interventions=InterventionSpec(kind="perfect", targets="single", value=(1.0, 3.0)),
        description="ER/SF 1-3 edges per node, linear or RFF, Gaussian noise, d 5-20 (AVICI's domain)",
    )
    spec.update(overrides)
    return SCMFamily(**spec)


def builtin_families() -> list[SCMFamily]:
    """``id`` and the out-of-distribution families, in report order."""
    idf = _id_family()
    mlp = MLP()
    return [
        idf,
        # graph structure
        _id_family(name="ood_graph_ws", graph=WattsStrogatz(neighbors=[1, 2], rewire_prob=0.3), shift=("graph",),
                   description="Watts-Strogatz small-world graphs"),
        _id_family(name="ood_graph_sbm", graph=StochasticBlock(edges_per_node=[1, 3]), shift=("graph",),
                   description="stochastic block model graphs"),
        _id_family(name="ood_graph_geo", graph=GeometricRandom(radius=(0.25, 0.4)), shift=("graph",),
                   description="random geometric graphs"),
        # density
        _id_family(name="ood_dense", graph=[ErdosRenyi(edges_per_node=[4, 6], cap_density=True),
                                            ScaleFree(edges_per_node=[4, 6], cap_density=True)],
                   shift=("density",), description="ER/SF with 4-6 edges per node (capped at complete DAGs)"),
        _id_family(name="ood_sparse", graph=ErdosRenyi(edges_per_node=(0.25, 0.75)), shift=("density",),
                   description="ER with 0.25-0.75 edges per node"),
        # mechanisms
        _id_family(name="ood_mech_mlp", mechanism=mlp, shift=("mechanism",), description="random tanh MLPs"),
        _id_family(name="ood_mech_gp", mechanism=GaussianProcess(), n_nodes=(5, 10), shift=("mechanism",),
                   description="exact GP sample paths (d 5-10)"),
        _id_family(name="ood_mech_square", mechanism=Square(), shift=("mechanism",), description="quadratic"),
        _id_family(name="ood_mech_periodic", mechanism=Periodic(), shift=("mechanism",), description="sinusoidal"),
        _id_family(name="ood_mech_pnl", mechanism=PostNonlinear(), shift=("mechanism",),
                   description="post-nonlinear g(f(pa) + e)"),
        _id_family(name="ood_mech_mixture",
                   mechanism=Mixture(components=[Linear(), RandomFourier(), MLP(), Square(), Periodic()]),
                   shift=("mechanism",), description="per-node mixture of five mechanism kinds"),
        # noise
        _id_family(name="ood_noise_laplace", noise=Laplace(), shift=("noise",), description="Laplace noise"),
        _id_family(name="ood_noise_student", noise=StudentT(df=(2.0, 4.0)), shift=("noise",),
                   description="Student-t noise, 2-4 degrees of freedom"),
        _id_family(name="ood_noise_uniform", noise=Uniform(), shift=("noise",), description="uniform noise"),
        _id_family(name="ood_noise_hetero", noise=Heteroscedastic(), shift=("noise",),
                   description="heteroscedastic Gaussian noise"),
        # interventions
        _id_family(name="ood_interv_soft", interventions=InterventionSpec(kind="shift", value=(1.0, 3.0)),
                   shift=("interventions",), description="mean-shift (soft) interventions"),
        _id_family(name="ood_interv_fraction", interventions=InterventionSpec(targets=0.3, value=(1.0, 3.0)),
                   shift=("interventions",), description="do-interventions on 30% of nodes per block"),
        _id_family(name="ood_interv_unknown", interventions=InterventionSpec(unknown_targets=True),
                   shift=("interventions",), description="single-node do-interventions with unknown targets"),
        # size
        _id_family(name="ood_nodes_large", n_nodes=(30, 50), shift=("nodes",), description="30-50 nodes"),
        _id_family(name="ood_nodes_small", n_nodes=(3, 4), shift=("nodes",), description="3-4 nodes"),
        _id_family(name="ood_samples_small", n_samples=50, n_interventional=10, shift=("samples",),
                   description="50 observational + 10 interventional rows"),
        _id_family(name="ood_samples_large", n_samples=2000, n_interventional=400, shift=("samples",),
                   description="2000 observational + 400 interventional rows"),
        # combinations
        _id_family(name="ood_combo_graph_mech", graph=WattsStrogatz(neighbors=[1, 2]), mechanism=mlp,
                   shift=("graph", "mechanism"), description="small-world graphs with MLP mechanisms"),
        _id_family(name="ood_combo_mech_noise", mechanism=mlp, noise=Heteroscedastic(),
                   shift=("mechanism", "noise"), description="MLP mechanisms with heteroscedastic noise"),
        _id_family(name="ood_combo_all", graph=StochasticBlock(edges_per_node=[3, 5]),
                   mechanism=Mixture(components=[MLP(), Square(), Periodic()]), noise=StudentT(df=(2.0, 4.0)),
                   interventions=InterventionSpec(kind="shift"),
                   shift=("graph", "density", "mechanism", "noise", "interventions"),
                   description="dense SBM, nonlinear mixtures, heavy tails, soft interventions"),
    ]
