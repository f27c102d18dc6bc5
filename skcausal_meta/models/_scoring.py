"""Held-out scoring of every estimator: the mean log predictive density of rows (numpy).

:class:`HeldOutScoreMixin` gives :class:`~skcausal_meta.models.base.BaseCausalEstimator` its
``score``: the rows are checked and moved to the training standardisation, the model's hook
``_log_likelihood`` gives each posterior sample's density, and the log-sum-exp over the
samples, less the standardisation's log-Jacobian, is averaged over the rows. The hook's
default is the plug-in linear-Gaussian likelihood
(:class:`~skcausal_meta.models.plugin_likelihood.PluginLikelihood`) of graph-only posteriors.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp
from sklearn.utils.validation import check_is_fitted

from ._inputs import validate_input
from .plugin_likelihood import PluginLikelihood
from .._validation import check_random_state

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["HeldOutScoreMixin"]


class HeldOutScoreMixin:
    """``score`` and its likelihood hook; mixed into ``BaseCausalEstimator``, whose ``fit`` sets
    what it reads (``mean_``, ``scale_``, ``_train_X_``, ``_train_mask_``)."""

    def _log_likelihood(self, X, mask):
        posterior = self._posterior(None, check_random_state(self.random_state))
        return self._plugin_likelihood(posterior).log_likelihood(X, mask), posterior.log_weights

    def _plugin_likelihood(self, posterior) -> PluginLikelihood:
        """The plug-in likelihood of the posterior's graphs fitted on the training rows, kept for the
        next call with the same samples and training rows (I-NIL scores one group of rows at a time)."""
        key = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in (
            posterior.samples, self._train_X_, self._train_mask_))).digest()
        cached = self.__dict__.get("_plugin_cache")
        if cached is None or cached[0] != key:
            graphs = self._plugin_graphs(posterior)
            cached = (key, PluginLikelihood().fit(graphs, self._train_X_, self._train_mask_))
            self._plugin_cache = cached
        return cached[1]

    def _plugin_graphs(self, posterior) -> np.ndarray:
        """The DAGs whose plug-in mechanisms make the default likelihood (the posterior's samples;
        models whose samples may be cyclic override this to project them onto DAGs)."""
        return posterior.samples

    def score(
        self,
        X: ArrayLike,
        y: None = None,
        interventions: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> float:
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
            Intervention mask of the rows of ``X``; ``None`` means every row is observational,
            and warns when the estimator was fitted with interventional rows (the sign of a mask
            dropped by cross-validation without metadata routing).
        sample_weight : array-like of shape (n,), default=None
            Non-negative row weights.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if interventions is None and self._train_mask_.any():
            warnings.warn(
                f"{type(self).__name__} was fitted with an intervention mask but score() got none, so every "
                "row is scored as observational. In cross-validation (cross_val_score, GridSearchCV) the mask "
                "reaches score() only through scikit-learn metadata routing: "
                "sklearn.set_config(enable_metadata_routing=True) and "
                "est.set_fit_request(interventions=True).set_score_request(interventions=True), then pass "
                "params={'interventions': mask}. Pass an all-False mask to score observational rows silently.",
                UserWarning, stacklevel=2,
            )
        X, mask = validate_input(self, X, interventions, reset=False)
        sample_weight = _check_sample_weight(sample_weight, X.shape[0])
        Z = _standardize_held_out(X, self.mean_, self.scale_)
        log_lik, log_weights = self._log_likelihood(Z, mask)
        per_row = logsumexp(np.asarray(log_lik) + np.asarray(log_weights)[:, None], axis=0)
        log_jacobian = np.where(mask, 0.0, np.log(self.scale_)).sum(axis=1)
        return float(np.average(per_row - log_jacobian, weights=sample_weight))


def _check_sample_weight(sample_weight, n: int):
    """``sample_weight`` as a float64 array of ``n`` finite non-negative weights, not all zero
    (``None`` stays ``None``: equal weights)."""
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if (sample_weight.shape != (n,) or not np.isfinite(sample_weight).all()
            or (sample_weight < 0).any() or not sample_weight.sum() > 0):
        raise ValueError(f"sample_weight must hold {n} finite non-negative weights, not all "
                         f"zero, one per row of X; got shape {sample_weight.shape}")
    return sample_weight


def _standardize_held_out(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X - mean) / scale``; a value whose squared deviation overflows every density is an error
    naming it (``fit`` refuses such columns too)."""
    Z = (X - mean) / scale
    with np.errstate(over="ignore"):
        too_large = ~np.isfinite(Z * Z)
    if too_large.any():
        r, j = (int(k) for k in np.argwhere(too_large)[0])
        raise ValueError(f"X[{r}, {j}] = {X[r, j]:g} is too large to score: it lies {abs(Z[r, j]):.3g} training "
                         "standard deviations from the training mean, beyond what a density can be computed at")
    return Z
