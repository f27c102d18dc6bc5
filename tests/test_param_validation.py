"""Every registered estimator declares its constructor parameters in ``_parameter_constraints``
and ``fit`` checks the table before any work (issue 20).

scikit-learn's ``check_param_validation`` asserts that the table lists exactly the constructor
parameters and that a value of a wrong type, and a value outside each interval or set of
options, makes ``fit`` raise ``InvalidParameterError`` naming the estimator and the parameter.
"""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation

from skcausal_meta.models._constraints import Devices, Widths
from skcausal_meta.models.base import BaseCausalEstimator
from skcausal_meta.models.registry import ESTIMATORS, get_estimator_class

NAMES = list(ESTIMATORS)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_table_is_checked_by_fit(name):
    cls = get_estimator_class(name)
    estimator = cls()
    assert set(cls._parameter_constraints) == set(estimator.get_params(deep=False))
    check_param_validation(cls.__name__, estimator)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_pass_validation(name):
    get_estimator_class(name)()._validate_params()


def test_error_names_estimator_parameter_and_value():
    cls = get_estimator_class("dibs")
    message = "The 'n_steps' parameter of DibsEstimator must be an int in the range [1, inf) or None. Got 0 instead."
    with pytest.raises(InvalidParameterError) as info:
        cls(n_steps=0).fit(np.random.default_rng(0).normal(size=(20, 3)))
    assert str(info.value) == message
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("value", [True, np.bool_(False), 1.5, float("nan"), -1, "2"])
def test_counts_refuse_bools_floats_and_strings(value):
    with pytest.raises(InvalidParameterError, match="'n_steps' parameter of BayesDAGEstimator"):
        get_estimator_class("bayesdag")(n_steps=value)._validate_params()


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), 0, "0.1"])
def test_rates_refuse_bools_non_finite_and_strings(value):
    with pytest.raises(InvalidParameterError, match="'learning_rate' parameter of BayesDAGEstimator"):
        get_estimator_class("bayesdag")(learning_rate=value)._validate_params()


@pytest.mark.parametrize("random_state", [None, 0, 2**40, np.int64(3), np.random.SeedSequence(1),
                                          np.random.default_rng(0)])
def test_random_state_accepts_what_check_random_state_accepts(random_state):
    get_estimator_class("empty")(random_state=random_state)._validate_params()


@pytest.mark.parametrize("random_state", [-1, 1.5, "0", np.random.RandomState(0)])
def test_random_state_refuses_the_rest(random_state):
    with pytest.raises(InvalidParameterError, match="'random_state' parameter of EmptyGraphEstimator"):
        get_estimator_class("empty")(random_state=random_state)._validate_params()


def test_devices_constraint():
    torch = pytest.importorskip("torch")
    devices = Devices()
    for ok in ("auto", "cpu", "cuda", "cuda:1", torch.device("cpu")):
        assert devices.is_satisfied_by(ok), ok
    for bad in ("banana", "", None, 0, object()):
        assert not devices.is_satisfied_by(bad), bad


def test_widths_constraint():
    assert Widths().is_satisfied_by((4, 2)) and Widths().is_satisfied_by([3])
    assert Widths(allow_empty=True).is_satisfied_by(())
    for bad in ((), (0,), (2, True), (1.5,), "4", 4):
        assert not Widths().is_satisfied_by(bad), bad


def test_a_subclass_without_its_own_table_inherits_the_base_one():
    class _Minimal(BaseCausalEstimator):
        def __init__(self, standardize=True, device="auto", random_state=None, extra=None):
            self.standardize, self.device, self.random_state, self.extra = standardize, device, random_state, extra

    _Minimal(extra=object())._validate_params()  # parameters the table does not list are not checked
    with pytest.raises(InvalidParameterError, match="'standardize' parameter of _Minimal must be"):
        _Minimal(standardize="yes")._validate_params()
