"""Real data: the Sachs et al. (2005) protein-signalling data set with its consensus graphs.

Flow-cytometry measurements of 11 phosphorylated proteins and phospholipids in human T cells,
recorded under nine reagent conditions (Sachs, Perez, Pe'er, Lauffenburger, Nolan, "Causal
protein-signaling networks derived from multiparameter single-cell data", Science 308, 2005).
It is the standard real-data benchmark of causal discovery with interventions. The files are
package data under ``datasets/data/sachs/`` (see the README there for their provenance).
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from .spec import DatasetBundle

__all__ = ["SACHS_NODES", "SACHS_CONDITIONS", "SACHS_GRAPHS", "load_sachs", "sachs_bundle"]

#: Node names, in the column order of the data file (``praf, pmek, plcg, PIP2, PIP3, p44/42,
#: pakts473, PKA, PKC, P38, pjnk``).
SACHS_NODES = ("Raf", "Mek", "Plcg", "PIP2", "PIP3", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk")

#: Condition blocks of the data file, in row order: ``(name, n_rows, reagent, targets)``.
#: ``targets`` are the measured nodes whose mechanism the reagent changes.
SACHS_CONDITIONS = (
    ("cd3cd28", 853, "anti-CD3/CD28 (general T-cell stimulation)", ()),
    ("cd3cd28+icam2", 902, "ICAM-2 (activates LFA-1, not measured)", ()),
    ("cd3cd28+aktinhib", 911, "AKT inhibitor (inhibits Akt)", ("Akt",)),
    ("cd3cd28+g0076", 723, "G06976 (inhibits PKC)", ("PKC",)),
    ("cd3cd28+psitect", 810, "psitectorigenin (inhibits PIP2)", ("PIP2",)),
    ("cd3cd28+u0126", 799, "U0126 (inhibits MEK)", ("Mek",)),
    ("cd3cd28+ly", 848, "LY294002 (inhibits PI3K, which makes PIP3)", ("PIP3",)),
    ("pma", 913, "PMA (activates PKC)", ("PKC",)),
    ("b2camp", 707, "beta2-cAMP (activates PKA)", ("PKA",)),
)

#: Consensus graphs: choice -> (file, the file's name for each node of :data:`SACHS_NODES`).
SACHS_GRAPHS = {
    "17": ("graph_17_bnlearn.csv", SACHS_NODES),
    "18": (
        "graph_18_cdt.csv",
        ("praf", "pmek", "plcg", "PIP2", "PIP3", "p44/42", "pakts473", "PKA", "PKC", "P38", "pjnk"),
    ),
    "20": ("graph_20_tetrad.csv", ("raf", "mek", "plc", "pip2", "pip3", "erk", "akt", "pka", "pkc", "p38", "jnk")),
}

_DATA_FILE = "sachs_7466.csv"


def _data_path(name: str):
    return resources.files("skcausal_meta.datasets").joinpath("data", "sachs", name)


def _read_graph(choice: str) -> np.ndarray:
    """The consensus graph ``choice`` as an int8 ``(11, 11)`` adjacency in :data:`SACHS_NODES` order."""
    filename, file_names = SACHS_GRAPHS[choice]
    index = {name: j for j, name in enumerate(file_names)}
    with _data_path(filename).open("r") as fh:
        edges = pd.read_csv(fh)
    graph = np.zeros((len(SACHS_NODES), len(SACHS_NODES)), dtype=np.int8)
    for cause, effect in edges.itertuples(index=False):
        graph[index[cause], index[effect]] = 1
    return graph


def _intervention_mask() -> np.ndarray:
    """Boolean ``(7466, 11)`` mask: each row marks the targets of its block's reagent."""
    rows = []
    for _, n_rows, _, targets in SACHS_CONDITIONS:
        row = np.isin(SACHS_NODES, targets)
        rows.append(np.broadcast_to(row, (n_rows, len(SACHS_NODES))))
    return np.concatenate(rows)


