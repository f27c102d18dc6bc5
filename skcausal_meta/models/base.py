"""The estimator contract shared by every causal-discovery model, and the posterior it returns.

Every model in :mod:`skcausal_meta.models` (DiBS, BayesDAG, AVICI, BCNP) subclasses
:class:`BaseCausalEstimator`, so that they all validate input, standardise data, resolve devices,
route intervention masks and score held-out data in the same way, and all return a
:class:`GraphPosterior` (DESIGN section 5).

Subclasses implement three hooks, all on standardised numpy data:

``_fit(X, mask)``
    Run inference (Bayesian models) or one forward pass (amortized models); store fitted state
    in attributes ending with ``_`` (``graph_`` is the base class's: the point estimate).
``_posterior(n_graphs, rng)``
    Return a :class:`GraphPosterior` of ``n_graphs`` graphs (``None``: the model's natural number;
    node names are filled in by the base class).
``_log_likelihood(X, mask)``
    Return ``(log_lik, log_weights)``: the model's own per-row log density
    ``log p(x_r | G_k, theta_k)`` of shape ``(S, n)`` with intervened nodes' terms dropped, and
    the normalised log weights ``(S,)`` of the mixture over posterior samples. The default is a
    plug-in linear-Gaussian likelihood (ordinary least squares per node and sampled graph, on
    the training data) for graph-only posteriors.

Optional: ``_min_samples()`` (smallest ``n`` the model accepts, and why), ``_sample_graphs(n, rng)``,
``infer_mechanism_posterior()``, and the class attribute ``_trainable`` (True for models that
need meta-training before use).

The data checks are in ``_inputs.py``; ``score`` and the default ``_log_likelihood`` in
``_scoring.py``; the constraints of the parameter tables in ``_constraints.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._tags import Tags
from sklearn.utils.validation import check_is_fitted

from ._constraints import RANDOM_STATE, Devices
from ._inputs import column_scales, validate_input
from ._scoring import HeldOutScoreMixin
from .posterior import GraphPosterior
from .._validation import check_positive_int, check_random_state

if TYPE_CHECKING:
    from typing import Self

    from numpy.typing import ArrayLike

    from .._typing import RandomStateLike

__all__ = ["BaseCausalEstimator", "CausalTags"]


@dataclass
class CausalTags(Tags):
    """scikit-learn tags extended with ``trainable``: the model needs meta-training first."""

    trainable: bool = False


class BaseCausalEstimator(HeldOutScoreMixin, BaseEstimator):
    """Base class of every causal-discovery estimator (fit data, return a graph posterior).

    Subclasses must accept the constructor parameters ``standardize`` (bool), ``device`` and
    ``random_state``, declare what their other parameters accept in ``_parameter_constraints``
    (``{**BaseCausalEstimator._parameter_constraints, "n_steps": [Interval(Integral, 1, None,
    closed="left")], ...}``) and implement the hooks described in the module docstring. ``fit``
    checks the table first: a bad value raises scikit-learn's ``InvalidParameterError`` (a
    ``ValueError``) naming the parameter and the value.

    Data are z-scored per column before inference when ``standardize=True`` (the default):
    simulated additive-noise data are often *varsortable* (marginal variance grows along the
    causal order), which lets a method find the order from scale alone; z-scoring removes that
    shortcut and puts every node on the same scale. :meth:`score` undoes the transform with its
    log-Jacobian, so scores are densities in the units of the data passed in.

    ``interventions`` is a boolean ``(n, d)`` mask (``mask[r, j]`` True when node ``j`` was
    intervened on in row ``r``). It is requested through scikit-learn metadata routing, e.g.
    ``est.set_fit_request(interventions=True).set_score_request(interventions=True)``, so that
    :class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV` pass it
    along, split row-wise with ``X``.

    The tag ``trainable`` (``get_tags(est).trainable``) is True for models that need
    meta-training (set the class attribute ``_trainable``).

    Fitting keeps the standardised training data and mask (``_train_X_``, ``_train_mask_``):
    predictive likelihoods that refit or condition on it (the plug-in OLS default, BGe) need it.

    Attributes
    ----------
    graph_ : GraphEstimate
        The point estimate after :meth:`fit`: ``predict_graph_posterior().threshold(0.5)``, the
        graph of the edges more likely present than not (the median probability graph). It is
        defined for every model, uses AVICI's exact edge marginals, and minimises the expected
        number of wrong adjacency entries; it may be cyclic where samples may be (AVICI). For a
        sampled DAG use ``predict_graph_posterior().mode(acyclic=True)``, for its Markov
        equivalence class ``.cpdag()``.

    Examples
    --------
    Every estimator shares this API: ``fit`` (with an optional intervention mask; DataFrame
    columns name the nodes), the posterior and graph samples, and held-out ``score``:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from skcausal_meta import RandomDAGEstimator, make_scm_family
    >>> X, interventions, graphs = make_scm_family("id", n_datasets=1, n_nodes=3, n_samples=50,
    ...                                           random_state=0)
    >>> data = pd.DataFrame(X[0], columns=["a", "b", "c"])
    >>> est = RandomDAGEstimator(n_graphs=10, random_state=0).fit(data, interventions=interventions[0])
    >>> est.predict_graph_posterior().node_names, est.sample_graphs(5, random_state=0).shape
    (['a', 'b', 'c'], (5, 3, 3))
    >>> bool(np.isfinite(est.score(data, interventions=interventions[0])))
    True

    With metadata routing, scikit-learn tools split the mask with the rows:

    >>> import sklearn
    >>> from sklearn.model_selection import cross_val_score
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     est = RandomDAGEstimator(random_state=0).set_fit_request(interventions=True)
    ...     est = est.set_score_request(interventions=True)
    ...     scores = cross_val_score(est, X[0], params={"interventions": interventions[0]}, cv=3)
    >>> scores.shape
    (3,)

    A new model implements the hooks ``_fit`` and ``_posterior`` (the default ``score`` uses a
    plug-in linear-Gaussian likelihood):

    >>> from skcausal_meta import BaseCausalEstimator, GraphPosterior
    >>> class ChainEstimator(BaseCausalEstimator):  # the chain through the columns, in order
    ...     def __init__(self, *, standardize=True, device="auto", random_state=None):
    ...         self.standardize = standardize
    ...         self.device = device
    ...         self.random_state = random_state
    ...     def _fit(self, X, mask):
    ...         self.chain_ = np.eye(X.shape[1], k=1, dtype=np.int8)
    ...     def _posterior(self, n_graphs, rng):
    ...         return GraphPosterior(self.chain_[None])
    >>> ChainEstimator().fit(data).graph_.directed_edges()
    [('a', 'b'), ('b', 'c')]
    """

    _trainable = False
    _parameter_constraints: ClassVar[dict] = {
        "standardize": ["boolean"],
        "device": [Devices()],
        "random_state": RANDOM_STATE,
    }

    def __sklearn_is_fitted__(self) -> bool:
        # fitted by fit(), not by meta_fit(), whose meta_history_ also ends in "_"
        return hasattr(self, "_train_X_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        values = {f.name: getattr(tags, f.name) for f in fields(Tags)}
        return CausalTags(**values, trainable=self._trainable)

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, mask):
        raise NotImplementedError

    def _posterior(self, n_graphs, rng) -> GraphPosterior:
        raise NotImplementedError

    def _min_samples(self) -> tuple[int, str]:
        """Smallest number of rows the model accepts, and the reason (for the error message).

        Two rows by default: a single row has zero variance in every column, so nothing can be
        standardised nor any noise variance estimated. Models whose inference needs more rows
        (e.g. a fixed mini-batch size) override this.
        """
        return 2, "one row has zero variance in every column"

    def _sample_graphs(self, n, rng) -> np.ndarray:
        return self._posterior(None, rng).sample(n, random_state=rng)

    # ------------------------------------------------------------------ helpers
    def _device(self):
        """The ``torch.device`` of ``self.device`` (torch is imported only by models that use it)."""
        from .devices import resolve_device

        return resolve_device(self.device)

    def _cpu_threads(self, work):
        """Context of a torch fit: ``n_threads`` intra-op threads (by default 1 when ``work``, the
        elements of the fit's largest routine tensor, is small) and glibc keeping freed buffers
        (:func:`~skcausal_meta.models.devices.reuse_freed_memory`)."""
        from .devices import intra_op_threads, reuse_freed_memory, torch_threads

        reuse_freed_memory()
        return torch_threads(intra_op_threads(self.n_threads, work))

    def _node_names(self):
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else list(names)

    # ------------------------------------------------------------------ public API
    def fit(self, X: ArrayLike, y: None = None, interventions: ArrayLike | None = None) -> Self:
        """Infer a posterior over causal graphs from data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
            Observations; DataFrame column names become node names.
        y : None
            Ignored; present for scikit-learn API compatibility.
        interventions : array-like of shape (n, d), dtype bool, default=None
            Intervention mask; ``None`` means every row is observational.

        Returns
        -------
        self : object
            A fit that raises leaves the estimator as it was before the call.

        Raises
        ------
        ValueError
            scikit-learn's ``InvalidParameterError`` (also a ``TypeError``), before any work, naming
            the constructor parameter whose value ``_parameter_constraints`` does not accept.
        """
        self._validate_params()
        before = dict(self.__dict__)
        try:
            self._fit_data(X, interventions)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_data(self, X, interventions):
        if not (isinstance(self.device, str) and self.device in ("auto", "cpu")):
            self._device()  # a device this machine lacks (CUDA) is an error for every model, CPU-only ones too
        X, mask = validate_input(self, X, interventions, reset=True)
        std = column_scales(X, getattr(self, "feature_names_in_", None))
        self.mean_ = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1])
        self.scale_ = std if self.standardize else np.ones(X.shape[1])
        Z = (X - self.mean_) / self.scale_
        self._train_X_, self._train_mask_ = Z, mask
        self._fit(Z, mask)
        self.graph_ = self.predict_graph_posterior().threshold(0.5)

    def predict_graph_posterior(self, n_graphs: int | None = None) -> GraphPosterior:
        """The posterior over graphs.

        Parameters
        ----------
        n_graphs : int, default=None
            Number of graphs for models that sample them (amortized models); ``None`` uses the
            model's natural number (e.g. the particles or chain samples of Bayesian models).

        Returns
        -------
        GraphPosterior
        """
        check_is_fitted(self)
        if n_graphs is not None:
            n_graphs = check_positive_int(n_graphs, "n_graphs")
        posterior = self._posterior(n_graphs, check_random_state(self.random_state))
        return posterior.with_node_names(self._node_names() or posterior.node_names)

    def sample_graphs(self, n: int, random_state: RandomStateLike = None) -> np.ndarray:
        """Draw ``n`` graphs from the posterior; returns an int8 array ``(n, d, d)``."""
        check_is_fitted(self)
        n = check_positive_int(n, "n")
        return self._sample_graphs(n, check_random_state(random_state))

    def infer_mechanism_posterior(self) -> dict[str, Any]:
        """Posterior over mechanism parameters, for models that define one."""
        raise NotImplementedError(f"{type(self).__name__} does not infer mechanism parameters")
