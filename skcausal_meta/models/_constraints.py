"""The constraints of the estimators' parameter tables that scikit-learn does not provide.

Every estimator declares the values each constructor parameter accepts in a class attribute
``_parameter_constraints`` (scikit-learn's format, ``sklearn.utils._param_validation``), and
:meth:`~skcausal_meta.models.base.BaseCausalEstimator.fit` checks the table before any work:
a bad value raises :class:`~sklearn.utils._param_validation.InvalidParameterError` (a
``ValueError`` and a ``TypeError``) naming the estimator, the parameter, what it accepts and the
value given. No torch here: :class:`Devices` imports it only to read a device name.
"""

from __future__ import annotations

import sys
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options

__all__ = ["Devices", "NON_NEGATIVE_FLOAT", "NON_NEGATIVE_INT", "Number", "OPEN_UNIT", "POSITIVE_FLOAT",
           "POSITIVE_INT", "RANDOM_STATE", "Widths"]


class Number(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that refuses bools: ``True`` is an
    ``int`` to Python, but never a count, a rate or a width here. NaN is outside every interval,
    and so is infinity unless the interval is closed at an unbounded end."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


POSITIVE_INT = Number(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Number(Integral, 0, None, closed="left")
POSITIVE_FLOAT = Number(Real, 0, None, closed="neither")  # finite and > 0
NON_NEGATIVE_FLOAT = Number(Real, 0, None, closed="left")  # finite and >= 0
OPEN_UNIT = Number(Real, 0, 1, closed="neither")  # a probability strictly between 0 and 1

# what skcausal_meta._validation.check_random_state accepts (scikit-learn's "random_state" takes
# a legacy RandomState instead of a Generator or a SeedSequence, and no int above 2**32 - 1)
RANDOM_STATE = [None, Interval(Integral, 0, None, closed="left"), np.random.SeedSequence, np.random.Generator]


class _Test(Options):
    """Base of the constraints below, whose valid values are those passing ``is_satisfied_by``
    (scikit-learn's validation takes only its own constraint classes: these are ``Options``
    with a test for a set too large to list)."""

    def __init__(self):
        super().__init__(object, set())


class Widths(_Test):
    """Hidden-layer widths: a tuple or list of ints >= 1, non-empty unless ``allow_empty``."""

    def __init__(self, allow_empty: bool = False):
        super().__init__()
        self.allow_empty = allow_empty

    def is_satisfied_by(self, val):
        return (isinstance(val, (tuple, list)) and (self.allow_empty or len(val) > 0)
                and all(POSITIVE_INT.is_satisfied_by(width) for width in val))

    def __str__(self):
        return f"a {'' if self.allow_empty else 'non-empty '}tuple or list of ints >= 1"


class Devices(_Test):
    """``"auto"``, or a device torch can name: a string such as ``"cpu"``, ``"cuda"`` or
    ``"cuda:1"``, or a :class:`torch.device` (whether this machine has it is checked by ``fit``,
    see :func:`~skcausal_meta.models.devices.resolve_device`)."""

    def is_satisfied_by(self, val):
        if isinstance(val, str) and val in ("auto", "cpu"):
            return True
        if not isinstance(val, str):  # a torch.device exists only once torch is imported
            return "torch" in sys.modules and isinstance(val, sys.modules["torch"].device)
        import torch

        try:
            torch.device(val)
        except (RuntimeError, TypeError):
            return False
        return True

    def __str__(self):
        return "'auto', a device name such as 'cpu', 'cuda' or 'cuda:1', or a torch.device"
