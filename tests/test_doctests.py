"""The ``Examples`` sections of the public docstrings run as doctests, and every public object has one.

Each public (non-underscore) module of ``skcausal_meta`` is one test: its doctests run with
``ELLIPSIS | NORMALIZE_WHITESPACE`` and the test fails on any failing example. Modules whose
examples need an optional extra are skipped, naming the extra, when it is not installed.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import skcausal_meta
import skcausal_meta.metrics
from skcausal_meta.datasets import families

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# module (or package prefix) whose examples need optional extras -> [(importable name, extra)]
_EXTRAS = {
    "skcausal_meta.models.baselines.classical": [("causallearn", "baselines")],
    "skcausal_meta.pipeline.plots": [("matplotlib", "plot")],
    "skcausal_meta.pipeline.tracking": [("mlflow", "mlflow")],
}
# top-level import name -> extra, for a module that cannot even be imported without it
_EXTRA_OF = {name: extra for needs in _EXTRAS.values() for name, extra in needs}


def _public_modules() -> list[str]:
    names = ["skcausal_meta"]
    for info in pkgutil.walk_packages(skcausal_meta.__path__, prefix="skcausal_meta."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _require_extras(module_name: str) -> None:
    for prefix, needs in _EXTRAS.items():
        if module_name == prefix or module_name.startswith(prefix + "."):
            for import_name, extra in needs:
                pytest.importorskip(
                    import_name,
                    reason=f"{module_name}'s examples need the {extra!r} extra "
                    f"(pip install 'skcausal-meta[{extra}]')",
                )


@pytest.mark.parametrize("module_name", _public_modules())
def test_doctests(module_name):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        extra = _EXTRA_OF.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        pytest.skip(f"{module_name} needs the {extra!r} extra (pip install 'skcausal-meta[{extra}]')")
    finder = doctest.DocTestFinder(exclude_empty=True)
    # objects re-exported from other modules are tested where they are defined
    tests = [t for t in finder.find(module, module_name) if t.examples]
    if not tests:
        return  # nothing to run (its public objects' examples are counted below)
    _require_extras(module_name)
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    printopts = np.get_printoptions()
    registry = dict(families._REGISTRY)  # examples may register families; later tests must not see them
    try:
        for test in tests:
            runner.run(test)
    finally:
        np.set_printoptions(**printopts)
        families._REGISTRY.clear()
        families._REGISTRY.update(registry)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module_name}"


_API_REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _resolve(module_name: str, dotted: str):
    """The object ``module_name.dotted``, where ``dotted`` may start with submodules."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):  # the longest importable module prefix first
        try:
            obj = importlib.import_module(".".join([module_name, *parts[: k - 1]]))
        except ModuleNotFoundError:
            continue
        for part in parts[k - 1:]:
            obj = getattr(obj, part)
        return obj
    raise LookupError(f"{module_name}.{dotted} named in docs/api.rst does not exist")


def _documented_objects():
    """``(qualified name, object)`` of every function and class the API reference documents
    (``autosummary`` entries and ``autoclass``/``autofunction`` directives under the current
    module). Modules and data (``autodata``) are left out: they have no signature to show."""
    out, module = [], None
    for line in _API_REFERENCE.read_text().splitlines():
        directive = re.match(r"\.\. (?:current)?module:: (\S+)", line.strip())
        if directive:
            module = directive.group(1)
            continue
        auto = re.match(r"\.\. auto(?:class|function):: (\S+)", line.strip())
        entry = re.match(r"^   ([A-Za-z_][\w.]*)$", line)
        name = auto.group(1) if auto else entry.group(1) if entry and module else None
        if name:
            obj = _resolve(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                out.append((f"{module}.{name}", obj))
    return out


def _public_objects():
    """``(qualified name, object whose docstring documents it)``: both ``__all__`` lists and
    every function and class of the API reference."""
    out = []
    for module in (skcausal_meta, skcausal_meta.metrics):
        for name in module.__all__:
            obj = getattr(module, name)
            if name == "GRAPH_METRICS":  # a dict has no docstring of its own: its module documents it
                obj = importlib.import_module("skcausal_meta.metrics.scorers")
            out.append((f"{module.__name__}.{name}", obj))
    return out + _documented_objects()


def _has_examples(obj) -> bool:
    doc = getattr(obj, "__doc__", None) or ""
    lines = [line.strip() for line in doc.splitlines()]
    return any(
        line == "Examples" and nxt and set(nxt) == {"-"} for line, nxt in zip(lines, lines[1:])
    ) and ">>>" in doc


def test_the_api_reference_is_read():
    # a change of api.rst's layout must not silently empty the list checked below
    names = {name for name, _ in _documented_objects()}
    assert len(names) > 100
    assert {"skcausal_meta.datasets.ErdosRenyi", "skcausal_meta.pipeline.run_benchmark",
            "skcausal_meta.models.amortized.optim.Lamb"} <= names


def test_every_public_object_has_examples():
    objects = _public_objects()
    missing = [name for name, obj in objects if not _has_examples(obj)]
    assert not missing, (
        f"{len(missing)} of {len(objects)} public objects lack an Examples section: {missing}"
    )
