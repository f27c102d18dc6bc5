"""Packaging checks: the conda recipe, environment.yml and the wheel agree with pyproject.toml.

pyproject.toml is the single source of the requirements; the recipe and environment.yml restate
them under conda-forge names, and these tests catch the copies drifting apart. The wheel test
builds the wheel (a few seconds) and checks that it carries the package data: the shipped
checkpoints and every other file tracked under ``skcausal_meta/``.
"""

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipe" / "recipe.yaml"


def _load_build_offline():
    spec = importlib.util.spec_from_file_location("build_offline", ROOT / "recipe" / "build_offline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_offline = _load_build_offline()


def _requires_python_min():
    """``"3.11"`` from ``requires-python = ">=3.11"``."""
    requires = build_offline.pyproject_project()["requires-python"]
    assert requires.startswith(">="), requires
    return requires[2:]


def test_conda_names_map_pypi_names():
    assert build_offline.conda_name("torch") == "pytorch"
    assert build_offline.conda_name("Typing_Extensions") == "typing_extensions"
    assert build_offline.conda_name("scikit_learn") == "scikit-learn"


def test_conda_specs_parse_match_specs_and_skip_python_and_pip_block():
    specs = build_offline.conda_specs(["python >=3.10", "numpy >=1.24", "pip", "tqdm", {"pip": ["-e ."]}])
    assert specs == {"numpy": ">=1.24", "tqdm": ""}


def test_dependency_closure_follows_installed_requirements():
    closure = build_offline.dependency_closure(["pydantic"])
    assert {"pydantic", "pydantic-core", "typing-extensions"} <= set(closure)
    assert build_offline._conda_version("2.13.0+cpu") == "2.13.0"


def test_standin_package_links_modules_and_copies_metadata(tmp_path):
    rattler_build = pytest.importorskip("rattler_build", reason="py-rattler-build assembles the stand-ins")
    six = pytest.importorskip("six")  # a one-module distribution (a requirement of python-dateutil)
    distribution = build_offline.metadata.distribution("six")
    stage, channel = tmp_path / "stage", tmp_path / "channel"
    build_offline.stage_distribution(distribution, stage)
    site = stage / build_offline._python_site_packages()
    assert (site / "six.py").is_symlink() and (site / "six.py").resolve() == Path(six.__file__).resolve()
    dist_info = next(site.glob("six-*.dist-info"))
    assert (dist_info / "METADATA").is_file() and not (dist_info / "RECORD").exists()
    build_offline._assemble("six", distribution.version, stage, channel, ["python"])
    build_offline.write_repodata(channel)
    (record,) = json.loads((channel / "noarch" / "repodata.json").read_text())["packages.conda"].values()
    assert (record["name"], record["version"], record["depends"]) == ("six", distribution.version, ["python"])
    package = rattler_build.Package.from_file(next((channel / "noarch").glob("six-*.conda")))
    assert package.noarch == "generic"


def test_recipe_run_requirements_match_pyproject():
    assert build_offline.recipe_run_requirements() == build_offline.pyproject_run_requirements()


def test_recipe_follows_conda_forge_noarch_python_conventions():
    recipe = yaml.safe_load(RECIPE.read_text())
    assert recipe["schema_version"] == 1
    assert recipe["build"]["noarch"] == "python"
    host = " ".join(recipe["requirements"]["host"])
    assert "python ${{ python_min }}.*" in host and "pip" in host and "hatchling" in host
    assert "python >=${{ python_min }}" in recipe["requirements"]["run"]
    python_test, script_test = recipe["tests"]
    assert python_test["python"]["pip_check"] is True and "skcausal_meta" in python_test["python"]["imports"]
    assert (RECIPE.parent / script_test["files"]["recipe"][0]).is_file()
    variants = yaml.safe_load((RECIPE.parent / "variants.yaml").read_text())
    assert variants["python_min"] == [_requires_python_min()]


def test_recipe_renders_with_rattler_build():
    rattler_build = pytest.importorskip("rattler_build", reason="py-rattler-build renders the recipe")
    recipe = rattler_build.Stage0Recipe.from_file(RECIPE)
    variants = rattler_build.VariantConfig.from_file(RECIPE.parent / "variants.yaml")
    (rendered,) = recipe.render(variants)
    stage1 = rendered.recipe
    assert stage1.package.name == "skcausal-meta"
    assert str(stage1.package.version) == build_offline.pyproject_project()["version"]
    run = [str(spec) for spec in stage1.requirements.run]
    assert f"python >={_requires_python_min()}" in run
    assert build_offline.conda_specs(run) == build_offline.pyproject_run_requirements()


def test_environment_yml_matches_pyproject():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    dependencies = environment["dependencies"]
    assert f"python >={_requires_python_min()}" in dependencies
    assert build_offline.conda_specs(dependencies) == build_offline.pyproject_run_requirements()
    assert {"pip": ["-e ."]} in dependencies


def _tracked_package_files():
    """Files under ``skcausal_meta/`` tracked by git (empty outside a git checkout)."""
    done = subprocess.run(["git", "ls-files", "skcausal_meta"], cwd=ROOT, capture_output=True, text=True)
    return set(done.stdout.split()) if done.returncode == 0 else set()


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    """Names of the files inside a wheel freshly built from this checkout."""
    out = str(tmp_path_factory.mktemp("wheel"))
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` sets UV; uv's venvs have no pip
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, str(ROOT)]
    elif uv:
        command = [uv, "build", "--wheel", "--quiet", "--out-dir", out, str(ROOT)]
    else:
        pytest.skip("building the wheel needs pip or uv")
    subprocess.run(command, check=True)
    (wheel,) = Path(out).glob("skcausal_meta-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_holds_checkpoints_and_package_data(wheel_names):
    checkpoints = {p.relative_to(ROOT).as_posix()
                   for pattern in ("*.safetensors", "*.json")
                   for p in (ROOT / "skcausal_meta" / "models" / "checkpoints").glob(pattern)}
    assert checkpoints <= wheel_names
    tracked = _tracked_package_files()
    assert tracked - wheel_names == set()
    assert "skcausal_meta/__init__.py" in wheel_names
    assert "skcausal_meta/py.typed" in wheel_names  # PEP 561: type checkers read the inline hints
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel_names)
    assert not any(name.startswith(("tests/", "docs/", "recipe/")) for name in wheel_names)


def test_files_every_package_has():
    for name in ("LICENSE", "CITATION.cff", "CHANGELOG.md", "CONTRIBUTING.md", "skcausal_meta/py.typed"):
        assert (ROOT / name).is_file(), name
    project = build_offline.pyproject_project()
    assert project["license"] == {"text": "BSD-3-Clause"} and (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause")
    assert "urls" not in project  # no placeholder home page
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in changelog and "## [Unreleased]" in changelog and "### Added" in changelog
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    for command in ("python -m pytest -q", "benchmarks/run.py", "python -m skcausal_meta.train --help"):
        assert command in contributing, command


def test_citation_cff_names_the_software_and_the_methods_papers():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert {"message", "title", "authors", "version", "license", "references"} <= set(citation)
    project = build_offline.pyproject_project()
    assert citation["version"] == project["version"] and citation["license"] == project["license"]["text"]
    papers = {(ref["authors"][0]["family-names"], ref["year"], ref["notes"].split()[0]) for ref in citation["references"]}
    assert papers == {("Lorch", 2022, "AVICI"), ("Lorch", 2021, "DiBS"), ("Annadani", 2023, "BayesDAG"),
                      ("Dhir", 2025, "BCNP")}
    for ref in citation["references"]:
        assert ref["type"] == "conference-paper" and ref["title"] and ref["conference"]["name"]
        assert all({"family-names", "given-names"} <= set(author) for author in ref["authors"])


def test_readme_first_look_prints_the_numbers_it_quotes():
    """The README's first example runs and prints what its ``# ...`` lines say (a changed
    checkpoint or metric shows up here before a reader finds stale numbers)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## A first look"):readme.index("More: ")]
    code = "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.S))
    quoted = [line[2:] for line in code.splitlines() if line.startswith(("# AUROC", "# ")) and ("AUROC" in line or "edges in graph_;" in line)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == quoted and len(quoted) == 4


def test_api_reference_lists_every_public_name():
    import skcausal_meta
    from skcausal_meta import metrics
    from skcausal_meta.models.registry import ESTIMATORS

    api = (ROOT / "docs" / "api.rst").read_text()
    documented = {word.rpartition(".")[2] for word in api.split()}  # "base.GraphPosterior" -> name
    public = {name for name in skcausal_meta.__all__ if name != "metrics"} | set(metrics.__all__)
    estimators = {target.rpartition(":")[2] for target in ESTIMATORS.values()}
    assert (public | estimators) - documented == set()
