"""Plug-in likelihood ``p(x | G)`` for posteriors that give graphs but no mechanism parameters.

AVICI and BCNP return distributions over graphs only, yet NIL and I-NIL
(:func:`skcausal_meta.metrics.nil`, :func:`~skcausal_meta.metrics.i_nil`) need a density per
sampled graph. Following DESIGN section 5, each node's mechanism is fitted on its parents in the
training data and the noise is taken Gaussian:

``log p(x | G) = sum_j log N(x_j; f_j(x_pa(j)), sigma_j^2)``

* ``f_j`` is an ordinary-least-squares fit with intercept (default), computed from the node's
  mean and covariance so that every parent set costs ``O(|pa|^3)`` after one ``O(n d^2)`` pass,
  or any scikit-learn regressor (e.g. ``KernelRidge``) for nonlinear mechanisms; a node without
  parents is always its training mean.
* ``sigma_j^2`` is the maximum-likelihood residual variance (mean squared training residual),
  floored at ``min_variance``. With a flexible regressor the in-sample residuals underestimate
  the noise, which makes the likelihood over-confident; prefer a regularised regressor.
* Training rows where node ``j`` was intervened on are left out of node ``j``'s fit (they do not
  follow its mechanism), and intervened nodes' terms are dropped when evaluating (the truncated
  factorisation).

Fits are cached per unique ``(node, parent set)``, so repeated graphs cost nothing. The graphs
must be acyclic: for a cyclic graph the product of conditionals is not a normalised density.
This module needs numpy, scipy and scikit-learn only (no torch).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_parameter_constraints

from skcausal_meta._validation import check_adjacency_stack, check_interventions, is_dag

from ._constraints import POSITIVE_FLOAT

__all__ = ["PluginLikelihood", "NodeMechanism", "LinearMechanism"]


class LinearMechanism(NamedTuple):
    """A fitted affine map ``intercept + X_parents @ coef``."""

    intercept: float
    coef: np.ndarray

    def predict(self, X_parents: np.ndarray) -> np.ndarray:
        """Predict the node from its parents' columns ``(n, |pa|)``."""
        return self.intercept + X_parents @ self.coef


class NodeMechanism(NamedTuple):
    """A node's fitted mechanism: a predictor of its mean from its parents, and noise variance."""

    predictor: object  # has ``predict(X_parents)``: a LinearMechanism or a fitted sklearn regressor
    variance: float


