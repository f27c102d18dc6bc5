"""Files the library keeps: atomic writes (a reader sees the old file or the new one, never half
of one) and JSON caches read back leniently (a bad cache is recomputed, not fatal)."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from ._validation import read_json

__all__ = ["atomic_write_bytes", "read_cache"]


def atomic_write_bytes(path, payload: bytes, mode: int = 0o644) -> Path:
    """Write ``payload`` to ``path`` through a synced temporary file in the same folder and a rename.

    ``mode`` sets the permissions (``mkstemp`` creates files readable by their owner only).
    Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_cache(path, check, what: str) -> dict:
    """The record of the JSON cache ``path``, as ``check(record)`` returns it, or an empty dict.

    No file gives an empty dict silently; an unreadable file, or one ``check`` refuses with a
    ``ValueError`` (truncated by a crash, edited), gives an empty dict and a warning naming
    ``what`` and the file, so that the caller recomputes the values and writes the cache again.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        return check(read_json(path))
    except (OSError, ValueError) as exc:
        warnings.warn(f"ignoring the unreadable {what} {str(path)!r} ({exc}); it is rewritten by the next run",
                      stacklevel=3)
        return {}
