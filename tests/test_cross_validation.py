"""Scoring with interventions: the warning for a dropped mask, and the docs page's routing example."""

import contextlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import KFold, cross_val_score

from skcausal_meta import make_scm_family
from skcausal_meta.models.baselines import EmptyGraphEstimator

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "cross_validation.rst"


@pytest.fixture(scope="module")
def data():
    X, interventions, _ = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=60, n_interventional=40,
                                          random_state=0)
    return X[0], interventions[0]


def test_score_without_the_fitted_mask_warns_naming_metadata_routing(data):
    X, mask = data
    est = EmptyGraphEstimator().fit(X, interventions=mask)
    with pytest.warns(UserWarning, match="metadata routing.*enable_metadata_routing=True"):
        est.score(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.score(X, interventions=mask)
        est.score(X, interventions=np.zeros_like(mask))  # observational rows, said explicitly
        EmptyGraphEstimator().fit(X).score(X)  # fitted without interventions: nothing was dropped


def test_cross_validation_without_routing_warns(data):
    X, mask = data
    with sklearn.config_context(enable_metadata_routing=False), pytest.warns(UserWarning, match="metadata routing"):
        cross_val_score(EmptyGraphEstimator(), X, cv=KFold(3, shuffle=True, random_state=0),
                        params={"interventions": mask})


def _python_blocks(text):
    """The bodies of the page's ``.. code-block:: python`` directives, dedented."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", text)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def test_docs_routing_example_runs_and_routes_the_mask():
    blocks = _python_blocks(DOCS_PAGE.read_text())
    assert len(blocks) == 2
    out = io.StringIO()
    with sklearn.config_context(), warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("error", UserWarning)  # a dropped mask would warn
        namespace = {}
        for block in blocks:
            exec(compile(block, str(DOCS_PAGE), "exec"), namespace)
    printed = dict(re.findall(r"^(.*): (-?[\d.]+) ± [\d.]+$", out.getvalue(), flags=re.M))
    assert set(printed) == {"held-out log density per row", "stratified by target"}
    # the page quotes about -6.8 routed; scoring interventional rows as observational gives about -151
    assert all(-8 < float(value) < -5 for value in printed.values()), printed
