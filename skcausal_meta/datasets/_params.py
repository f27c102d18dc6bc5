"""Scalars-or-ranges: the one convention every prior, mechanism and noise uses for parameters.

A parameter is either a number or a ``[low, high]`` pair. A pair is drawn uniformly each time it
is used (integers, inclusive, when both ends are integers); a number is used as is.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["build", "draw", "draw_many", "draw_signed", "validate_range"]


def _bounds(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"a range must be [low, high], got {value!r}")
        return value[0], value[1]
    return value, value


def validate_range(value, name: str, low=None, high=None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a number or an ordered pair in
    ``[low, high]``."""
    lo, hi = _bounds(value)
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number or a [low, high] range, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} range must satisfy low <= high, got {value!r}")
    if low is not None and lo < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and hi > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")


def _is_int_range(lo, hi) -> bool:
    return isinstance(lo, numbers.Integral) and isinstance(hi, numbers.Integral)


def draw(value, rng: np.random.Generator):
    """One draw of a scalar-or-range parameter."""
    lo, hi = _bounds(value)
    if lo == hi:
        return lo
    if _is_int_range(lo, hi):
        return int(rng.integers(lo, hi + 1))
    # rng.uniform(lo, hi)'s own formula, without its argument handling (a third of a data set's draws)
    return lo + (hi - lo) * rng.random()


def draw_many(value, size, rng: np.random.Generator) -> np.ndarray:
    """``size`` independent draws of a scalar-or-range parameter, as floats."""
    lo, hi = _bounds(value)
    if _is_int_range(lo, hi) and lo != hi:
        return rng.integers(lo, hi + 1, size=size).astype(float)
    return rng.uniform(lo, hi, size=size) if lo != hi else np.full(size, float(lo))


def draw_signed(value, size, rng: np.random.Generator) -> np.ndarray:
    """``sign * U(low, high)`` draws with a fair random sign (AVICI's ``SignedUniform``).

    A float range takes one uniform ``t`` on ``[-(high - low), high - low)`` per draw: the sign of
    ``t`` is the sign and ``low + |t|`` the magnitude (``|t|`` is uniform and independent of the
    sign). An integer range or a number draws the magnitudes with :func:`draw_many`, then the
    signs.
    """
    lo, hi = _bounds(value)
    if lo == hi or _is_int_range(lo, hi):
        return draw_many(value, size, rng) * np.where(rng.random(size) < 0.5, -1.0, 1.0)
    t = rng.random(size)
    t *= 2.0 * (hi - lo)
    t -= hi - lo
    t += np.copysign(lo, t)
    return t


def build(spec, registry: dict, base: type, what: str):
    """An instance of ``base`` from an instance, a kind name or a dict ``{"type": kind, ...}``.

    Used for graph priors, mechanisms and noises, so a family can be written as plain data
    (dict or YAML) and every error names the bad ``type`` or parameter.
    """
    if isinstance(spec, base):
        return spec
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"a {what} must be a name or a dict with a 'type' key, got {spec!r}")
    spec = dict(spec)
    kind = spec.pop("type")
    if kind not in registry:
        raise ValueError(f"unknown {what} type {kind!r}; known: {sorted(registry)}")
    try:
        return registry[kind](**spec)
    except TypeError as exc:
        raise ValueError(f"bad parameters for {what} {kind!r}: {exc}") from None
