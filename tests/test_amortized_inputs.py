"""Tests of ``models/amortized/inputs.py``: ``make_model_input``."""

import numpy as np
import pytest

from skcausal_meta.models.amortized.inputs import make_model_input


def test_make_model_input_zscores_each_dataset_and_stacks_flags():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, size=(2, 50, 3))
    X[1, :, 2] = 7.0  # constant column: zeros, not NaN
    masks = rng.random((2, 50, 3)) < 0.2
    x = make_model_input(X, masks)
    assert x.shape == (2, 50, 3, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(x[0, :, :, 0].std(0), 1, atol=1e-5)
    np.testing.assert_array_equal(x[1, :, 2, 0], 0)
    np.testing.assert_array_equal(x[..., 1], masks)
    with pytest.raises(ValueError, match="masks"):
        make_model_input(X, masks[:, :10])
