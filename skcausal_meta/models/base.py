"""The estimator contract shared by every causal-discovery model, and the posterior it returns.

Every model in :mod:`skcausal_meta.models` (DiBS, BayesDAG, AVICI, BCNP) subclasses
:class:`BaseCausalEstimator`, so that they all validate input, standardise data, resolve devices,
route intervention masks and score held-out data in the same way, and all return a
:class:`GraphPosterior` (DESIGN section 5).

Subclasses implement three hooks, all on standardised numpy data:

``_fit(X, mask)``
    Run inference (Bayesian models) or one forward pass (amortized models); store fitted state
    in attributes ending with ``_``.
``_posterior(n_samples, rng)``
    Return a :class:`GraphPosterior` (node names are filled in by the base class).
``_log_likelihood(X, mask)``
    Return ``(log_lik, log_weights)``: the model's own per-row log density
    ``log p(x_r | G_k, theta_k)`` of shape ``(S, n)`` with intervened nodes' terms dropped, and
    the normalised log weights ``(S,)`` of the mixture over posterior samples. The default is a
    plug-in linear-Gaussian likelihood (ordinary least squares per node and sampled graph, on
    the training data) for graph-only posteriors.

Optional: ``_min_samples()`` (smallest ``n`` the model accepts, and why), ``_sample_graphs(n, rng)``,
``infer_mechanism_posterior()``, and the class attribute ``_trainable`` (True for models that
need meta-training before use).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields

import networkx as nx
import numpy as np
import torch
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.utils._tags import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from .plugin_likelihood import PluginLikelihood
from .._validation import (
    check_adjacency_stack,
    check_interventions,
    check_positive_int,
    check_random_state,
    is_dag,
)

__all__ = [
    "BaseCausalEstimator",
    "CausalTags",
    "GraphPosterior",
    "resolve_device",
    "torch_generator",
]


def resolve_device(device) -> torch.device:
    """Turn an estimator's ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks ``cuda`` when a CUDA device is available and ``cpu`` otherwise; any other
    string or :class:`torch.device` is used as given, and asking for CUDA without one is an error.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA device is available")
    return resolved


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from the numpy generator ``rng``.

    This keeps all randomness derived from the estimator's ``random_state`` and never touches
    torch's global RNG.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**63 - 1)))
    return generator


def _normalise_log_weights(log_weights, n_samples: int) -> np.ndarray:
    if log_weights is None:
        return np.full(n_samples, -np.log(n_samples))
    lw = np.asarray(log_weights, dtype=np.float64)
    if lw.shape != (n_samples,):
        raise ValueError(f"log_weights must have shape ({n_samples},), got {lw.shape}")
    if np.isnan(lw).any() or np.isposinf(lw).any() or np.isneginf(lw).all():
        raise ValueError("log_weights must be finite or -inf, with at least one finite entry")
    return lw - logsumexp(lw)


