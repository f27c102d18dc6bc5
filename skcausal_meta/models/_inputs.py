"""What ``fit`` checks of the data, and the per-column scales it standardises with (numpy).

Used by :class:`~skcausal_meta.models.base.BaseCausalEstimator`; ``score`` checks its rows with
:func:`validate_input` too, against the fitted number of columns and names.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import validate_data

from .._validation import check_interventions

__all__ = ["column_scales", "validate_input"]


def validate_input(estimator, X, interventions, reset: bool):
    """``(X, mask)``: ``X`` as a float64 ``(n, d)`` array and its boolean intervention mask.

    Through scikit-learn's ``validate_data``, which sets (``reset=True``, fitting) or checks
    ``n_features_in_`` and ``feature_names_in_``. A fit needs at least two columns and the rows
    of ``estimator._min_samples()``; the error names ``n`` and the reason.
    """
    X = validate_data(estimator, X, reset=reset, dtype=np.float64, ensure_min_features=2 if reset else 1)
    if reset:
        minimum, reason = estimator._min_samples()
        if X.shape[0] < minimum:
            raise ValueError(
                f"n_samples={X.shape[0]} is too few: {type(estimator).__name__} needs at least "
                f"{minimum} rows ({reason})"
            )
    mask = check_interventions(interventions, X.shape[0], X.shape[1])
    return X, mask


def column_scales(X: np.ndarray, names=None) -> np.ndarray:
    """The standard deviation of each column of ``X``; a constant column, or one whose variance
    overflows, is an error naming it (by ``names[j]`` when given, else its index)."""
    with np.errstate(over="ignore"):  # an overflowing variance is reported below
        std = X.std(axis=0)
    for kind, bad in (("constant", std == 0), ("too large to standardise", ~np.isfinite(std))):
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            name = j if names is None else names[j]
            raise ValueError(f"X column {name!r} (index {j}) is {kind}; every node must vary finitely")
    return std
