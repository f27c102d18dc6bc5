"""Benchmark pipeline: one YAML config -> tasks -> parallel, resumable runs -> tables and plots.

``config`` (pydantic schema), ``tasks`` (grid expansion and task data), ``scoring`` (the metric registry), ``evaluate`` (what a
worker does), ``artifacts`` (atomic, hash-checked task folders), ``runner`` (orchestration),
``distances`` (family distances for the report), ``report`` (CSV, Markdown, PNG), ``lock`` (one
runner per run folder) and ``tracking`` (optional MLflow). See DESIGN section 7.
"""

from .config import Config, ConfigError, load_config
from .lock import RunLockedError
from .report import load_results, write_report
from .runner import RunSummary, run_benchmark

__all__ = ["Config", "ConfigError", "load_config", "run_benchmark", "RunSummary", "RunLockedError", "write_report",
           "load_results"]
