"""Where and how the estimators compute: ``device="auto"``, seeded generators, CPU threads and memory."""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform

import numpy as np
import torch

__all__ = ["idle_cores", "intra_op_threads", "resolve_device", "reuse_freed_memory", "torch_generator", "torch_threads"]


def resolve_device(device) -> torch.device:
    """Turn an estimator's ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks ``cuda`` when a CUDA device is available and ``cpu`` otherwise; any other
    string or :class:`torch.device` is used as given, and asking for CUDA without one is an error.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA device is available")
    return resolved


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from the numpy generator ``rng``.

    This keeps all randomness derived from the estimator's ``random_state`` and never touches
    torch's global RNG.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**63 - 1)))
    return generator


# Work per tensor operation (elements) below which one intra-op thread is the default: the
# per-data-set samplers' tensors at ood.yml sizes (d = 10, a few hundred rows, 1e5-1e6 elements)
# gain at most ~10% from a second thread on quiet cores and lose up to 30x when the cores are
# busy (threads spin-waiting on each other every few microseconds).
SMALL_WORK = 2**22


def idle_cores() -> int | None:
    """Cores this process may use minus the other runnable tasks right now (Linux), else ``None``.

    Reads the instantaneous count of runnable tasks in ``/proc/loadavg`` (the fourth field,
    which counts this process too), not the load averages, which lag by a minute.
    """
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        return len(os.sched_getaffinity(0)) - (running - 1)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def intra_op_threads(n_threads, work):
    """The torch intra-op thread count a fit uses.

    ``n_threads`` if given; else 1 for small work (``work < SMALL_WORK``); else torch's current
    setting, lowered to the cores idle right now (at least 1): a thread that has to wait for a
    busy core stalls the others at every synchronisation (measured: an AVICI forward 6.4x
    slower with 2 threads than with 1 while two other processes kept the 2 cores busy, 1.5x
    faster on quiet cores).

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads`` parameter; ``None`` chooses as above.
    work : int
        Elements in the fit's largest routine tensor operation.

    Returns
    -------
    int
    """
    if n_threads is not None:
        return n_threads
    if work < SMALL_WORK:
        return 1
    idle = idle_cores()
    return torch.get_num_threads() if idle is None else max(1, min(torch.get_num_threads(), idle))


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``; the previous count is restored."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_ALLOCATOR = {"tuned": False}


def reuse_freed_memory() -> bool:
    """Let glibc's ``malloc`` serve buffers of up to 32 MiB from its heap and keep 64 MiB freed.

    glibc hands a buffer above its mmap threshold (128 KiB at start) fresh pages from the kernel
    and returns them on ``free``, so a sampler that allocates the same few-MiB temporaries every
    step pays a page fault per 4 KiB each time (measured: DiBS 14.5 vs 11.5 ms per step at
    ood.yml sizes). glibc raises the threshold by itself, up to 32 MiB, once a large buffer is
    freed; this sets that maximum at once, with a trim threshold of 64 MiB. The process may then
    hold up to 64 MiB of freed memory. Done once per process; on other C libraries it does
    nothing and returns ``False``.
    """
    if _ALLOCATOR["tuned"]:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    _ALLOCATOR["tuned"] = bool(libc.mallopt(m_mmap_threshold, 32 * 2**20)) and bool(
        libc.mallopt(m_trim_threshold, 64 * 2**20))
    return _ALLOCATOR["tuned"]