class GraphPosterior:
    """A (weighted) sample-based posterior over graphs.

    Parameters
    ----------
    samples : array-like of shape (S, d, d)
        Sampled adjacency matrices, ``samples[k, i, j] == 1`` meaning edge ``i -> j``.
    log_weights : array-like of shape (S,), default=None
        Log weights of the samples, normalised here to ``logsumexp == 0``. ``None`` means
        uniform weights (an empirical posterior).
    edge_probs : array-like of shape (d, d), default=None
        Marginal edge probabilities. ``None`` computes the weighted marginals
        ``sum_k w_k samples[k]``; models whose posterior factorises over edges (AVICI) pass
        their exact marginals instead.
    node_names : sequence of str, default=None
        Names of the ``d`` nodes; ``None`` gives ``x0, ..., x{d-1}``.
    log_prob : callable, default=None
        ``log_prob(G) -> float`` for models that define an exact (possibly unnormalised)
        graph log probability. It is not saved by :meth:`save`.

    Attributes
    ----------
    samples : ndarray of shape (S, d, d), dtype int8
    log_weights : ndarray of shape (S,)
    edge_probs : ndarray of shape (d, d)
    is_dag : ndarray of shape (S,), dtype bool
        Whether each sample is acyclic.
    node_names : list of str
    """

    def __init__(self, samples, log_weights=None, edge_probs=None, node_names=None, log_prob=None):
        self.samples = check_adjacency_stack(samples, name="samples")
        n_samples, d = self.samples.shape[0], self.samples.shape[1]
        self.log_weights = _normalise_log_weights(log_weights, n_samples)
        self._explicit_edge_probs = edge_probs is not None
        if edge_probs is None:
            # clipped: a sum of S equal weights 1/S can round to 1 + 1e-16
            self.edge_probs = np.clip(np.einsum("k,kij->ij", self.weights, self.samples), 0.0, 1.0)
        else:
            self.edge_probs = np.asarray(edge_probs, dtype=np.float64)
            if self.edge_probs.shape != (d, d):
                raise ValueError(f"edge_probs must have shape {(d, d)}, got {self.edge_probs.shape}")
            if not np.all((self.edge_probs >= 0) & (self.edge_probs <= 1)):
                raise ValueError("edge_probs must lie in [0, 1]")
            if np.diag(self.edge_probs).any():
                raise ValueError("edge_probs must have a zero diagonal (no self loops)")
        if node_names is None:
            node_names = [f"x{j}" for j in range(d)]
        self.node_names = [str(name) for name in node_names]
        if len(self.node_names) != d:
            raise ValueError(f"node_names must have {d} entries, got {len(self.node_names)}")
        if log_prob is not None and not callable(log_prob):
            raise ValueError(f"log_prob must be callable or None, got {log_prob!r}")
        self._log_prob = log_prob
        self.is_dag = np.array([is_dag(g) for g in self.samples], dtype=bool)

    @property
    def n_samples(self) -> int:
        """Number of stored graph samples ``S``."""
        return self.samples.shape[0]

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``d``."""
        return self.samples.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """Normalised sample weights ``exp(log_weights)``."""
        return np.exp(self.log_weights)

    @property
    def has_log_prob(self) -> bool:
        """True when the model supplied an exact graph log probability."""
        return self._log_prob is not None

    def with_node_names(self, node_names) -> "GraphPosterior":
        """A copy of this posterior with other node names."""
        return GraphPosterior(
            self.samples,
            self.log_weights,
            self.edge_probs if self._explicit_edge_probs else None,
            node_names=node_names,
            log_prob=self._log_prob,
        )

    def entropy(self) -> float:
        """Plug-in Shannon entropy (nats) of the weighted distribution over unique samples.

        Weights of identical sampled graphs are summed first, so the value is the entropy of
        the discrete distribution the samples represent, ``-sum_G p(G) log p(G)``.
        """
        flat = self.samples.reshape(self.n_samples, -1)
        _, inverse = np.unique(flat, axis=0, return_inverse=True)
        p = np.bincount(inverse.ravel(), weights=self.weights)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    def log_prob(self, graph) -> float:
        """Exact log probability of ``graph`` under the model, where the model defines one.

        Raises
        ------
        NotImplementedError
            If the posterior was built without a ``log_prob`` callable.
        """
        if self._log_prob is None:
            raise NotImplementedError(
                "this posterior has no exact log_prob; use edge_probs for a product-of-marginals "
                "approximation"
            )
        return float(self._log_prob(np.asarray(graph)))

    def sample(self, n, random_state=None) -> np.ndarray:
        """Draw ``n`` graphs with replacement according to the weights; returns ``(n, d, d)`` int8."""
        n = check_positive_int(n, "n")
        rng = check_random_state(random_state)
        idx = rng.choice(self.n_samples, size=n, p=self.weights)
        return self.samples[idx]

    def to_networkx(self) -> nx.DiGraph:
        """A DiGraph on the named nodes with an edge ``i -> j`` wherever ``edge_probs > 0``.

        The edge attribute ``weight`` holds the marginal probability.
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(self.node_names)
        rows, cols = np.nonzero(self.edge_probs)
        graph.add_weighted_edges_from(
            (self.node_names[i], self.node_names[j], float(self.edge_probs[i, j]))
            for i, j in zip(rows, cols)
        )
        return graph

    def save(self, path) -> None:
        """Write the posterior to ``path`` as an ``.npz`` archive, atomically.

        The file is written to a temporary name in the same folder and moved into place with
        :func:`os.replace`, so a reader never sees a half-written file. The ``log_prob``
        callable is not saved.
        """
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    samples=self.samples,
                    log_weights=self.log_weights,
                    edge_probs=self.edge_probs,
                    explicit_edge_probs=np.array(self._explicit_edge_probs),
                    node_names=np.array(self.node_names, dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    @classmethod
    def load(cls, path) -> "GraphPosterior":
        """Read a posterior written by :meth:`save` (no pickle is ever loaded)."""
        with np.load(os.fspath(path), allow_pickle=False) as data:
            explicit = bool(data["explicit_edge_probs"])
            return cls(
                data["samples"],
                data["log_weights"],
                data["edge_probs"] if explicit else None,
                node_names=data["node_names"].tolist(),
            )

    def __repr__(self) -> str:
        return f"GraphPosterior(n_samples={self.n_samples}, n_nodes={self.n_nodes})"


@dataclass
class CausalTags(Tags):
    """scikit-learn tags extended with ``trainable``: the model needs meta-training first."""

    trainable: bool = False


class BaseCausalEstimator(BaseEstimator):
    """Base class of every causal-discovery estimator (fit data, return a graph posterior).

    Subclasses must accept the constructor parameters ``standardize`` (bool), ``device`` and
    ``random_state`` and implement the hooks described in the module docstring.

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
    """

    _trainable = False

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

    def _posterior(self, n_samples, rng) -> GraphPosterior:
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

    def _log_likelihood(self, X, mask):
        posterior = self._posterior(None, check_random_state(self.random_state))
        likelihood = PluginLikelihood().fit(self._plugin_graphs(posterior), self._train_X_, self._train_mask_)
        return likelihood.log_likelihood(X, mask), posterior.log_weights

    def _plugin_graphs(self, posterior) -> np.ndarray:
        """The DAGs whose plug-in mechanisms make the default likelihood (the posterior's samples;
        models whose samples may be cyclic override this to project them onto DAGs)."""
        return posterior.samples

    # ------------------------------------------------------------------ helpers
    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _validate(self, X, interventions, reset: bool):
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_features=2 if reset else 1)
        if reset:
            minimum, reason = self._min_samples()
            if X.shape[0] < minimum:
                raise ValueError(
                    f"n_samples={X.shape[0]} is too few: {type(self).__name__} needs at least "
                    f"{minimum} rows ({reason})"
                )
        mask = check_interventions(interventions, X.shape[0], X.shape[1])
        return X, mask

    def _node_names(self):
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else list(names)

    # ------------------------------------------------------------------ public API
    def fit(self, X, y=None, interventions=None):
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
        """
        before = dict(self.__dict__)
        try:
            self._fit_data(X, interventions)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_data(self, X, interventions):
        self._device()  # an unknown device is an error for every model, those that run on the CPU too
        X, mask = self._validate(X, interventions, reset=True)
        with np.errstate(over="ignore"):  # an overflowing variance is reported below
            std = X.std(axis=0)
        for kind, bad in (("constant", std == 0), ("too large to standardise", ~np.isfinite(std))):
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                name = self.feature_names_in_[j] if hasattr(self, "feature_names_in_") else j
                raise ValueError(f"X column {name!r} (index {j}) is {kind}; every node must vary finitely")
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ValueError(f"standardize must be True or False, got {self.standardize!r}")
        self.mean_ = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1])
        self.scale_ = std if self.standardize else np.ones(X.shape[1])
        Z = (X - self.mean_) / self.scale_
        self._train_X_, self._train_mask_ = Z, mask
        self._fit(Z, mask)

    def predict_graph_posterior(self, n_samples=None) -> GraphPosterior:
        """The posterior over graphs.

        Parameters
        ----------
        n_samples : int, default=None
            Number of graphs for models that sample them (amortized models); ``None`` uses the
            model's natural number (e.g. the particles or chain samples of Bayesian models).

        Returns
        -------
        GraphPosterior
        """
        check_is_fitted(self)
        if n_samples is not None:
            n_samples = check_positive_int(n_samples, "n_samples")
        posterior = self._posterior(n_samples, check_random_state(self.random_state))
        return posterior.with_node_names(self._node_names() or posterior.node_names)

    def sample_graphs(self, n, random_state=None) -> np.ndarray:
        """Draw ``n`` graphs from the posterior; returns an int8 array ``(n, d, d)``."""
        check_is_fitted(self)
        n = check_positive_int(n, "n")
        return self._sample_graphs(n, check_random_state(random_state))

    def score(self, X, y=None, interventions=None, sample_weight=None) -> float:
        """Mean held-out log predictive density per row (higher is better).

        ``(1/n) sum_r log sum_k w_k p(x_r | G_k, theta_k)`` with the model's own likelihood,
        mixed over posterior samples by log-sum-exp; intervened nodes' terms are dropped.
        ``sample_weight`` turns the mean into a weighted mean (and lets
        :meth:`~sklearn.pipeline.Pipeline.score` forward its argument of that name).

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : None
            Ignored.
        interventions : array-like of shape (n, d), dtype bool, default=None
        sample_weight : array-like of shape (n,), default=None
            Non-negative row weights.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X, mask = self._validate(X, interventions, reset=False)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if (sample_weight.shape != (X.shape[0],) or not np.isfinite(sample_weight).all()
                    or (sample_weight < 0).any() or not sample_weight.sum() > 0):
                raise ValueError(f"sample_weight must hold {X.shape[0]} finite non-negative weights, not all "
                                 f"zero, one per row of X; got shape {sample_weight.shape}")
        Z = (X - self.mean_) / self.scale_
        log_lik, log_weights = self._log_likelihood(Z, mask)
        per_row = logsumexp(np.asarray(log_lik) + np.asarray(log_weights)[:, None], axis=0)
        log_jacobian = np.where(mask, 0.0, np.log(self.scale_)).sum(axis=1)
        return float(np.average(per_row - log_jacobian, weights=sample_weight))

    def infer_mechanism_posterior(self):
        """Posterior over mechanism parameters, for models that define one."""
        raise NotImplementedError(f"{type(self).__name__} does not infer mechanism parameters")
