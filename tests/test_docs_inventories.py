"""The vendored Sphinx inventories of docs/_inventories (no docs build here, stdlib only).

The nitpicky docs build (``scripts/build_docs.sh``) resolves the links to other projects'
documentation through these files, offline; a missing or corrupt one would fail it, or (for an
object that vanished from an inventory) turn a link into an error. Checked here: every inventory
that docs/conf.py's ``intersphinx_mapping`` names exists, is a valid Sphinx inventory (format
version 2), and lists the objects our documentation relies on; the hand-made ones are what
``make_inventories.py`` writes.
"""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
import zlib
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
INVENTORIES = DOCS / "_inventories"

# objects (name, domain:role) that the documentation links to, per intersphinx project
EXPECTED = {
    "python": [("int", "py:class"), ("pathlib.Path", "py:class"), ("ValueError", "py:exception"),
               ("path-like object", "std:term")],
    "numpy": [("numpy.ndarray", "py:class"), ("numpy.random.Generator", "py:class"),
              ("numpy.dtype", "py:class"), ("array_like", "std:term")],
    "scipy": [("scipy.stats", "py:module")],
    "sklearn": [("sklearn.base.BaseEstimator", "py:class"), ("sklearn.pipeline.Pipeline", "py:class"),
                ("sklearn.model_selection.GridSearchCV", "py:class"), ("regressor", "std:term")],
    "pandas": [("pandas.DataFrame", "py:class")],
    "matplotlib": [("matplotlib.figure.Figure", "py:class")],
    "joblib": [("joblib.Parallel", "py:class")],
    "networkx": [("networkx.DiGraph", "py:class")],
    "torch": [("torch.Tensor", "py:class"), ("torch.device", "py:class"), ("torch.nn.Module", "py:class"),
              ("torch.Generator", "py:class")],
}

# Sphinx's own pattern for one line of a version-2 inventory
_LINE = re.compile(r"(.+?)\s+(\S+)\s+(-?\d+)\s+?(\S*)\s+(.*)")


def read_inventory(path: Path) -> dict[tuple[str, str], str]:
    """``{(name, domain:role): uri}`` of a Sphinx inventory (version 2); ValueError if invalid."""
    data = path.read_bytes()
    lines = data.split(b"\n", 4)
    if len(lines) < 5 or lines[0] != b"# Sphinx inventory version 2":
        raise ValueError(f"{path.name}: not a Sphinx inventory of version 2")
    if not (lines[1].startswith(b"# Project: ") and lines[2].startswith(b"# Version: ")
            and b"zlib" in lines[3]):
        raise ValueError(f"{path.name}: bad header")
    try:
        body = zlib.decompress(lines[4]).decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: corrupt compressed part ({exc})") from exc
    entries = {}
    for line in body.splitlines():
        match = _LINE.fullmatch(line.rstrip())
        if match is None or ":" not in match.group(2):
            raise ValueError(f"{path.name}: bad entry {line!r}")
        name, role, _, uri, _ = match.groups()
        entries[(name, role)] = uri[:-1] + name if uri.endswith("$") else uri
    if not entries:
        raise ValueError(f"{path.name}: no objects")
    return entries


def intersphinx_mapping() -> dict[str, tuple[str, str]]:
    environ = dict(os.environ)
    try:
        conf = runpy.run_path(str(DOCS / "conf.py"))
    finally:  # conf.py sets a default thread count for the gallery
        os.environ.clear()
        os.environ.update(environ)
    return conf["intersphinx_mapping"]


MAPPING = intersphinx_mapping()


def test_conf_uses_vendored_inventories_only():
    assert "sphinx.ext.intersphinx" in runpy.run_path(str(DOCS / "conf.py"))["extensions"]
    for project, (url, inventory) in MAPPING.items():
        assert url.startswith("https://"), project
        assert isinstance(inventory, str) and not inventory.startswith(("http:", "https:")), project
        assert (DOCS / inventory).parent == INVENTORIES, project
    assert set(MAPPING) == set(EXPECTED), "list the objects we rely on for each inventory in EXPECTED"


@pytest.mark.parametrize("project", sorted(MAPPING))
def test_inventory_is_valid_and_lists_our_objects(project):
    path = DOCS / MAPPING[project][1]
    assert path.is_file(), f"missing inventory {path}"
    entries = read_inventory(path)
    missing = [key for key in EXPECTED[project] if key not in entries]
    assert not missing, f"{path.name} lacks {missing}"


@pytest.mark.parametrize("project", sorted(MAPPING))
def test_sphinx_reads_the_inventory(project):
    pytest.importorskip("sphinx", reason="reading inventories with Sphinx needs the 'docs' extra "
                        "(pip install 'skcausal-meta[docs]')")
    import posixpath

    from sphinx.util.inventory import InventoryFile

    url, inventory = MAPPING[project]
    with open(DOCS / inventory, "rb") as f:
        loaded = InventoryFile.load(f, url, posixpath.join)
    data = getattr(loaded, "data", loaded)  # {role: {name: item}}, wrapped in some versions
    name, role = EXPECTED[project][0]
    item = data[role][name]
    uri = item.uri if hasattr(item, "uri") else item[2]
    assert uri.startswith(url + "/")


def test_hand_made_inventories_are_what_the_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_inventories", INVENTORIES / "make_inventories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for key, (project, version, objects) in module.OBJECTS.items():
        written = tmp_path / f"{key}.inv"
        written.write_bytes(module.inventory_bytes(project, version, objects))
        assert read_inventory(written) == read_inventory(INVENTORIES / f"{key}.inv"), key


def test_a_missing_or_corrupt_inventory_is_refused(tmp_path):
    good = (INVENTORIES / "torch.inv").read_bytes()
    truncated = tmp_path / "truncated.inv"
    truncated.write_bytes(good[:-20])
    garbled = tmp_path / "garbled.inv"
    garbled.write_bytes(good.replace(b"version 2", b"version 1"))
    for path in (truncated, garbled):
        with pytest.raises(ValueError):
            read_inventory(path)
    with pytest.raises(FileNotFoundError):
        read_inventory(tmp_path / "absent.inv")
