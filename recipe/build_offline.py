"""Build and test the conda recipe without any conda channel, using ``py-rattler-build``.

No conda channel is reachable on the machines this project is built on, so this script makes a
local channel of *stand-in* packages for the recipe's dependencies out of the Python
environment that runs it, then builds ``recipe/recipe.yaml`` against that channel and runs the
recipe's tests (imports, ``pip check``, ``smoke_test.py``) in fresh conda environments.

Stand-ins (all ``noarch: generic``, built with :func:`rattler_build.assemble_package`):

- ``python``: a virtual-environment layout (``pyvenv.cfg`` + ``bin/python*`` symlinks) over the
  interpreter running this script, so that a conda prefix holding it is a Python prefix with its
  own ``lib/pythonX.Y/site-packages``.
- one package per installed distribution in the dependency closure of the recipe's
  requirements, under its conda-forge name: the distribution's ``*.dist-info`` is copied (so
  ``pip check`` sees real metadata) and each top-level module or package is a symlink into this
  environment's ``site-packages`` (so that torch and friends cost no copy). Its ``depends`` are
  the distribution's own requirements, mapped to conda names.

The stand-ins stand for this machine only (absolute symlinks); they are never published.

Usage::

    python recipe/build_offline.py [--workdir DIR]

Exits non-zero, with rattler-build's error, when the build or any recipe test fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

RECIPE_DIR = Path(__file__).resolve().parent
PYPROJECT = RECIPE_DIR.parent / "pyproject.toml"

# PyPI distribution name (normalised) -> conda-forge package name, where the two differ
CONDA_NAMES = {"torch": "pytorch", "typing-extensions": "typing_extensions"}
# sysconfig platform -> conda subdir
CONDA_PLATFORMS = {"linux-x86_64": "linux-64", "linux-aarch64": "linux-aarch64"}


def normalize(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_name(distribution: str) -> str:
    """The conda-forge name of a PyPI distribution."""
    key = normalize(distribution)
    return CONDA_NAMES.get(key, key)


def pyproject_project(pyproject=PYPROJECT) -> dict:
    """The ``[project]`` table of ``pyproject``."""
    return tomllib.loads(Path(pyproject).read_text())["project"]


def pyproject_run_requirements(pyproject=PYPROJECT) -> dict[str, str]:
    """``{conda name: version specifier}`` of ``[project].dependencies`` in ``pyproject``."""
    requirements = (Requirement(text) for text in pyproject_project(pyproject)["dependencies"])
    return {conda_name(r.name): str(r.specifier) for r in requirements}


def conda_specs(entries, exclude=("python", "pip")) -> dict[str, str]:
    """``{name: version specifier}`` of conda match specs such as ``"numpy >=1.24"``.

    Entries that are not strings (the ``pip:`` block of an environment file) and the names in
    ``exclude`` are left out.
    """
    pairs = (entry.split(maxsplit=1) + [""] for entry in entries if isinstance(entry, str))
    return {name: spec.replace(" ", "") for name, spec, *_ in pairs if name not in exclude}


def recipe_run_requirements(recipe=RECIPE_DIR / "recipe.yaml") -> dict[str, str]:
    """``{name: version specifier}`` of the recipe's run requirements, Python excluded."""
    return conda_specs(yaml.safe_load(Path(recipe).read_text())["requirements"]["run"])


def _direct_requirements(distribution: metadata.Distribution) -> list[str]:
    """Names of the distribution's unconditional requirements in this interpreter."""
    names = []
    for text in distribution.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(normalize(requirement.name))
    return names


def dependency_closure(names) -> dict[str, metadata.Distribution]:
    """Installed distributions needed by ``names``, transitively, keyed by normalised name."""
    found, pending = {}, [normalize(n) for n in names]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        try:
            found[name] = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is needed for the stand-in channel but is not installed in "
                             f"{sys.prefix}: pip install {name}") from None
        pending.extend(_direct_requirements(found[name]))
    return found


def _conda_version(version: str) -> str:
    """A PyPI version as conda accepts it: the local part (``+cpu``) dropped."""
    return version.split("+", 1)[0]


def _top_level_entries(distribution: metadata.Distribution) -> set[str]:
    """First path components of the files a distribution installs into site-packages."""
    entries = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first not in ("..", "__pycache__") and not first.endswith(".dist-info"):
            entries.add(first)
    return entries


def _python_site_packages() -> str:
    """``lib/pythonX.Y/site-packages``, the layout of a conda prefix for this interpreter."""
    return f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def _assemble(name, version, stage: Path, channel: Path, depends=()):
    """Package the files staged under ``stage`` as a noarch stand-in into ``channel/noarch``."""
    from rattler_build import assemble_package

    assemble_package(name=name, version=version, target_platform="noarch", build_string="standin_0",
                     output_dir=channel / "noarch", files_dir=stage, depends=list(depends),
                     noarch="generic", summary=f"local stand-in for {name}, not for distribution",
                     compression_level=1, detect_prefix=False)


