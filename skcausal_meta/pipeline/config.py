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

The sections are in :mod:`skcausal_meta.pipeline.config_sections` (re-exported here); this
module holds :class:`Config`, the checks across sections, and loading.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from .._validation import parse_yaml
from ..datasets import list_families
from .config_sections import (
    DataConfig,
    FamilyConfig,
    MlflowConfig,
    ModelConfig,
    ReportConfig,
    RuntimeConfig,
    _Strict,
)
from .real import RealSizes, load_real, resolve_sizes
from .scoring import METRICS

__all__ = ["Config", "ConfigError", "DataConfig", "FamilyConfig", "ModelConfig", "RuntimeConfig",
           "MlflowConfig", "ReportConfig", "load_config"]

DEFAULT_METRICS = ("e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil", "graph_entropy", "edge_entropy", "time")
MetricName = Literal[tuple(METRICS)]  # the names of the pipeline's one metric registry


class ConfigError(ValueError):
    """An invalid benchmark configuration (raised before any work is done).

    Examples
    --------
    Every invalid field is named at once, with the value given:

    >>> from skcausal_meta.pipeline import ConfigError, load_config
    >>> try:
    ...     load_config({"name": "tiny", "families": ["id"], "models": [{"name": "empty", "params": {"alpha": 1}}],
    ...                  "runtime": {"n_jobs": 0}})
    ... except ConfigError as error:
    ...     print(error)
    invalid benchmark config (dict):
      models.0: unknown parameters ['alpha'] in params of model 'empty'; its parameters are [...] (got ...)
      runtime.n_jobs: n_jobs must be a positive int or -1 (all cores), got 0 (got 0)
    """


class Config(_Strict):
    """A whole benchmark (see the module docstring for an example in YAML).

    Examples
    --------
    >>> from skcausal_meta.pipeline import Config
    >>> config = Config(name="tiny", families=["id", {"name": "ood_nodes_small", "n_nodes": 4}],
    ...                 models=[{"name": "empty"}, {"name": "random_dag", "grid": {"edges_per_node": [0.5, 2.0]}}])
    >>> [family.name for family in config.families], config.run_dir.as_posix()
    (['id', 'ood_nodes_small'], 'runs/tiny')
    >>> [model.parameter_sets() for model in config.models]  # a task per family, data set and parameter set
    [[{}], [{'edges_per_node': 0.5}, {'edges_per_node': 2.0}]]
    >>> config.data.n_datasets, config.runtime.n_jobs, config.metrics  # the defaults
    (5, 1, ['e_shd', 'edge_auroc', 'edge_auprc', 'nil', 'i_nil', 'graph_entropy', 'edge_entropy', 'time'])
    """

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

    YAML is parsed by ``skcausal_meta._validation.parse_yaml``: plain data only, no aliases,
    bounded nesting and size, so a hostile file fails fast.

    Raises
    ------
    ConfigError
        Naming each invalid field, its value and what is allowed (or the file that cannot be read).

    Examples
    --------
    >>> from skcausal_meta.pipeline import load_config
    >>> config = load_config("{name: quick, data: {n_datasets: 2, n_nodes: 5}, families: [id], "
    ...                      "models: [{name: var_sortnregress}]}")  # a YAML string, path or dict
    >>> config.data.n_datasets, config.data.n_samples, config.runtime.n_jobs, config.metrics[:3]
    (2, None, 1, ['e_shd', 'edge_auroc', 'edge_auprc'])
    >>> load_config(config) is config
    True
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