class PluginLikelihood:
    """Per-graph Gaussian plug-in likelihood fitted on training data.

    Parameters
    ----------
    regressor : "ols" or scikit-learn regressor, default="ols"
        How each node's mean is fitted on its parents: ordinary least squares with intercept, or
        a clone of the given regressor (``fit``/``predict``), e.g.
        ``sklearn.kernel_ridge.KernelRidge(kernel="rbf")``.
    min_variance : float, default=1e-8
        Floor on each node's residual variance, so that a deterministic fit does not give an
        infinite density.

    Attributes
    ----------
    graphs_ : ndarray of shape (S, d, d)
        The fitted graphs.
    mechanisms_ : dict
        ``(node, parents) -> NodeMechanism`` for every unique node and parent tuple.
    n_features_in_ : int
        Number of nodes ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.normal(size=500); X = np.c_[x0, 2 * x0 + rng.normal(size=500)]
    >>> graphs = np.array([[[0, 1], [0, 0]], [[0, 0], [0, 0]]])
    >>> ll = PluginLikelihood().fit(graphs, X)(X)
    >>> ll.shape, bool(ll[0].mean() > ll[1].mean())
    ((2, 500), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "regressor": [StrOptions({"ols"}), HasMethods(["fit", "predict"])],
        "min_variance": [POSITIVE_FLOAT],
    }

    def __init__(self, regressor="ols", min_variance: float = 1e-8):
        self.regressor = regressor
        self.min_variance = min_variance

    def __repr__(self) -> str:
        return f"PluginLikelihood(regressor={self.regressor!r}, min_variance={self.min_variance!r})"

    # ----------------------------------------------------------------------------------------
    def fit(self, graphs, X_train, interventions=None) -> "PluginLikelihood":
        """Fit every node's mechanism for every unique parent set in ``graphs``.

        Parameters
        ----------
        graphs : array-like of shape (S, d, d)
            Sampled DAGs, ``graphs[s, i, j] == 1`` for ``i -> j`` (e.g. ``posterior.samples``).
        X_train : array-like of shape (n, d)
            Training data.
        interventions : array-like of shape (n, d), default=None
            Training intervention mask; rows intervening on node ``j`` are excluded from node
            ``j``'s fit.

        Returns
        -------
        self
        """
        validate_parameter_constraints(self._parameter_constraints, {"regressor": self.regressor,
                                       "min_variance": self.min_variance}, caller_name=type(self).__name__)
        graphs = check_adjacency_stack(graphs, name="graphs")
        for s, graph in enumerate(graphs):
            if not is_dag(graph):
                raise ValueError(
                    f"graphs[{s}] has a directed cycle; the plug-in likelihood "
                    "is a density only for DAGs"
                )
        X = check_array(X_train, dtype=np.float64, input_name="X_train")
        d = graphs.shape[1]
        if X.shape[1] != d:
            raise ValueError(f"X_train has {X.shape[1]} columns but graphs have {d} nodes")
        mask = check_interventions(interventions, *X.shape)

        keys = [[(j, tuple(np.flatnonzero(g[:, j]).tolist())) for j in range(d)] for g in graphs]
        unique_keys = sorted({key for row in keys for key in row})
        self.mechanisms_ = {}
        for j in range(d):
            node_keys = [key for key in unique_keys if key[0] == j]
            self.mechanisms_.update(self._fit_node(j, [k[1] for k in node_keys], X[~mask[:, j]]))
        index = {key: u for u, key in enumerate(unique_keys)}
        self._keys = unique_keys
        self._key_index = np.array([[index[key] for key in row] for row in keys])  # (S, d)
        self.graphs_ = graphs
        self.n_features_in_ = d
        return self

    def _fit_node(self, j: int, parent_sets, rows: np.ndarray) -> dict:
        """Fit node ``j`` on each parent tuple, using the training ``rows`` where it is observed."""
        if rows.shape[0] < 2:
            raise ValueError(
                f"node {j} is observed in {rows.shape[0]} training rows; its mechanism needs >= 2"
            )
        mean = rows.mean(axis=0)
        centred = rows - mean
        cov = centred.T @ centred / rows.shape[0]
        fitted = {}
        for parents in parent_sets:
            p = list(parents)
            if not p or isinstance(self.regressor, str):
                # OLS from the moments: Cov[pa, pa] b = Cov[pa, j], min-norm if singular
                coef = np.linalg.lstsq(cov[np.ix_(p, p)], cov[p, j], rcond=None)[0]
                predictor = LinearMechanism(float(mean[j] - mean[p] @ coef), coef)
            else:
                predictor = clone(self.regressor).fit(rows[:, p], rows[:, j])
            residual = rows[:, j] - predictor.predict(rows[:, p])
            variance = max(float(np.mean(residual**2)), float(self.min_variance))
            fitted[(j, parents)] = NodeMechanism(predictor, variance)
        return fitted

    # ----------------------------------------------------------------------------------------
    def log_likelihood(self, X, interventions=None) -> np.ndarray:
        """Log-density of every row under every fitted graph, intervened nodes' terms dropped.

        Parameters
        ----------
        X : array-like of shape (N, d)
            Rows to evaluate.
        interventions : array-like of shape (N, d), default=None
            Mask of intervened nodes per row (their terms are left out).

        Returns
        -------
        ndarray of shape (S, N)
        """
        if not hasattr(self, "mechanisms_"):
            raise NotFittedError("This PluginLikelihood is not fitted; call fit(graphs, X_train)")
        X = check_array(X, dtype=np.float64, input_name="X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} columns but the likelihood was fitted on {self.n_features_in_}"
            )
        observed = ~check_interventions(interventions, *X.shape)
        terms = np.empty((len(self._keys), X.shape[0]))  # (U, N): one node term per unique fit
        for u, (j, parents) in enumerate(self._keys):
            mechanism = self.mechanisms_[(j, parents)]
            residual = X[:, j] - mechanism.predictor.predict(X[:, list(parents)])
            variance = mechanism.variance
            log_density = -0.5 * (np.log(2 * np.pi * variance) + residual**2 / variance)
            terms[u] = np.where(observed[:, j], log_density, 0.0)
        # Graph s sums the d unique terms it uses: a sparse (S, U) incidence matrix times terms.
        n_graphs, d = self._key_index.shape
        incidence = sparse.csr_matrix(
            (np.ones(n_graphs * d), (np.repeat(np.arange(n_graphs), d), self._key_index.ravel())),
            shape=(n_graphs, len(self._keys)),
        )
        return np.asarray(incidence @ terms)

    __call__ = log_likelihood

