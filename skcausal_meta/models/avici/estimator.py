"""scikit-learn estimator around the AVICI network: amortized inference in one forward pass."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, ClassVar

import networkx as nx
import numpy as np
import torch

from ..._validation import check_adjacency
from .._constraints import Number
from ..amortized import AmortizedEstimator
from ..posterior import GraphPosterior
from .model import AviciModel

if TYPE_CHECKING:
    from ..._typing import PathLike, RandomStateLike

__all__ = ["AviciEstimator", "project_to_dag"]

DEFAULT_CHECKPOINT = "avici_id_large"


def project_to_dag(graph: np.ndarray, edge_probs: np.ndarray) -> np.ndarray:
    """Make ``graph`` acyclic by deleting, cycle by cycle, the least probable edge on the cycle.

    Deterministic and the identity on DAGs; used to score cyclic Bernoulli samples with a
    likelihood that is a density only for DAGs.
    """
    g = nx.DiGraph(np.asarray(graph))
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        g.remove_edge(*min(cycle, key=lambda edge: edge_probs[edge[0], edge[1]])[:2])
    return nx.to_numpy_array(g, nodelist=range(len(graph)), dtype=np.int8)


class AviciEstimator(AmortizedEstimator):
    """Amortized causal discovery with AVICI (Lorch et al. 2022).

    ``fit`` runs the meta-trained network once on the data: values are z-scored per column and
    stacked with the intervention mask into an ``[n, d, 2]`` input, and the network returns
    independent edge probabilities. The posterior is the product of Bernoulli edges, so sampled
    graphs may contain cycles (see ``GraphPosterior.is_dag``); its log probability is exact.

    Parameters
    ----------
    checkpoint : str or path-like, default=None
        Network weights: ``None`` for the shipped ``"avici_id_large"`` (the paper network, 2.4 M
        parameters in float16, trained on ``id``), another shipped name (``"avici_stats"``: a
        statistics-informed network trained on the broader ``broad`` family, ahead on
        observational data and under mechanism shifts, behind in distribution, see
        ``docs/training.md``; the paper networks ``"avici_lin_er"`` and ``"avici_id"``), or the
        stem / ``.json`` / ``.safetensors`` path of a checkpoint written by :meth:`meta_fit` or
        ``python -m skcausal_meta.train``.
    n_graphs : int, default=1000
        Graphs drawn for :meth:`predict_graph_posterior` when it is called without
        ``n_graphs`` (also the graphs mixed by :meth:`score`).
    max_nodes : int, default=100
        Largest number of variables accepted. The network has no size-specific weights, but
        its accuracy outside the sizes it was trained on is unchecked and attention memory
        grows as ``n d^2 + d n^2``.
    standardize : bool, default=True
        Z-score ``X`` before inference (the network input is z-scored either way).
    n_threads : int or None, default=None
        Torch intra-op threads of the forward pass (restored afterwards); ``None`` uses torch's
        setting, lowered to the cores idle at the call
        (``skcausal_meta.models.devices.intra_op_threads``).
    device : "auto", str or torch.device, default="auto"
    random_state : int, numpy Generator or None, default=None
        Seeds graph sampling and the weight initialisation of :meth:`meta_fit`.

    Attributes
    ----------
    edge_probs_ : ndarray of shape (d, d)
        Marginal edge probabilities, zero diagonal.
    checkpoint_path_ : pathlib.Path or None
        Stem of the checkpoint used (or the ``out`` of :meth:`meta_fit`; None for an in-memory network).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only for DataFrame input

    Examples
    --------
    The shipped network needs no training; ``fit`` is one forward pass:

    >>> import numpy as np
    >>> from skcausal_meta import AviciEstimator, make_scm_family
    >>> X, interventions, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50,
    ...                                           random_state=0)
    >>> est = AviciEstimator(n_graphs=100, random_state=0).fit(X[0], interventions=interventions[0])
    >>> est.checkpoint_path_.name, est.edge_probs_.shape
    ('avici_id_large', (4, 4))
    >>> posterior = est.predict_graph_posterior()
    >>> posterior.samples.shape, posterior.has_log_prob
    ((100, 4, 4), True)
    >>> bool(np.allclose(posterior.edge_probs, est.edge_probs_))
    True
    """

    _network_class = AviciModel
    _default_checkpoint = DEFAULT_CHECKPOINT
    _parameter_constraints: ClassVar[dict] = {
        **AmortizedEstimator._parameter_constraints,
        "max_nodes": [Number(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        checkpoint: PathLike | None = None,
        *,
        n_graphs: int = 1000,
        max_nodes: int = 100,
        standardize: bool = True,
        n_threads: int | None = None,
        device: str | torch.device = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.n_graphs = n_graphs
        self.max_nodes = max_nodes
        self.standardize = standardize
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ hooks
    def _fit_network(self, X, mask):
        model, self.checkpoint_path_ = self._network()
        self._check_n_variables(X.shape[1], self.max_nodes, self.checkpoint_path_,
                                "; raise max_nodes to run it anyway")
        device = self._device()
        x = self._model_input(X, mask, model)
        with torch.no_grad():
            probs = model.to(device).eval().edge_probs(x)[0].double().cpu().numpy()
        self.edge_probs_ = probs
        self._n_graphs = int(self.n_graphs)

    def _posterior(self, n_graphs, rng) -> GraphPosterior:
        p = self.edge_probs_
        S = n_graphs or self._n_graphs
        samples = (rng.random((S, *p.shape)) < p).astype(np.int8)
        off = ~np.eye(p.shape[0], dtype=bool)
        log_p = np.log(np.clip(p, 1e-300, 1.0))
        log_q = np.log(np.clip(1 - p, 1e-300, 1.0))

        def log_prob(graph):
            g = check_adjacency(graph, name="graph", n_nodes=p.shape[0]).astype(bool)
            return float(np.where(g, log_p, log_q)[off].sum())

        return GraphPosterior(samples, edge_probs=p, log_prob=log_prob)

    def _plugin_graphs(self, posterior):
        """Bernoulli samples may be cyclic: project each onto a DAG with :func:`project_to_dag`
        before the plug-in mechanisms are fitted (see
        :class:`~skcausal_meta.models.plugin_likelihood.PluginLikelihood`)."""
        return np.stack([project_to_dag(g, self.edge_probs_) for g in posterior.samples])
