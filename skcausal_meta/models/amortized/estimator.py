"""What AVICI and BCNP share as estimators: a network from a checkpoint (the shipped default, a
shipped name or a path) or from :meth:`AmortizedEstimator.meta_fit`, so that ``fit`` is one
forward pass of it."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from ..._validation import check_positive_int, check_random_state
from .._constraints import POSITIVE_INT
from ..base import BaseCausalEstimator
from .checkpoint import (
    checkpoint_file,
    checkpoint_stem,
    load_model,
    resolve_checkpoint,
)
from .config import TrainConfig
from .inputs import make_model_input
from .training import train
from .training_state import read_training_state_configs, training_state_path

if TYPE_CHECKING:
    from typing import Self

    from ..._typing import PathLike
    from ...datasets.family import SCMFamily

__all__ = ["AmortizedEstimator"]


class AmortizedEstimator(BaseCausalEstimator):
    """Base class of meta-trained estimators.

    Subclasses set ``_network_class`` (a network following the contract of
    ``skcausal_meta.models.amortized.loop``) and ``_default_checkpoint`` (the shipped name
    used when ``checkpoint=None``), and take the parameters ``checkpoint``, ``n_graphs`` and
    ``n_threads`` (declared here) besides their own.

    Examples
    --------
    ``AviciEstimator`` and ``BCNPEstimator`` are amortized: ``meta_fit`` trains a network (here a
    tiny one, for four steps) that later calls of ``fit`` use in place of the shipped checkpoint.

    >>> from skcausal_meta import AviciEstimator, make_scm_family
    >>> from skcausal_meta.models.amortized import AmortizedEstimator
    >>> est = AviciEstimator(n_graphs=10, random_state=0, device="cpu")
    >>> isinstance(est, AmortizedEstimator)
    True
    >>> _ = est.meta_fit("id", steps=4, batch_size=2, n_nodes=[3, 3], n_samples=20, warmup_steps=1,
    ...                  eval_every=2, n_validation_batches=1, progress=False,
    ...                  model_config={"dim": 16, "n_layers": 1, "n_heads": 2})
    >>> [record["step"] for record in est.meta_history_], est.checkpoint
    ([2, 4], None)
    >>> X, interventions, _ = make_scm_family("id", n_datasets=1, n_nodes=3, n_samples=30, random_state=0)
    >>> est.fit(X[0], interventions=interventions[0]).edge_probs_.shape
    (3, 3)
    """

    _trainable = True
    _parameter_constraints: ClassVar[dict] = {
        **BaseCausalEstimator._parameter_constraints,
        "checkpoint": [str, os.PathLike, None],
        "n_graphs": [POSITIVE_INT],
        "n_threads": [POSITIVE_INT, None],
    }
    _network_class: type
    _default_checkpoint: str

    # multiply-adds of one linear layer of a 128-wide network on every (row, variable) cell:
    # the forward pass is matrix products, which a second thread speeds up on idle cores
    _WORK_PER_CELL = 128 * 128

    def _fit(self, X, mask):
        with self._cpu_threads(X.shape[0] * X.shape[1] * self._WORK_PER_CELL):
            self._fit_network(X, mask)

    def _network(self):
        """``(network, checkpoint stem or None)``: the :meth:`meta_fit` network if there is one,
        else the one stored in ``checkpoint``."""
        if getattr(self, "meta_network_", None) is not None:
            return self.meta_network_, self.meta_checkpoint_
        stem = resolve_checkpoint(self.checkpoint, self._default_checkpoint)
        model, _ = load_model(stem, self._network_class)
        return model, stem

    def _model_input(self, X, mask, network) -> torch.Tensor:
        """The network input ``[1, n, d, 2]`` on the estimator's device; for a network that computes
        pair statistics, a warning where they are degenerate (they stay finite)."""
        if network.config.get("statistics"):
            for problem in _degenerate(X, mask):
                warnings.warn(f"the pair statistics of this data set are degenerate: {problem}", UserWarning,
                              stacklevel=3)
        return torch.from_numpy(make_model_input(X, mask))[None].to(self._device())

    @staticmethod
    def _check_n_variables(d: int, max_nodes: int, stem, hint: str = "") -> None:
        """Refuse data with more variables than the network is used for, naming its checkpoint."""
        if d > max_nodes:
            source = "the meta-fitted network" if stem is None else \
                f"the checkpoint {str(checkpoint_file(stem, '.json'))!r}"
            raise ValueError(f"X has {d} variables but {source} is used for at most {max_nodes} "
                             f"(max_nodes={max_nodes}){hint}")

    def meta_fit(
        self,
        family: str | SCMFamily,
        steps: int = 1000,
        *,
        model_config: dict[str, Any] | None = None,
        warm_start: bool = False,
        out: PathLike | None = None,
        resume: bool = True,
        progress: bool = True,
        log_path: PathLike | None = None,
        exclude_graphs: PathLike | Sequence[PathLike] = (),
        **train_options: Any,
    ) -> Self:
        """Meta-train a network of this estimator's model on data sets streamed from an SCM family.

        The same function as ``python -m skcausal_meta.train`` runs
        (:func:`~skcausal_meta.models.amortized.train`).

        Parameters
        ----------
        family : str or SCMFamily
            Family to train on (e.g. ``"id"``).
        steps : int, default=1000
            Optimizer steps.
        model_config : dict, default=None
            Keyword arguments of a fresh network (width, layers, ...).
        warm_start : bool, default=False
            Start from the network of the last :meth:`meta_fit`, else of ``checkpoint`` (recorded
            as ``init_from`` in the written checkpoint), with a new optimizer and schedule.
        out : path-like, default=None
            Checkpoint stem written periodically (``OUT.safetensors`` + ``OUT.json`` and the
            resumable ``OUT.train.safetensors``); ``None`` keeps the network in memory.
        resume : bool, default=True
            Continue from ``OUT.train.safetensors`` if it exists.
        progress : bool, default=True
            Show a progress bar.
        log_path : path-like, default=None
            JSON-lines log of the evaluations.
        exclude_graphs : path-like or sequence of path-like, default=()
            Files of held-out graphs never to train on (``.npy`` stacks or hash lists).
        **train_options
            Other :class:`~skcausal_meta.models.amortized.config.TrainConfig` fields
            (``batch_size``, ``lr``, ...). ``seed`` defaults to that of the training state being
            resumed, else to one drawn from ``random_state``.

        Returns
        -------
        self
            Later calls to :meth:`fit` use the trained network. The ``checkpoint`` parameter is
            left as given; the trained network is in ``meta_network_`` and, with ``out``, on disk
            (``checkpoint=out`` loads it in a clone).
        """
        self._validate_params()
        steps = check_positive_int(steps, "steps")
        if isinstance(exclude_graphs, (str, os.PathLike)):
            exclude_graphs = [exclude_graphs]
        if not all(isinstance(p, (str, os.PathLike)) for p in exclude_graphs):
            raise TypeError(f"exclude_graphs must be a path or a list of paths (.npy graph stacks or hash "
                            f"files), got {type(exclude_graphs).__name__}")
        state = None if out is None else training_state_path(out)
        if resume and state is not None and state.is_file():  # a run to continue keeps its seed
            saved = read_training_state_configs(state, self._network_class.model_name)[1]
            train_options.setdefault("seed", saved["seed"])
        train_options.setdefault("seed", int(check_random_state(self.random_state).integers(2**31 - 1)))
        config = TrainConfig(steps=steps, **train_options)
        source = {}
        if warm_start:
            network, stem = self._network()
            source = {"network": network} if stem is None else {"init_from": stem}
        model, self.meta_history_ = train(
            self._network_class.model_name, family, config, out, model_config=model_config,
            exclude_graphs=exclude_graphs, resume=resume, device=self._device(), progress=progress,
            log_path=log_path, **source)
        self.meta_network_ = model.cpu().eval()
        self.meta_checkpoint_ = checkpoint_stem(out) if out is not None else None
        return self


def _degenerate(X: np.ndarray, mask) -> list[str]:
    """What makes the pair statistics of standardised ``X`` (and ``mask``) rest on little evidence."""
    n, d = X.shape
    problems = []
    if n <= d:
        problems.append(f"n={n} rows for d={d} variables: the partial correlations rest on the "
                        "Ledoit-Wolf shrinkage")
    corr = np.corrcoef(X, rowvar=False)
    i, j = np.nonzero(np.triu(np.abs(corr) > 1 - 1e-10, k=1))
    if len(i):
        problems.append(f"columns {int(i[0])} and {int(j[0])} are (anti-)duplicates")
    if mask is not None:
        everywhere = np.flatnonzero(mask.all(axis=0))
        if len(everywhere):
            problems.append(f"variable {int(everywhere[0])} is intervened on in every row")
        if mask.any(axis=1).all():
            problems.append("no row is observational: the interventional shifts have no reference")
    return problems