def load_sachs(
    graph: Literal["17", "18", "20"] = "17",
    observational_only: bool = False,
    log_transform: bool = False,
    return_conditions: bool = False,
) -> (
    tuple[pd.DataFrame, np.ndarray, np.ndarray]
    | tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]
):
    """Load the Sachs et al. (2005) data, its intervention mask and a consensus graph.

    Parameters
    ----------
    graph : {"17", "18", "20"}, default="17"
        Which consensus graph to return (papers differ in which one they score against):

        - ``"17"`` (default): the 17-edge network of the bnlearn repository, also used by
          GraN-DAG, DCDI and causaldag. A DAG.
        - ``"18"``: the 18-edge target graph that the Causal Discovery Toolbox (cdt) ships. It
          holds the directed cycle ``PIP2 -> PIP3 -> Plcg -> PIP2``, so it is not a DAG.
        - ``"20"``: the 20-edge ground truth of the Tetrad project (CMU
          ``example-causal-datasets``): the 17-edge graph with ``Plcg -> PIP3`` reversed plus
          ``PIP2 -> PKC``, ``Plcg -> PKC`` and ``PIP3 -> Akt``, the connections Sachs et al.
          list as expected but missed. A DAG.
    observational_only : bool, default=False
        Return only the 853 rows of the anti-CD3/CD28 block (the purely observational set used
        by GraN-DAG and BayesDAG), with an all-False mask.
    log_transform : bool, default=False
        Return ``log(X)`` instead of the raw intensities (all raw values are >= 1). The raw
        values are heavy-tailed; many papers model the log.
    return_conditions : bool, default=False
        Also return the condition name of each row.

    Returns
    -------
    X : pandas.DataFrame of shape (n, 11)
        Measurements, float64, columns :data:`SACHS_NODES` (``Raf, Mek, Plcg, PIP2, PIP3, Erk,
        Akt, PKA, PKC, P38, Jnk``), in the file's row order: 7466 rows, or 853 with
        ``observational_only``.
    interventions : ndarray of shape (n, 11), dtype bool
        ``interventions[r, j]`` is True when row ``r`` was recorded under a reagent that targets
        node ``j`` (see Notes).
    graph : ndarray of shape (11, 11), dtype int8
        The consensus graph, ``graph[i, j] == 1`` for ``i -> j``, node order matching the columns
        of ``X``.
    conditions : ndarray of shape (n,), dtype object
        Only with ``return_conditions``: each row's condition (e.g. ``"cd3cd28+u0126"``).

    Notes
    -----
    Rows come in nine condition blocks (sizes in :data:`SACHS_CONDITIONS`). The targets follow
    the reagents and targets listed by Sachs et al. (2005, Table 1):

    - inhibitors of a measured protein mark that protein: AKT inhibitor -> Akt, G06976 -> PKC,
      psitectorigenin -> PIP2, U0126 -> Mek. LY294002 inhibits PI3K, which is not measured; it
      marks PIP3, the measured product of PI3K whose mechanism it changes.
    - activators of a measured protein mark it: PMA -> PKC, beta2-cAMP -> PKA. (These two blocks
      also lack the anti-CD3/CD28 stimulation of the other seven; the mask cannot express that.)
    - activators that do not target a measured node give all-False rows: the anti-CD3/CD28
      block (the observational reference) and ICAM-2 (which acts on LFA-1).

    Examples
    --------
    >>> X, mask, G = load_sachs()
    >>> X.shape, mask.shape, int(G.sum())
    ((7466, 11), (7466, 11), 17)
    """
    if not isinstance(graph, str) or graph not in SACHS_GRAPHS:
        raise ValueError(f"graph must be one of {sorted(SACHS_GRAPHS)}, got {graph!r}")
    for name, value in (("observational_only", observational_only), ("log_transform", log_transform),
                        ("return_conditions", return_conditions)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    with _data_path(_DATA_FILE).open("r") as fh:
        values = pd.read_csv(fh).to_numpy(dtype=np.float64)
    mask = _intervention_mask()
    conditions = np.repeat([c[0] for c in SACHS_CONDITIONS], [c[1] for c in SACHS_CONDITIONS]).astype(object)
    if observational_only:
        n_obs = SACHS_CONDITIONS[0][1]
        values, mask, conditions = values[:n_obs], mask[:n_obs], conditions[:n_obs]
    if log_transform:
        values = np.log(values)
    X = pd.DataFrame(values, columns=list(SACHS_NODES))
    out = (X, mask, _read_graph(graph))
    return out + (conditions,) if return_conditions else out


def sachs_bundle(graph="17", observational_only=False, log_transform=False) -> DatasetBundle:
    """The Sachs data as a one-data-set :class:`~skcausal_meta.datasets.spec.DatasetBundle`.

    For code written against generated bundles: the same fields, with ``X`` stacked as
    ``(1, n, 11)``, ``interventions`` ``(1, n, 11)``, ``graphs`` ``(1, 11, 11)``, and
    ``spec=None``, ``scms=None`` (there is no generating SCM to draw held-out rows from). The
    benchmark runner uses the rows instead, as the real family ``sachs`` with seeded train/test
    splits (``skcausal_meta.pipeline.real``). Parameters are those of :func:`load_sachs`.

    Examples
    --------
    All 7466 rows, the nodes some condition intervenes on, and the 17-edge consensus graph:

    >>> from skcausal_meta.datasets import SACHS_NODES, sachs_bundle
    >>> bundle = sachs_bundle()
    >>> bundle.X.shape, bundle.interventions.shape, bundle.graphs.shape, bundle.spec is None
    ((1, 7466, 11), (1, 7466, 11), (1, 11, 11), True)
    >>> [SACHS_NODES[j] for j in bundle.interventions[0].any(axis=0).nonzero()[0]]
    ['Mek', 'PIP2', 'PIP3', 'Akt', 'PKA', 'PKC']
    >>> int(bundle.graphs[0].sum()), sachs_bundle(observational_only=True).X.shape
    (17, (1, 853, 11))
    """
    X, mask, G = load_sachs(graph, observational_only=observational_only, log_transform=log_transform)
    return DatasetBundle(spec=None, X=X.to_numpy()[None], interventions=mask[None], graphs=G[None], scms=None)

