"""Parameter descriptions shared by the metrics' docstrings, written once and filled in by
:func:`fill_doc` (the pattern of MNE-Python's ``fill_doc``)."""

from __future__ import annotations

import re

_SHARED = {
    "G_true": """G_true : array-like of shape (d, d)
    True 0/1 adjacency.""",
    "G_true_dag": """G_true : array-like of shape (d, d)
    True DAG.""",
    "marginal_prediction": """prediction : GraphPosterior-like, array-like of shape (S, d, d) or (d, d)
    Posterior, stack of sampled graphs, or edge probabilities.
weights : array-like of shape (S,), default=None
    Weights of a sample stack.""",
    "sample_prediction": """prediction : GraphPosterior-like or array-like of shape (S, d, d)
    Posterior or stack of sampled 0/1 graphs.
weights : array-like of shape (S,), default=None
    Sample weights summing to one (uniform when None).""",
}
_SHARED.update({
    f"{graph}_{prediction}": _SHARED[graph] + "\n" + _SHARED[prediction]
    for graph in ("G_true", "G_true_dag")
    for prediction in ("marginal_prediction", "sample_prediction")
})

_MARKER = re.compile(r"^( *)%\((\w+)\)s$", re.MULTILINE)


def fill_doc(func):
    """Replace each line ``%(name)s`` of ``func``'s docstring by the shared text ``name``,
    indented as the marker is."""
    def shared(match):
        return "\n".join(match.group(1) + line for line in _SHARED[match.group(2)].splitlines())

    func.__doc__ = _MARKER.sub(shared, func.__doc__)
    return func
