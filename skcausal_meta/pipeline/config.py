"""The benchmark configuration: a pydantic schema, loaded from YAML by a bounded safe loader.

A config names the SCM families (registered names or inline definitions), the data-set sizes and
seed, the models with fixed parameters and parameter grids, the metrics, the runtime (``n_jobs``,
joblib backend, devices), the output directory and optional MLflow logging. Everything is
checked before any work starts: an invalid file raises :class:`ConfigError` whose message names
each offending field, the value given and what is allowed. The one exception is the *values* of
estimator parameters (their names are checked): as in scikit-learn, each estimator checks them
when it fits, so a bad value fails that model's tasks with the estimator's message. Example::

    name: quick
    data: {n_datasets: 2, n_nodes: 5, n_samples: 30, n_interventional: 10, seed: 0}
    families: [id, ood_mech_mlp, {name: ood_nodes_small, n_nodes: 4}, {name: sachs, n_samples: 400}]
    models:
      - name: dibs
        params: {n_particles: 4, n_steps: 50}
        grid: {preset: [marginal, joint-linear]}
    metrics: [e_shd, edge_auroc, nil, i_nil, time]
    runtime: {n_jobs: 2, backend: loky}

``sachs`` is a *real* family (:mod:`skcausal_meta.pipeline.real`): its data sets are seeded splits
of the Sachs rows, with held-out rows in place of an SCM for NIL and I-NIL.
"""

from __future__ import annotations

import importlib.util
import reprlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sklearn.model_selection import ParameterGrid

from .._validation import parse_yaml
from ..datasets import SCMFamily, get_family, list_families
from ..models.registry import get_estimator_class, list_estimators
from .scoring import METRICS
from .real import RealSizes, list_real_families, load_real, resolve_sizes

__all__ = ["Config", "ConfigError", "DataConfig", "FamilyConfig", "ModelConfig", "RuntimeConfig",
           "MlflowConfig", "ReportConfig", "load_config"]

DEFAULT_METRICS = ("e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil", "graph_entropy", "edge_entropy", "time")
MetricName = Literal[tuple(METRICS)]  # the names of the pipeline's one metric registry
_BACKEND_EXTRAS = {"dask": ("distributed", "dask"), "ray": ("ray", "ray")}


class ConfigError(ValueError):
    """An invalid benchmark configuration (raised before any work is done)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    """Data-set sizes and seeds shared by every family (a family entry may override sizes).

    ``None`` sizes take the family's defaults. ``n_test`` observational and
    ``n_test_interventional`` interventional held-out rows are drawn per data set from its true
    SCM for NIL and I-NIL (held out from the rows of a real family, whose ``None`` training
    sizes mean all remaining rows). ``cache`` is the data-set cache root (the library default if None).
    """

    n_datasets: int = Field(5, ge=1)
    n_nodes: int | None = Field(None, ge=2)
    n_samples: int | None = Field(None, ge=1)
    n_interventional: int | None = Field(None, ge=0)
    n_test: int = Field(200, ge=1)
    n_test_interventional: int = Field(200, ge=1)
    seed: int = Field(0, ge=0)
    split: Literal["train", "val", "test"] = "test"
    cache: Path | None = None


class FamilyConfig(_Strict):
    """One family: a registered name, a new name with an inline ``definition``, or a real data set.

    ``definition`` holds the keys of :meth:`SCMFamily.from_dict` except ``name``. The sizes, when
    given, override those of the ``data`` section for this family (e.g. its number of nodes).
    A real family (a name in :func:`~skcausal_meta.pipeline.real.list_real_families`, e.g.
    ``sachs``) has fixed nodes, so it takes no ``n_nodes`` or ``definition``; ``n_samples`` and
    ``n_interventional`` count its observational and interventional training rows, and
    ``options`` are passed to its loader (for ``sachs``: ``graph``, ``log_transform``).
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.+-]+$")
    definition: dict[str, Any] | None = None
    n_nodes: int | None = Field(None, ge=2)
    n_samples: int | None = Field(None, ge=1)
    n_interventional: int | None = Field(None, ge=0)
    options: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @property
    def is_real(self) -> bool:
        """Whether the entry is a real data set rather than an SCM family."""
        return self.name in list_real_families()

    @model_validator(mode="after")
    def _known_or_defined(self):
        if self.is_real:
            self._check_real()
        else:
            self._check_scm()
        return self

    def _check_real(self) -> None:
        """A real data set: not also an SCM family's name, no SCM fields, valid options."""
        if self.name in list_families():
            raise ValueError(f"family name {self.name!r} is both a real data set and a registered SCM "
                             "family; register the SCM family under another name")
        given = [k for k in ("definition", "n_nodes") if getattr(self, k) is not None]
        if given:
            raise ValueError(f"family {self.name!r} is a real data set with fixed nodes; it takes no {given}")
        load_real(self.name, self.options)  # checks the option names and values

    def _check_scm(self) -> None:
        """An SCM family: registered, or defined inline without clashing with a registered one."""
        if self.options is not None:
            raise ValueError(f"'options' apply only to real families {list_real_families()}, not to {self.name!r}")
        if self.definition is not None and self.definition.get("name", self.name) != self.name:
            raise ValueError(f"the definition of family {self.name!r} must not have another 'name' "
                             f"(got {self.definition['name']!r}); the entry's name is the family's")
        if self.definition is None:
            if self.name not in list_families():
                raise ValueError(f"unknown family {self.name!r}; registered families: {list_families()}, "
                                 f"real families: {list_real_families()} (or give an inline 'definition')")
            return
        self.definition = {k: v for k, v in self.definition.items() if k != "name"}
        family = SCMFamily.from_dict({"name": self.name, **self.definition})
        if self.name in list_families() and get_family(self.name).to_dict() != family.to_dict():
            raise ValueError(f"family {self.name!r} is already registered with another definition; "
                             "choose a new name for the inline family")

    def family(self) -> SCMFamily:
        """The SCM family (registered, or built from the inline definition); not for a real family."""
        if self.is_real:
            raise ValueError(f"family {self.name!r} is a real data set, not an SCM family")
        if self.definition is None:
            return get_family(self.name)
        return SCMFamily.from_dict({"name": self.name, **self.definition})


