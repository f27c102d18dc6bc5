"""Tests of ``models/amortized/config.py``: ``TrainConfig`` validates its settings."""

import pytest

from skcausal_meta.models.amortized.config import TrainConfig


@pytest.mark.parametrize("bad, match", [
    (dict(decay="step"), "decay"), (dict(n_nodes=[5, 3]), "n_nodes"), (dict(steps=0), "steps"),
    (dict(p_observational_only=2.0), "p_observational_only"), (dict(lr=0.0), "lr"),
    (dict(optimizer="sgd"), "optimizer"),
])
def test_train_config_rejects_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)
