"""What AVICI and BCNP share as estimators: a network from a checkpoint (the shipped default, a
shipped name or a path) or from :meth:`AmortizedEstimator.meta_fit`, so that ``fit`` is one
forward pass of it."""

from __future__ import annotations

import os

from ..._validation import check_positive_int, check_random_state
from ..base import BaseCausalEstimator
from .checkpoint import checkpoint_file, checkpoint_stem, load_model, resolve_checkpoint
from .config import TrainConfig
from .training import train

__all__ = ["AmortizedEstimator"]


class AmortizedEstimator(BaseCausalEstimator):
    """Base class of meta-trained estimators.

    Subclasses set ``_network_class`` (a network following the contract of
    :mod:`skcausal_meta.models.amortized.loop`) and ``_default_checkpoint`` (the shipped name
    used when ``checkpoint=None``), and take a ``checkpoint`` parameter.
    """

    _trainable = True
    _network_class: type
    _default_checkpoint: str

    def _network(self):
        """``(network, checkpoint stem or None)``: the :meth:`meta_fit` network if there is one,
        else the one stored in ``checkpoint``."""
        if getattr(self, "meta_network_", None) is not None:
            return self.meta_network_, self.meta_checkpoint_
        stem = resolve_checkpoint(self.checkpoint, self._default_checkpoint)
        model, _ = load_model(stem, self._network_class)
        return model, stem

    @staticmethod
    def _check_n_variables(d: int, max_nodes: int, stem, hint: str = "") -> None:
        """Refuse data with more variables than the network is used for, naming its checkpoint."""
        if d > max_nodes:
            source = "the meta-fitted network" if stem is None else \
                f"the checkpoint {str(checkpoint_file(stem, '.json'))!r}"
            raise ValueError(f"X has {d} variables but {source} is used for at most {max_nodes} "
                             f"(max_nodes={max_nodes}){hint}")

    def meta_fit(self, family, steps=1000, *, model_config=None, warm_start=False, out=None, resume=True,
                 progress=True, log_path=None, exclude_graphs=(), **train_options):
        """Meta-train a network of this estimator's model on data sets streamed from an SCM family.

        The same function as ``python -m skcausal_meta.train`` runs
        (:func:`~skcausal_meta.models.amortized.training.train`).

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
            (``batch_size``, ``lr``, ...). ``seed`` defaults to one drawn from ``random_state``.

        Returns
        -------
        self
            Later calls to :meth:`fit` use the trained network. The ``checkpoint`` parameter is
            left as given; the trained network is in ``meta_network_`` and, with ``out``, on disk
            (``checkpoint=out`` loads it in a clone).
        """
        steps = check_positive_int(steps, "steps")
        if isinstance(exclude_graphs, (str, os.PathLike)):
            exclude_graphs = [exclude_graphs]
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
