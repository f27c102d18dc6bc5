"""One runner per run folder: a lock file holding the owner's pid and host.

:func:`run_lock` takes an exclusive ``flock`` on ``{run_dir}/runner.lock`` for the whole run and
writes the owner (pid, host, start time) into the file. The operating system drops the lock when
its process ends, however it ends (``kill -9`` included), so a crashed runner never blocks the
folder: the next runner takes the lock over and, finding the crashed owner's record still in the
file (a runner that ends normally empties it), warns that it does. While the owner lives, a
second runner on the folder refuses with :class:`RunLockedError` naming the owner, or waits for
it with ``wait=True``. Since only the lock's holder writes to the folder, cleaning up the
temporary folders of a killed writer never touches those of a live runner.

The file is never deleted (deleting a lock file that another process is waiting on would let
two runners in). ``flock`` is POSIX; on network file systems it holds where the file system
implements it (NFS v4 does).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
import warnings
from pathlib import Path

__all__ = ["LOCK_FILE", "RunLockedError", "run_lock"]

LOCK_FILE = "runner.lock"


class RunLockedError(RuntimeError):
    """Another live runner holds the run folder.

    Examples
    --------
    >>> import tempfile
    >>> from skcausal_meta.pipeline import RunLockedError, run_benchmark
    >>> from skcausal_meta.pipeline.lock import run_lock
    >>> with tempfile.TemporaryDirectory() as tmp, run_lock(tmp):  # as if another runner held the folder
    ...     run_benchmark({"name": "tiny", "families": ["id"], "models": [{"name": "empty"}]}, output_dir=tmp)
    Traceback (most recent call last):
    skcausal_meta.pipeline.lock.RunLockedError: run folder '...' is in use by another runner (pid ...);
    wait for it to finish, or pass wait=True (--wait on the command line) to start after it
    """


def _owner(fd: int) -> str | None:
    """The owner recorded in the lock file, as words (``None`` when the file is empty)."""
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    if not raw.strip():
        return None
    try:
        record = json.loads(raw)
        return f"pid {record['pid']} on host {record['host']!r}, started {record['started']}"
    except (ValueError, TypeError, KeyError):
        return f"an unreadable owner record {raw[:80]!r}"


@contextlib.contextmanager
def run_lock(run_dir, wait: bool = False):
    """Hold the lock of ``run_dir`` inside the block.

    Parameters
    ----------
    run_dir : path-like
        The run folder (created if missing).
    wait : bool, default=False
        Wait for a live owner to finish instead of refusing.

    Raises
    ------
    RunLockedError
        When another live runner holds the folder and ``wait`` is False.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(fd) or "a runner starting up"
            if not wait:
                raise RunLockedError(
                    f"run folder {str(run_dir)!r} is in use by another runner ({owner}; lock file {str(path)!r}); "
                    "wait for it to finish, or pass wait=True (--wait on the command line) to start after it"
                ) from None
            print(f"waiting for the runner that holds {str(run_dir)!r} ({owner})", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        crashed = _owner(fd)
        if crashed is not None:
            warnings.warn(f"run folder {str(run_dir)!r}: taking over the lock of a runner that ended without "
                          f"releasing it ({crashed}; killed?); its unfinished tasks are run again", stacklevel=3)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        os.fsync(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a normal end: no owner left behind
    finally:
        os.close(fd)  # releases the flock
