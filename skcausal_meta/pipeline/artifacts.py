"""Per-task artifacts: ``{run_dir}/artifacts/{model}/{run_id}/``, written atomically, hash-checked.

A task folder holds ``config.json`` (the resolved task), ``metrics.json`` (status, metric values,
per-metric errors, the traceback of a failed task), ``timings.json``, ``environment.json``,
``posterior.npz`` (successful tasks only) and ``manifest.json``, the SHA-256 of every other file.

Atomicity: all files are written into a hidden temporary folder beside the target, which is then
renamed into place (a directory rename is atomic on POSIX). A reader therefore sees either no
folder or a complete one, and a read that straddles a replace is retried (:func:`read_artifact`);
leftovers of a killed writer are hidden folders removed by :func:`clean_partial` (only the
holder of the run folder's lock writes there, :mod:`~skcausal_meta.pipeline.lock`). Corruption
after the fact (an edited or truncated file) is caught by the manifest hashes:
:func:`read_artifact` then returns ``None`` and the task is rerun.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from .._validation import parse_json, read_json

__all__ = ["ARTIFACTS", "MANIFEST", "TASKS_FILE", "task_dir", "write_artifact", "read_artifact", "clean_partial",
           "iter_artifacts"]

ARTIFACTS = "artifacts"
MANIFEST = "manifest.json"
TASKS_FILE = "tasks.json"  # run ids of the latest config run in the folder


def task_dir(run_dir, model: str, run_id: str) -> Path:
    """The folder of one task's artifacts."""
    return Path(run_dir) / ARTIFACTS / model / run_id


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _write(path: Path, payload: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def write_artifact(folder, files: dict[str, bytes]) -> None:
    """Write ``files`` (name -> content) plus a manifest as the folder ``folder``, atomically.

    An existing folder (a corrupt or failed earlier attempt) is replaced: it is first renamed
    to a hidden name, so that at no moment a partial folder sits under the task's name.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        for name, payload in files.items():
            _write(tmp / name, payload)
        manifest = {name: _sha256(payload) for name, payload in files.items()}
        _write(tmp / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        if folder.exists():
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
            os.replace(folder, old / "replaced")
            os.rename(tmp, folder)
            shutil.rmtree(old)
        else:
            os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_in(dir_fd: int, name: str) -> bytes:
    """The bytes of ``name`` in the directory open as ``dir_fd``."""
    fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _json_in(dir_fd: int, folder: Path, name: str):
    try:
        text = _read_in(dir_fd, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(folder / name)!r} is not UTF-8 text: {exc}") from None
    return parse_json(text, repr(str(folder / name)))


def _read_checked(dir_fd: int, folder: Path) -> dict:
    """Hash-check and parse the folder open as ``dir_fd``; ``FileNotFoundError`` without a manifest."""
    manifest = _json_in(dir_fd, folder, MANIFEST)
    if not isinstance(manifest, dict):
        raise ValueError(f"{MANIFEST} holds a {type(manifest).__name__}, not an object")
    for name, digest in manifest.items():
        if not isinstance(name, str) or "/" in name or name in (".", "..") or not isinstance(digest, str):
            raise ValueError(f"{MANIFEST} lists {name!r}, not a file name of the folder with its hash")
        if _sha256(_read_in(dir_fd, name)) != digest:
            raise ValueError(f"{name} does not match its hash")
    return {key: _json_in(dir_fd, folder, f"{key}.json") for key in ("config", "metrics", "timings")}


def _still_in_place(dir_fd: int, folder: Path) -> bool:
    """Whether ``folder`` still names the directory open as ``dir_fd``.

    Holding the directory open keeps its inode from being reused, so an equal ``(device, inode)``
    means no replace happened (a plain path ``stat`` before and after could be fooled by reuse).
    """
    try:
        now = os.stat(folder)
    except FileNotFoundError:
        return False
    held = os.fstat(dir_fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def read_artifact(folder, attempts: int = 5) -> dict | None:
    """The parsed ``config.json``, ``metrics.json`` and ``timings.json`` of a task folder.

    Returns ``None`` (with a warning unless the folder is simply missing) when the folder is
    absent, has no manifest, lacks a listed file, or a file's hash does not match. Every file
    is read through one open handle of the folder; a read that fails because
    :func:`write_artifact` replaced the folder meanwhile is retried on the new folder, so a
    concurrent replace is never mistaken for corruption.
    """
    folder = Path(folder)
    for attempt in range(attempts):
        try:
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            return None
        try:
            return _read_checked(dir_fd, folder)
        except (OSError, ValueError) as exc:
            if _still_in_place(dir_fd, folder):
                if isinstance(exc, FileNotFoundError) and exc.filename == MANIFEST:
                    warnings.warn(f"artifact {folder} has no manifest; the task will be rerun", stacklevel=2)
                else:
                    warnings.warn(f"corrupt artifact {folder} ({exc}); the task will be rerun", stacklevel=2)
                return None
        finally:
            os.close(dir_fd)
        time.sleep(0.001 * 2**attempt)  # replaced while read: read the new folder
    warnings.warn(f"artifact {folder} kept changing while read ({attempts} attempts); the task will be rerun",
                  stacklevel=2)
    return None


def clean_partial(run_dir) -> int:
    """Remove the hidden temporary folders a killed writer left behind; returns their number."""
    root = Path(run_dir) / ARTIFACTS
    if not root.is_dir():
        return 0
    leftovers = [p for p in root.glob("*/.*") if p.is_dir() and p.suffix in (".tmp", ".old")]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return len(leftovers)


def _current_run_ids(run_dir: Path) -> set | None:
    """The run ids of the run's ``tasks.json``, or None when the folder has none."""
    if not (run_dir / TASKS_FILE).is_file():
        return None
    try:
        return set(read_json(run_dir / TASKS_FILE))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{str(run_dir / TASKS_FILE)!r} is not a JSON list of run ids: {exc}") from exc


def _of_current_run(folders: list, current: set, run_dir: Path) -> list:
    """The task folders of the run ids ``current``, warning (at :func:`iter_artifacts`' caller)
    about folders of other run ids and about run ids without a folder."""
    stale = [f for f in folders if f.name not in current]
    if stale:
        warnings.warn(f"{len(stale)} artifacts in {run_dir} belong to an earlier config and are left out "
                      f"(e.g. {stale[0]})", stacklevel=3)
    folders = [f for f in folders if f.name in current]
    absent = sorted(current - {f.name for f in folders})
    if absent:
        warnings.warn(f"{len(absent)} of the {len(current)} tasks of {run_dir} have no artifact (not run yet, "
                      f"or deleted; e.g. {absent[0]}); rerun the benchmark to make them", stacklevel=3)
    return folders


def iter_artifacts(run_dir):
    """Yield ``(folder, record)`` for every valid task folder of a run, in sorted order.

    When the run folder has a ``tasks.json`` (written by the runner), folders of other run ids,
    left by an earlier config, are skipped with a warning, and tasks of the run without a folder
    (not run yet, or deleted) are named in a warning.
    """
    run_dir = Path(run_dir)
    folders = [f for f in sorted((run_dir / ARTIFACTS).glob("*/*")) if f.is_dir() and not f.name.startswith(".")]
    current = _current_run_ids(run_dir)
    if current is not None:
        folders = _of_current_run(folders, current, run_dir)
    for folder in folders:
        record = read_artifact(folder)
        if record is not None:
            yield folder, record
