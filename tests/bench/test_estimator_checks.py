"""scikit-learn's checks over every registered classifier, imbalanced-learn's over every method.

Built from the registries like the contract suite (one test per component and check); the checks a
class declares in ``estimator_xfail`` run as strict expected failures, with the reason declared there.
"""

import numpy as np
import pytest
from imblearn.utils.estimator_checks import parametrize_with_checks as parametrize_with_sampler_checks
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from bench.components import Method
from bench.estimator import IMBLEARN_TABLE_CHECKS, SKLEARN_TABLE_CHECKS
from bench.registry import CLASSIFIERS, METHODS
from bench.testing.contracts import INFO, toy_data
from bench.testing.estimators import as_over_sampler, expected_failures, tiny_estimator

as_over_sampler()
CLASSIFIER_ESTIMATORS = [tiny_estimator(CLASSIFIERS.get(name)) for name in CLASSIFIERS.names()]
METHOD_ESTIMATORS = [tiny_estimator(METHODS.get(name)) for name in METHODS.names()]


def fits_tables(estimator) -> bool:
    """False for a component that learns from windows only (it declares every flat-table check a failure)."""
    failing = set(expected_failures(estimator))
    return not (failing >= set(SKLEARN_TABLE_CHECKS) or failing >= set(IMBLEARN_TABLE_CHECKS))


@parametrize_with_checks([e for e in CLASSIFIER_ESTIMATORS if fits_tables(e)], expected_failed_checks=expected_failures)
def test_classifier_passes_scikit_learn_checks(estimator, check):
    check(estimator)


@parametrize_with_sampler_checks([e for e in METHOD_ESTIMATORS if fits_tables(e)],
                                 expected_failed_checks=expected_failures)
def test_method_passes_imbalanced_learn_sampler_checks(estimator, check):
    check(estimator)


# The window-only (torch) components: the checks that do not fit flat tables, and the table checks as
# strict expected failures; a minute on 2 cores, so they run with `make test-slow`.
@pytest.mark.slow
@parametrize_with_checks([e for e in CLASSIFIER_ESTIMATORS if not fits_tables(e)],
                         expected_failed_checks=expected_failures)
def test_window_classifier_passes_the_scikit_learn_checks_it_can(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_sampler_checks([e for e in METHOD_ESTIMATORS if not fits_tables(e)],
                                 expected_failed_checks=expected_failures)
def test_window_method_passes_the_imbalanced_learn_checks_it_can(estimator, check):
    check(estimator)


def test_every_declared_failure_names_a_check_and_gives_a_reason():
    for estimator in CLASSIFIER_ESTIMATORS + METHOD_ESTIMATORS:
        for check, reason in expected_failures(estimator).items():
            assert check.startswith("check_") and len(reason) > 30, (type(estimator).__name__, check, reason)


def test_harness_construction_is_the_constructor_with_the_config_fields():
    cls = METHODS.get("smote")
    config = cls.Config(k_neighbors=3)
    method = cls.from_config(config, info=INFO, device="cpu")
    assert method.config == config and method.info == INFO
    assert clone(method).get_params() == method.get_params()
    assert cls(k_neighbors=3, **{k: getattr(INFO, k) for k in ("sfreq", "ch_names", "grid", "band_names",
                                                                 "class_names")}).get_params() == method.get_params()


def test_a_bad_parameter_is_reported_at_fit_not_at_construction():
    svm = CLASSIFIERS.get("svm")(C=-1.0)
    X, y = toy_data("de")
    with pytest.raises(ValueError, match="C must be > 0"):
        svm.fit(X, y)


@pytest.mark.parametrize("strategy, added", [("auto", {0: 0, 1: 10, 2: 14}), ("balance", {0: 0, 1: 10, 2: 14}),
                                             ("ratio=0.5", {0: 12, 1: 7, 2: 5}), ({"sad": 30}, {0: 0, 1: 0, 2: 20}),
                                             ("counts=1:3", {0: 0, 1: 3, 2: 0}), ("none", {0: 0, 1: 0, 2: 0})])
def test_sampling_strategy_takes_imbalanced_learn_forms_and_bench_policies(strategy, added):
    X, y = toy_data("de")  # 24, 14, 10 windows
    labels = np.array(["calm", "happy", "sad"])[y]
    X_res, y_res = METHODS.get("noise")(sampling_strategy=strategy, random_state=0).fit_resample(X, labels)
    counts = dict(zip(*np.unique(y_res, return_counts=True)))
    assert {c: counts[name] - n for c, (name, n) in enumerate(zip(("calm", "happy", "sad"), (24, 14, 10)))} == added
    assert X_res.shape == (len(y_res), 32, 5) and np.array_equal(X_res[: len(X)], X)


def test_fit_resample_is_seeded_by_random_state():
    X, y = toy_data("de")
    first, again, other = (METHODS.get("noise")(random_state=s).fit_resample(X, y)[0] for s in (0, 0, 1))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_a_classifier_learns_string_labels_and_predicts_them():
    X, y = toy_data("de")
    names = np.array(["calm", "happy", "sad"])[y]
    svm = CLASSIFIERS.get("svm")(random_state=0).fit(X, names)
    assert list(svm.classes_) == ["calm", "happy", "sad"] and set(svm.predict(X)) <= set(svm.classes_)
    assert svm.score(X, names) > 0.5


def test_methods_are_samplers_for_imbalanced_learn():
    from imblearn.base import is_sampler

    assert all(is_sampler(m) for m in METHOD_ESTIMATORS) and isinstance(METHOD_ESTIMATORS[0], Method)
