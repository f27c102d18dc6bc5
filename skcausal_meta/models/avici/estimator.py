"""scikit-learn estimator around the AVICI network: amortized inference in one forward pass."""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch

from ..._validation import check_positive_int, check_random_state
from ..base import BaseCausalEstimator, GraphPosterior
from ..checkpoint_io import load_model, resolve_checkpoint
from ..training import TrainConfig, make_model_input, meta_train
from .model import AviciModel

__all__ = ["AviciEstimator", "project_to_dag"]

DEFAULT_CHECKPOINT = "avici_id"


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


class AviciEstimator(BaseCausalEstimator):
    """Amortized causal discovery with AVICI (Lorch et al. 2022).

    ``fit`` runs the meta-trained network once on the data: values are z-scored per column and
    stacked with the intervention mask into an ``[n, d, 2]`` input, and the network returns
    independent edge probabilities. The posterior is the product of Bernoulli edges, so sampled
    graphs may contain cycles (see ``GraphPosterior.is_dag``); its log probability is exact.

    Parameters
    ----------
    checkpoint : str or path-like, default=None
        Network weights: ``None`` for the shipped ``"avici_id"`` (trained on the ``id`` family),
        another shipped name, or the stem / ``.json`` / ``.safetensors`` path of a checkpoint
        written by :meth:`meta_fit` or ``python -m skcausal_meta.train``.
    n_samples : int, default=1000
        Graphs drawn for :meth:`predict_graph_posterior` when it is called without
        ``n_samples`` (also the graphs mixed by :meth:`score`).
    max_nodes : int, default=100
        Largest number of variables accepted. The network has no size-specific weights, but
        its accuracy outside the sizes it was trained on is unchecked and attention memory
        grows as ``n d^2 + d n^2``.
    standardize : bool, default=True
        Z-score ``X`` before inference (the network input is z-scored either way).
    device : "auto", str or torch.device, default="auto"
    random_state : int, numpy Generator or None, default=None
        Seeds graph sampling and the weight initialisation of :meth:`meta_fit`.

    Attributes
    ----------
    edge_probs_ : ndarray of shape (d, d)
        Marginal edge probabilities, zero diagonal.
    checkpoint_path_ : str
        Stem of the checkpoint used (or the ``out`` of :meth:`meta_fit`, if any).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only for DataFrame input
    """

    _trainable = True

    def __init__(self, checkpoint=None, *, n_samples=1000, max_nodes=100, standardize=True,
                 device="auto", random_state=None):
        self.checkpoint = checkpoint
        self.n_samples = n_samples
        self.max_nodes = max_nodes
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ network
    def _network(self) -> tuple[AviciModel, str]:
        """The meta-fitted network if :meth:`meta_fit` ran, else the one in ``checkpoint``."""
        trained = getattr(self, "_meta_network", None)
        if trained is not None:
            return trained
        stem = resolve_checkpoint(self.checkpoint, DEFAULT_CHECKPOINT)
        model, _ = load_model(stem, AviciModel)
        return model, str(stem)

    def meta_fit(self, family, steps=1000, *, model_config=None, out=None, resume=True, progress=True,
                 log_path=None, **train_options):
        """Meta-train a fresh network on data sets streamed from an SCM family.

        Parameters
        ----------
        family : str or SCMFamily
            Family to train on (e.g. ``"id"``).
        steps : int, default=1000
            Optimizer steps.
        model_config : dict, default=None
            Keyword arguments of :class:`AviciModel` (width, layers, dual ascent, ...).
        out : path-like, default=None
            Checkpoint stem written periodically (``OUT.safetensors`` + ``OUT.json``, and the
            resumable ``OUT.train.safetensors``).
        resume : bool, default=True
            Continue from ``OUT.train.safetensors`` if it exists.
        progress : bool, default=True
            Show a progress bar.
        log_path : path-like, default=None
            JSON-lines log of the evaluations.
        **train_options
            Other :class:`~skcausal_meta.models.training.TrainConfig` fields (``batch_size``,
            ``lr``, ``n_nodes``, ...). ``seed`` defaults to one drawn from ``random_state``.

        Returns
        -------
        self
            Later calls to :meth:`fit` use the trained network.
        """
        steps = check_positive_int(steps, "steps")
        rng = check_random_state(self.random_state)
        train_options.setdefault("seed", int(rng.integers(2**31 - 1)))
        config = TrainConfig(steps=steps, **train_options)
        with torch.random.fork_rng():
            torch.manual_seed(config.seed)  # weight initialisation, global RNG restored afterwards
            model = AviciModel(**(model_config or {}))
        self.meta_history_ = meta_train(model, family, config, out=out, resume=resume, device=self._device(),
                                        progress=progress, log_path=log_path,
                                        info={"family": str(getattr(family, "name", family))})
        self._meta_network = (model.cpu().eval(), str(out) if out is not None else "<meta_fit, in memory>")
        return self

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, mask):
        n_samples = check_positive_int(self.n_samples, "n_samples")
        max_nodes = check_positive_int(self.max_nodes, "max_nodes", minimum=2)
        model, self.checkpoint_path_ = self._network()
        d = X.shape[1]
        if d > max_nodes:
            raise ValueError(f"X has {d} variables but the AVICI checkpoint {self.checkpoint_path_!r} is used "
                             f"for at most max_nodes={max_nodes}; raise max_nodes to run it anyway")
        device = self._device()
        x = torch.from_numpy(make_model_input(X, mask))[None].to(device)
        with torch.no_grad():
            probs = model.to(device).eval().edge_probs(x)[0].double().cpu().numpy()
        self.edge_probs_ = probs
        self._n_graphs = n_samples

    def _posterior(self, n_samples, rng) -> GraphPosterior:
        p = self.edge_probs_
        S = n_samples or self._n_graphs
        samples = (rng.random((S, *p.shape)) < p).astype(np.int8)
        off = ~np.eye(p.shape[0], dtype=bool)
        log_p = np.log(np.clip(p, 1e-300, 1.0))
        log_q = np.log(np.clip(1 - p, 1e-300, 1.0))

        def log_prob(graph):
            g = np.asarray(graph) != 0
            return float(np.where(g, log_p, log_q)[off].sum())

        return GraphPosterior(samples, edge_probs=p, log_prob=log_prob)

    def _plugin_graphs(self, posterior):
        """Bernoulli samples may be cyclic: project each onto a DAG with :func:`project_to_dag`
        before the plug-in mechanisms are fitted (see
        :class:`~skcausal_meta.models.plugin_likelihood.PluginLikelihood`)."""
        return np.stack([project_to_dag(g, self.edge_probs_) for g in posterior.samples])
