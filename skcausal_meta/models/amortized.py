"""What AVICI and BCNP share as estimators: a network that comes from a checkpoint (the shipped
default, a shipped name, or a path) or from :meth:`AmortizedEstimator.meta_fit`, so that ``fit``
is one forward pass of it."""

from __future__ import annotations

import copy
import os

import torch

from .._validation import check_positive_int, check_random_state
from ..datasets import canonical_graph_hash
from .base import BaseCausalEstimator
from .checkpoint_io import (
    IN_MEMORY_SOURCE,
    checkpoint_file,
    checkpoint_stem,
    load_model,
    read_training_state_configs,
    record_source,
    resolve_checkpoint,
    training_state_path,
)
from .training import TrainConfig, meta_train, read_graph_hashes

__all__ = ["AmortizedEstimator"]


class AmortizedEstimator(BaseCausalEstimator):
    """Base class of meta-trained estimators.

    Subclasses set ``_network_class`` (the ``torch.nn.Module`` following the contract of
    :mod:`skcausal_meta.models.training`) and ``_default_checkpoint`` (the shipped name used when
    ``checkpoint=None``), and take a ``checkpoint`` parameter.
    """

    _trainable = True
    _network_class: type
    _default_checkpoint: str

    def _network(self):
        """``(network, checkpoint stem or None)``: the :meth:`meta_fit` network if there is one,
        else the one stored in ``checkpoint``."""
        trained = getattr(self, "_meta_network", None)
        if trained is not None:
            return trained
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
                 progress=True, log_path=None, exclude_graphs=None, **train_options):
        """Meta-train a network of this estimator's model on data sets streamed from an SCM family.

        The network is a fresh one, or with ``warm_start=True`` a copy of the one :meth:`fit` would
        use (e.g. a shipped checkpoint fine-tuned on a shifted family). A call whose ``out`` holds a
        training state (``resume=True``) continues that run to ``steps`` (at least its step; a
        cosine schedule, the default, only to the steps it was started with): its seed and, for a
        fresh network without ``model_config``, its network configuration are taken from the state.

        Parameters
        ----------
        family : str or SCMFamily
            Family to train on (e.g. ``"id"``).
        steps : int, default=1000
            Optimizer steps.
        model_config : dict, default=None
            Keyword arguments of the network class (width, layers, ...) of a fresh network.
        warm_start : bool, default=False
            Start from the weights (and buffers, e.g. AVICI's acyclicity dual) of the network of the
            last :meth:`meta_fit`, else of ``checkpoint``, with a new optimizer and learning-rate
            schedule; the source is recorded in the written checkpoint as ``warm_start_from`` and
            left unchanged, unless it is ``out`` itself: then the run that wrote it is continued,
            and its training state must be there. ``model_config`` must then be None.
        out : path-like, default=None
            Checkpoint stem written periodically (``OUT.safetensors`` + ``OUT.json`` and the
            resumable ``OUT.train.safetensors``); ``None`` keeps the network in memory only.
        resume : bool, default=True
            Continue from ``OUT.train.safetensors`` if it exists.
        progress : bool, default=True
            Show a progress bar.
        log_path : path-like, default=None
            JSON-lines log of the evaluations.
        exclude_graphs : path-like or list of path-like, default=None
            Files of held-out graphs (or their hashes) never to train on, as read by
            :func:`~skcausal_meta.models.training.read_graph_hashes`.
        **train_options
            Other :class:`~skcausal_meta.models.training.TrainConfig` fields (``batch_size``,
            ``lr``, ``n_nodes``, ...). ``seed`` defaults to one drawn from ``random_state``.

        Returns
        -------
        self
            Later calls to :meth:`fit` use the trained network. With ``out``, the parameter
            ``checkpoint`` is set to it, so that clones (``GridSearchCV``, ``cross_val_score``)
            load the trained network too; without ``out``, clones load ``checkpoint`` as before.
        """
        steps = check_positive_int(steps, "steps")
        state = None if out is None else training_state_path(out)
        saved_config, saved_settings = ({}, {})
        if resume and state is not None and state.is_file():  # a run to continue: its seed and network
            saved_config, saved_settings = read_training_state_configs(state, self._network_class.model_name)
        if "seed" in saved_settings:
            train_options.setdefault("seed", saved_settings["seed"])
        train_options.setdefault("seed", int(check_random_state(self.random_state).integers(2**31 - 1)))
        config = TrainConfig(steps=steps, **train_options)
        if isinstance(exclude_graphs, (str, os.PathLike)):
            exclude_graphs = [exclude_graphs]
        if exclude_graphs is not None and not all(isinstance(p, (str, os.PathLike)) for p in exclude_graphs):
            raise TypeError(f"exclude_graphs must be a path or a list of paths (.npy graph stacks or hash "
                            f"files), got {type(exclude_graphs).__name__}")
        exclude_hashes = read_graph_hashes(exclude_graphs) if exclude_graphs is not None else frozenset()
        info = {"family": str(getattr(family, "name", family))}
        if warm_start:
            if model_config is not None:
                raise ValueError(f"model_config must be None with warm_start=True (the network keeps the "
                                 f"configuration of the one it starts from), got {model_config!r}")
            source, stem = self._network()
            model = copy.deepcopy(source)
            if stem is None:
                info["warm_start_from"] = IN_MEMORY_SOURCE
            elif out is None or os.path.abspath(stem) != os.path.abspath(checkpoint_stem(out)):
                record_source(info, "warm_start_from", stem)
            elif not saved_settings:
                raise ValueError(f"warm_start=True with out={os.fspath(out)!r}, where the network it starts from "
                                 "is saved, overwrites that checkpoint without its training state to continue; "
                                 "give another out, or resume=True with OUT.train.safetensors in place")
            # else: the same run continued; its training state keeps the source it started from
        else:
            with torch.random.fork_rng():
                torch.manual_seed(config.seed)  # weight initialisation; the global RNG is restored
                model = self._network_class(**(model_config if model_config is not None else saved_config))
        self.meta_history_ = meta_train(model, family, config, out=out, resume=resume, device=self._device(),
                                        progress=progress, log_path=log_path, exclude_hashes=exclude_hashes,
                                        graph_hash=canonical_graph_hash if exclude_hashes else None, info=info)
        self._meta_network = (model.cpu().eval(), checkpoint_stem(out) if out is not None else None)
        if out is not None:  # so that clones (GridSearchCV, cross-validation) load the trained network
            self.checkpoint = str(checkpoint_stem(out))
        return self
