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
    """
    X = np.asarray(X, dtype=np.float64)
    flags = np.zeros(X.shape, dtype=bool) if masks is None else np.asarray(masks, dtype=bool)
    if flags.shape != X.shape:
        raise ValueError(f"masks must have the shape of X {X.shape}, got {flags.shape}")
    std = X.std(axis=-2, keepdims=True)
    Z = (X - X.mean(axis=-2, keepdims=True)) / np.where(std > 0, std, 1.0)
    return np.stack([Z, flags], axis=-1).astype(np.float32)
