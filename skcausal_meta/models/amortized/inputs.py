"""From a data set to the network's input tensor."""

from __future__ import annotations

import numpy as np

__all__ = ["make_model_input"]


def make_model_input(X, masks) -> np.ndarray:
    """Stack z-scored data and intervention flags into the ``[..., n, d, 2]`` model input.

    Each data set (the last two axes of ``X``) is standardised per column over its rows, so the
    network sees neither the scale nor the location of a variable (both are shortcuts in
    simulated data, e.g. variance growing along the causal order).

    Parameters
    ----------
    X : array-like of shape (..., n, d)
    masks : array-like of bool, shape (..., n, d), or None

    Returns
    -------
    ndarray of float32, shape (..., n, d, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from skcausal_meta.models.amortized import make_model_input
    >>> X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
    >>> masks = np.array([[False, False], [False, True], [False, False]])
    >>> x = make_model_input(X, masks)
    >>> x.shape, x.dtype
    ((3, 2, 2), dtype('float32'))
    >>> x[:, :, 0].round(3)  # each column z-scored
    array([[-1.225, -0.926],
           [ 0.   , -0.463],
           [ 1.225,  1.389]], dtype=float32)
    >>> x[:, :, 1]  # the intervention flags
    array([[0., 0.],
           [0., 1.],
           [0., 0.]], dtype=float32)
    """
    X = np.asarray(X, dtype=np.float64)
    flags = np.zeros(X.shape, dtype=bool) if masks is None else np.asarray(masks, dtype=bool)
    if flags.shape != X.shape:
        raise ValueError(f"masks must have the shape of X {X.shape}, got {flags.shape}")
    std = X.std(axis=-2, keepdims=True)
    Z = (X - X.mean(axis=-2, keepdims=True)) / np.where(std > 0, std, 1.0)
    return np.stack([Z, flags], axis=-1).astype(np.float32)
