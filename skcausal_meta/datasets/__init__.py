"""Seeded SCM families (in- and out-of-distribution), their distances, and a data-set cache.

No torch here: data generation is numpy, vectorised over rows.
"""

from .families import (
    SHIFT_AXES,
    SCMFamily,
    get_family,
    list_families,
    make_scm_family,
    register_family,
    registered_families,
)
from .graphs import (
    ErdosRenyi,
    FixedGraph,
    GeometricRandom,
    GraphPrior,
    ScaleFree,
    StochasticBlock,
    WattsStrogatz,
    canonical_graph_hash,
    graphs_isomorphic,
)
from .interventions import Interventions, InterventionSpec
from .mechanisms import MLP, GaussianProcess, Linear, Mixture, Periodic, PostNonlinear, RandomFourier, Square
from .noise import Gaussian, Heteroscedastic, Laplace, StudentT, Uniform
from .scm import SCMInstance
from .spec import DatasetBundle, DatasetSpec, check_disjoint_graphs
from .real import SACHS_CONDITIONS, SACHS_NODES, load_sachs, sachs_bundle
from .descriptors import dataset_descriptors, family_descriptors, r2_sortability, sortability, varsortability
from .distances import distance_matrix, family_distance, summarize_datasets, summarize_family

__all__ = [
    "SCMFamily", "SHIFT_AXES", "get_family", "list_families", "make_scm_family", "register_family",
    "registered_families",
    "GraphPrior", "ErdosRenyi", "ScaleFree", "WattsStrogatz", "StochasticBlock", "GeometricRandom", "FixedGraph",
    "canonical_graph_hash", "graphs_isomorphic",
    "Interventions", "InterventionSpec",
    "Linear", "RandomFourier", "MLP", "GaussianProcess", "Square", "Periodic", "PostNonlinear", "Mixture",
    "Gaussian", "Laplace", "StudentT", "Uniform", "Heteroscedastic",
    "SCMInstance",
    "DatasetSpec", "DatasetBundle", "check_disjoint_graphs",
    "family_distance", "distance_matrix", "summarize_family", "summarize_datasets",
    "load_sachs", "sachs_bundle", "SACHS_NODES", "SACHS_CONDITIONS",
    "varsortability", "r2_sortability", "sortability", "dataset_descriptors", "family_descriptors",
]