class ModelConfig(_Strict):
    """One model: a registered estimator name, fixed ``params`` and a parameter ``grid``.

    ``grid`` is a dict of lists or a list of such dicts (as in scikit-learn's ``ParameterGrid``);
    every grid point becomes a parameter set. ``label`` (default: ``name``) names the model in
    artifacts and reports, so two entries of one estimator need different labels.
    """

    name: str
    label: str | None = Field(None, min_length=1, pattern=r"^[A-Za-z0-9_.+-]+$")
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list] | list[dict[str, list]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in list_estimators():
            raise ValueError(f"unknown model {value!r}; registered models: {list_estimators()}")
        return value

    @model_validator(mode="after")
    def _known_parameters(self):
        try:
            estimator_class = get_estimator_class(self.name)
        except ImportError as exc:
            raise ValueError(f"model {self.name!r} cannot be imported: {exc}") from None
        allowed = sorted(estimator_class().get_params())
        grids = self.grid if isinstance(self.grid, list) else [self.grid]
        for source, keys in [("params", self.params), *(("grid", g) for g in grids)]:
            unknown = sorted(set(keys) - set(allowed))
            if unknown:
                raise ValueError(f"unknown parameters {unknown} in {source} of model {self.name!r}; "
                                 f"its parameters are {allowed}")
        empty = sorted({k for g in grids for k, values in g.items() if not values})
        if empty:
            raise ValueError(f"grid parameters {empty} of model {self.name!r} have no values, "
                             "so the grid expands to zero tasks")
        overlap = sorted({k for g in grids for k in g} & set(self.params))
        if overlap:
            raise ValueError(f"parameters {overlap} of model {self.name!r} are both fixed (params) and in the grid")
        return self

    @property
    def key(self) -> str:
        """The name of the model in artifacts and reports."""
        return self.label or self.name

    def parameter_sets(self) -> list[dict]:
        """Every parameter set: the fixed params updated by each grid point."""
        return [{**self.params, **point} for point in ParameterGrid(self.grid)]


class RuntimeConfig(_Strict):
    """How tasks run: ``n_jobs`` workers (-1: all cores) of a joblib backend on ``devices``.

    ``backend: dask`` needs ``address`` (a running ``distributed`` scheduler). ``devices``:
    ``"auto"`` uses every visible GPU round robin, else the CPU; a list is used as given.
    """

    n_jobs: int = 1
    backend: Literal["loky", "dask", "ray"] = "loky"
    address: str | None = None
    devices: Literal["auto"] | list[str] = "auto"

    @field_validator("n_jobs")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError(f"n_jobs must be a positive int or -1 (all cores), got {value}")
        return value

    @field_validator("devices")
    @classmethod
    def _some_device(cls, value):
        if isinstance(value, list) and not value:
            raise ValueError("devices must list at least one device (or be 'auto')")
        return value

    @model_validator(mode="after")
    def _backend_ready(self):
        if self.backend == "dask" and not self.address:
            raise ValueError("backend 'dask' needs 'address', the scheduler of a running dask.distributed cluster")
        if self.backend in _BACKEND_EXTRAS:
            module, extra = _BACKEND_EXTRAS[self.backend]
            if importlib.util.find_spec(module) is None:
                hint = f"pip install 'skcausal-meta[{extra}]'" if extra else f"pip install {module}"
                raise ValueError(f"backend {self.backend!r} needs the {module!r} package ({hint})")
        return self


class MlflowConfig(_Strict):
    """MLflow logging by the parent process, one MLflow run per task.

    ``tracking_uri`` defaults to a local store in ``{output_dir}/mlruns``; ``experiment`` to the
    config's name.
    """

    tracking_uri: str | None = None
    experiment: str | None = None

    @model_validator(mode="after")
    def _installed(self):
        if importlib.util.find_spec("mlflow") is None:
            raise ValueError("mlflow logging needs the 'mlflow' package (pip install 'skcausal-meta[mlflow]')")
        return self


class ReportConfig(_Strict):
    """The report: ``plots`` turns the PNG plots on or off; metric-vs-distance plots need each
    family's distance from ``reference``, estimated from ``distance_datasets`` data sets per family
    (``distances: false`` skips them)."""

    plots: bool = True
    distances: bool = True
    reference: str = "id"
    distance_datasets: int = Field(10, ge=2)


class Config(_Strict):
    """A whole benchmark (see the module docstring for an example)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    output_dir: Path | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    families: list[FamilyConfig]
    models: list[ModelConfig]
    metrics: list[MetricName] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    mlflow: MlflowConfig | None = None
    report: ReportConfig = Field(default_factory=ReportConfig)

    @model_validator(mode="after")
    def _consistent(self):
        self._check_unique_names()
        self._check_real_sizes()
        self._check_reference()
        self._check_grid_not_empty()
        return self

    def _check_unique_names(self) -> None:
        for what, names in (("family", [f.name for f in self.families]), ("model label", [m.key for m in self.models])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{what} names must be unique, got {repeated} more than once")

    def _check_real_sizes(self) -> None:
        for k, entry in enumerate(self.families):
            if entry.is_real:
                try:
                    self.real_sizes(entry)
                except ValueError as exc:
                    raise ValueError(f"families.{k} ({entry.name}): {exc}") from None

    def _check_reference(self) -> None:
        known = list_families() + [f.name for f in self.families]
        if self.report.reference not in known:
            raise ValueError(f"report.reference {self.report.reference!r} is not a family; known families: {known}")

    def _check_grid_not_empty(self) -> None:
        n_sets = sum(len(m.parameter_sets()) for m in self.models)
        if not self.families or n_sets == 0 or not self.metrics:
            raise ValueError(
                f"the grid expands to zero tasks ({len(self.families)} families x {self.data.n_datasets} data sets x "
                f"{n_sets} model parameter sets, {len(self.metrics)} metrics); every list needs an entry")

    def real_sizes(self, entry: FamilyConfig) -> RealSizes:
        """Row counts of each split of the real family ``entry`` (its training-size overrides,
        else the ``data`` section's; held-out sizes from ``data``)."""
        d = self.data
        return resolve_sizes(load_real(entry.name, entry.options),
                             d.n_samples if entry.n_samples is None else entry.n_samples,
                             d.n_interventional if entry.n_interventional is None else entry.n_interventional,
                             d.n_test, d.n_test_interventional)

    @property
    def run_dir(self) -> Path:
        """Where the run writes (``output_dir``, default ``runs/{name}``)."""
        return self.output_dir if self.output_dir is not None else Path("runs") / self.name


_REPR = reprlib.Repr()  # a bounded repr of the offending input, however large it is
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxstring, _REPR.maxother = 3, 8, 8, 120, 120


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid benchmark config {source}:"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {field}: {message} (got {_REPR.repr(item['input'])})")
    return "\n".join(lines)


def _read_source(source) -> tuple[str, object]:
    """``(label, content)``: a file's text, or the YAML text or mapping itself.

    A one-line string is a path unless it is YAML for a mapping, so that ``"cfg.txt"`` or a
    missing ``"cfg.YML"`` is read or reported as a file, never parsed as the YAML scalar it is.
    """
    if isinstance(source, str) and "\n" not in source:
        try:
            is_text = isinstance(parse_yaml(source, "(YAML string)"), dict)
        except ValueError:
            is_text = False
        source = source if is_text else Path(source)
    if not isinstance(source, Path):
        return ("(YAML string)" if isinstance(source, str) else "(dict)"), source
    try:
        return str(source), source.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(source)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(source)!r} cannot be read as UTF-8 text: {exc}") from None


def load_config(source) -> Config:
    """Read and validate a config from a YAML path, a YAML string, a dict or a :class:`Config`.

    YAML is parsed by :func:`~skcausal_meta._validation.parse_yaml`: plain data only, no aliases,
    bounded nesting and size, so a hostile file fails fast.

    Raises
    ------
    ConfigError
        Naming each invalid field, its value and what is allowed (or the file that cannot be read).
    """
    if isinstance(source, Config):
        return source
    label, source = _read_source(source)
    if isinstance(source, str):
        try:
            source = parse_yaml(source, f"config {label}")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if not isinstance(source, dict):
        raise ConfigError(f"config {label} must be a mapping at the top level, got {type(source).__name__}")
    try:
        return Config.model_validate(source)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, label)) from None
