"""The sections of a benchmark configuration: data sizes, families, models, runtime, MLflow, report.

Each is a strict pydantic model (unknown keys are errors) that checks its own fields, and what
it names (families, estimators and their parameter names, backends and their extras) exists.
:class:`~skcausal_meta.pipeline.config.Config` puts them together and checks them against each
other.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sklearn.model_selection import ParameterGrid
from sklearn.utils._param_validation import InvalidParameterError

from ..datasets import SCMFamily, get_family, list_families
from ..models.registry import get_estimator_class, list_estimators
from .real import list_real_families, load_real

__all__ = ["DataConfig", "FamilyConfig", "ModelConfig", "RuntimeConfig", "MlflowConfig", "ReportConfig"]

_BACKEND_EXTRAS = {"dask": ("distributed", "dask"), "ray": ("ray", "ray")}

# Estimator parameters renamed before 1.0, old spelling -> (new spelling, what it means). A model
# whose parameter is the new one and whose config still uses the old one gets a pointed error.
_RENAMED_PARAMETERS = {
    "n_samples": ("n_graphs", "the number of posterior graphs; n_samples now only counts rows of data, "
                              "set under data: or per family"),
}


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
            for old in unknown:
                new, meaning = _RENAMED_PARAMETERS.get(old, (None, None))
                if new in allowed:
                    raise ValueError(f"{source} key {old!r} of model {self.name!r} was renamed to {new!r} "
                                     f"({meaning}); write {new!r} instead of {old!r}")
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

    @model_validator(mode="after")
    def _valid_values(self):
        """Every parameter set passes the estimator's own parameter table, so a bad value is
        refused when the config loads instead of failing each of its tasks (estimators without a
        table, e.g. some registered by users, are checked by their own ``fit``)."""
        estimator_class = get_estimator_class(self.name)
        if not hasattr(estimator_class, "_parameter_constraints"):
            return self
        for params in self.parameter_sets():
            try:
                estimator_class(**params)._validate_params()
            except InvalidParameterError as exc:
                raise ValueError(f"model {self.name!r} with {params}: {exc}") from None
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
