"""scikit-learn estimator around the BCNP network: ``fit`` is one forward pass."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from ..._validation import check_adjacency, is_dag
from .._constraints import POSITIVE_INT
from ..amortized import AmortizedEstimator
from ..devices import torch_generator
from ..posterior import GraphPosterior
from .model import BCNP

if TYPE_CHECKING:
    from ..._typing import PathLike, RandomStateLike

__all__ = ["BCNPEstimator"]

DEFAULT_CHECKPOINT = "bcnp_id_large"


class BCNPEstimator(AmortizedEstimator):
    """Bayesian Causal Neural Process (Dhir et al. 2025): an amortized posterior over DAGs.

    A meta-trained network maps the data set to a distribution over DAGs - a distribution over
    node orders (Gumbel-Sinkhorn, Hungarian rounding) times independent edges allowed by the
    order - so every sampled graph is acyclic. ``fit`` runs the network once; sampling and
    scoring afterwards do not look at the data again. See
    ``skcausal_meta.models.bcnp.model`` for the architecture and the training objective.

    Parameters
    ----------
    checkpoint : str, path-like or None, default=None
        Network weights: ``None`` for the shipped ``"bcnp_id_large"`` (the paper network, trained
        on ``id``, its encoder from ``avici_id_large``), another shipped name (``"bcnp_stats"``: a
        statistics-informed network trained on the ``broad`` family, its encoder from
        ``avici_stats``, see ``docs/training.md``; ``"bcnp_id"``), or the path of a checkpoint
        written by :meth:`meta_fit` or ``python -m skcausal_meta.train`` (``STEM``, ``STEM.json``
        or ``STEM.safetensors``). After :meth:`meta_fit`, the network it trained is used instead.
    n_graphs : int, default=100
        Number of graphs in :meth:`predict_graph_posterior` when it is called without one.
    n_mc_samples : int, default=256
        Permutation draws for the Monte-Carlo edge marginals and ``log_prob`` of the posterior.
    standardize : bool, default=True
        z-score the columns before the forward pass (the network always sees z-scored data).
    n_threads : int or None, default=None
        Torch intra-op threads of the forward pass (restored afterwards); ``None`` uses torch's
        setting, lowered to the cores idle at the call
        (``skcausal_meta.models.devices.intra_op_threads``).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the permutation and edge draws of the posterior and the weight initialisation
        and data stream of :meth:`meta_fit`.

    Attributes
    ----------
    model_ : ``BCNP``
        The loaded network (eval mode).
    distribution_ : ``DAGDistribution``
        The posterior for the fitted data (batch of one).
    checkpoint_path_ : pathlib.Path or None
        Stem of the loaded checkpoint (the ``out`` of :meth:`meta_fit`, or None if it kept the
        network in memory).
    n_features_in_ : int

    Examples
    --------
    The shipped network needs no training; ``fit`` is one forward pass:

    >>> from skcausal_meta import BCNPEstimator, make_scm_family
    >>> X, interventions, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50,
    ...                                           random_state=0)
    >>> est = BCNPEstimator(random_state=0).fit(X[0], interventions=interventions[0])
    >>> est.checkpoint_path_.name
    'bcnp_id_large'
    >>> posterior = est.predict_graph_posterior(n_graphs=200)
    >>> posterior.samples.shape, bool(posterior.is_dag.all())
    ((200, 4, 4), True)
    """

    _network_class = BCNP
    _default_checkpoint = DEFAULT_CHECKPOINT
    _parameter_constraints: ClassVar[dict] = {
        **AmortizedEstimator._parameter_constraints,
        "n_mc_samples": [POSITIVE_INT],
    }

    def __init__(
        self,
        checkpoint: PathLike | None = None,
        n_graphs: int = 100,
        n_mc_samples: int = 256,
        standardize: bool = True,
        n_threads: int | None = None,
        device: str | torch.device = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.n_graphs = n_graphs
        self.n_mc_samples = n_mc_samples
        self.standardize = standardize
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------ hooks
    def _fit_network(self, X, mask):
        device = self._device()
        model, stem = self._network()
        self._check_n_variables(X.shape[1], model.config["max_nodes"], stem)
        x = self._model_input(X, mask, model)
        model = model.to(device).eval()
        with torch.no_grad():
            self.distribution_ = model.distribution(x)
        self.model_, self.checkpoint_path_ = model, stem

    def _posterior(self, n_graphs, rng) -> GraphPosterior:
        n_graphs = self.n_graphs if n_graphs is None else n_graphs
        dist = self.distribution_
        generator = torch_generator(rng, dist.perm_logits.device)
        graphs, _ = dist.sample(n_graphs, generator)
        edge_probs = dist.edge_probs(self.n_mc_samples, generator)
        return GraphPosterior(
            graphs[0].cpu().numpy().astype(np.int8),
            edge_probs=edge_probs[0].double().cpu().numpy(),
            log_prob=self._graph_log_prob,
        )

    def _graph_log_prob(self, graph) -> float:
        """Monte-Carlo ``log q(G | D)`` over ``n_mc_samples`` permutations (fixed seed); ``-inf``
        for a cyclic graph, which no order allows (the ``eps`` floor of the estimate, see
        :mod:`~skcausal_meta.models.bcnp.model`, serves DAGs that the sampled orders miss)."""
        graph = check_adjacency(graph, name="graph", n_nodes=self.n_features_in_)
        if not is_dag(graph):
            return -np.inf
        dist = self.distribution_
        g = torch.as_tensor(graph, dtype=dist.perm_logits.dtype, device=dist.perm_logits.device)
        return float(dist.log_prob(g[None], self.n_mc_samples)[0])