def stage_python(stage: Path) -> str:
    """Stage a Python stand-in over the running interpreter; return its version."""
    version = ".".join(map(str, sys.version_info[:3]))
    base = Path(sys.base_prefix)
    (stage / "bin").mkdir(parents=True)
    (stage / _python_site_packages()).mkdir(parents=True)
    (stage / "pyvenv.cfg").write_text(
        f"home = {base / 'bin'}\ninclude-system-site-packages = false\nversion = {version}\n")
    short = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for link in ("python", "python3", short):
        (stage / "bin" / link).symlink_to(base / "bin" / short)
    return version


def stage_distribution(distribution: metadata.Distribution, stage: Path) -> None:
    """Stage a stand-in for an installed distribution: metadata copied, modules symlinked."""
    installed = Path(distribution.locate_file(""))
    target = stage / _python_site_packages()
    target.mkdir(parents=True)
    metadata_file = next(f for f in distribution.files if f.match("*.dist-info/METADATA"))
    dist_info = Path(distribution.locate_file(metadata_file)).parent
    shutil.copytree(dist_info, target / dist_info.name, ignore=shutil.ignore_patterns("RECORD"))
    for entry in _top_level_entries(distribution):
        if (installed / entry).exists():
            (target / entry).symlink_to(installed / entry)


def write_repodata(channel: Path) -> None:
    """Index ``channel``: a ``repodata.json`` for ``noarch`` and an empty one for this platform."""
    from rattler_build import Package

    records = {}
    for path in sorted((channel / "noarch").glob("*.conda")):
        package = Package.from_file(path)
        blob = path.read_bytes()
        records[path.name] = {
            "name": package.name, "version": str(package.version), "build": package.build_string,
            "build_number": package.build_number, "depends": list(package.depends),
            "noarch": package.noarch, "subdir": "noarch", "size": len(blob),
            "md5": hashlib.md5(blob).hexdigest(), "sha256": hashlib.sha256(blob).hexdigest(),
        }
    platform = CONDA_PLATFORMS.get(sysconfig.get_platform(), sysconfig.get_platform())
    for subdir, packages in (("noarch", records), (platform, {})):
        (channel / subdir).mkdir(exist_ok=True)
        index = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": packages}
        (channel / subdir / "repodata.json").write_text(json.dumps(index, indent=1))


def build_standin_channel(channel: Path, scratch: Path) -> list[str]:
    """Make the local channel of stand-ins for the recipe; return the names packaged."""
    python_version = stage_python(scratch / "python")
    _assemble("python", python_version, scratch / "python", channel)
    host = ["pip", "hatchling"]
    run = [Requirement(text).name for text in pyproject_project()["dependencies"]]
    closure = dependency_closure(run + host)
    for name, distribution in sorted(closure.items()):
        stage = scratch / name
        stage_distribution(distribution, stage)
        depends = ["python"] + [conda_name(r) for r in _direct_requirements(distribution)]
        _assemble(conda_name(name), _conda_version(distribution.version), stage, channel, depends)
    write_repodata(channel)
    return ["python"] + sorted(conda_name(name) for name in closure)


class PlainLog:
    """rattler-build progress callback that prints build steps and log lines as plain text."""

    def on_download_start(self, event):
        pass

    def on_download_progress(self, event):
        pass

    def on_download_complete(self, event):
        pass

    def on_build_step(self, event):
        print(f"[{event.step_name}] {event.message}", flush=True)

    def on_log(self, event):
        print(f"{event.level}: {event.message}", flush=True)


def build_recipe(channel: Path, output: Path):
    """Build the recipe against ``channel`` only and run its tests; return the build results."""
    from rattler_build import Stage0Recipe, ToolConfiguration, VariantConfig

    recipe = Stage0Recipe.from_file(RECIPE_DIR / "recipe.yaml")
    # the stand-in channel holds only this interpreter, so python_min is its minor version
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    variants = VariantConfig.from_yaml(f'python_min: ["{minor}"]\n')
    tools = ToolConfiguration(test_strategy="native", channel_priority="strict")
    return recipe.run_build(variant_config=variants, tool_config=tools, output_dir=output,
                            channels=[channel.as_uri()], progress_callback=PlainLog())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the channel and the build here (default: a temporary directory)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="skcausal-conda-"))
    channel, output = workdir / "channel", workdir / "output"
    for stale in (channel, output, workdir / "stage"):
        shutil.rmtree(stale, ignore_errors=True)
    names = build_standin_channel(channel, workdir / "stage")
    print(f"stand-in channel {channel}: {len(names)} packages: {' '.join(names)}")
    for result in build_recipe(channel, output):
        print(f"built {result.name} {result.version}: {', '.join(map(str, result.packages))}")
    print("conda recipe built and its tests passed")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
