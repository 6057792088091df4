"""The SVM baseline on band DE."""

import numpy as np
import optuna
import pytest
from scipy.special import expit

from bench.classifiers.svm import SVM
from bench.components import DataInfo
from bench.config import from_dict, to_dict
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from datasets.deap import CH_NAMES

BANDS = ("delta", "theta", "alpha", "beta", "gamma")


def info(n_classes=2):
    return DataInfo(sfreq=128.0, ch_names=CH_NAMES, grid="deap", band_names=BANDS,
                    class_names=tuple(f"class-{c}" for c in range(n_classes)))


def toy(n=150, classes=(0, 1), shift=2.0, seed=0):
    """DE windows (n, 32, 5); each class raises the alpha DE of its own four channels."""
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n)
    X = rng.normal(size=(n, 32, 5)).astype(np.float32)
    for c in classes:
        X[y == c, 4 * c : 4 * c + 4, 2] += shift
    return X, y


def fit(X, y, n_classes=2, **config):
    return SVM.from_config(SVM.Config(**config), info=info(n_classes)).fit(X, y, rng=np.random.default_rng(0))


def test_registered_on_de_and_not_differentiable():
    assert CLASSIFIERS.get("svm") is SVM and SVM.representation == "de" and not SVM.differentiable


def test_learns_a_separable_problem_on_held_out_windows():
    clf = fit(*toy())
    X_test, y_test = toy(seed=1)
    p = clf.predict_proba(X_test)
    assert p.shape == (150, 2) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (clf.predict(X_test) == y_test).mean() > 0.9


def test_binary_scores_are_the_sigmoid_of_the_decision_value():
    clf = fit(*toy())
    X_test = toy(seed=1)[0].reshape(150, -1)
    p = expit(clf.pipeline_.decision_function(X_test))
    np.testing.assert_allclose(clf.predict_proba(X_test), np.stack([1 - p, p], axis=1))
    assert np.array_equal(clf.predict(X_test), clf.pipeline_.predict(X_test))


def test_multiclass_argmax_is_svc_prediction_even_where_classes_overlap():
    X, y = toy(n=240, classes=(0, 1, 2), shift=0.4)
    clf = fit(X, y, n_classes=3)
    X_test = toy(n=240, classes=(0, 1, 2), shift=0.4, seed=1)[0]
    svc_pred = clf.pipeline_.predict(X_test.reshape(240, -1))
    assert len(set(svc_pred)) == 3
    assert np.array_equal(clf.predict(X_test), svc_pred)
    np.testing.assert_allclose(clf.predict_proba(X_test).sum(axis=1), 1.0)


def test_a_class_missing_from_training_scores_zero():
    X, y = toy(classes=(0, 2))
    p = fit(X, y, n_classes=3).predict_proba(toy(seed=1)[0])
    assert p.shape == (150, 3) and np.all(p[:, 1] == 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_a_single_training_class_predicts_that_class():
    X, y = toy(classes=(1,))
    p = fit(X, y, n_classes=3).predict_proba(X[:5])
    assert np.array_equal(p, np.tile([0.0, 1.0, 0.0], (5, 1)))


def test_settings_reach_the_svc_and_the_scaler_is_fitted_on_training_windows():
    X, y = toy()
    clf = fit(X + 50.0, y, C=3.0, gamma=0.01, class_weight="balanced")
    scaler, svc = clf.pipeline_
    assert (svc.C, svc.gamma, svc.kernel, svc.class_weight) == (3.0, 0.01, "rbf", "balanced")
    np.testing.assert_allclose(scaler.mean_, (X + 50.0).reshape(150, -1).mean(axis=0), rtol=1e-5)


def test_inputs_and_global_numpy_rng_untouched():
    X, y = toy()
    X0, y0, state = X.copy(), y.copy(), np.random.get_state()[1].copy()
    fit(X, y).predict_proba(X)
    assert np.array_equal(X, X0) and np.array_equal(y, y0) and np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("field, value", [("C", 0.0), ("gamma", "wide"), ("gamma", -1.0), ("kernel", "rbff"),
                                          ("class_weight", "auto")])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"SVM.Config.{field} must be .* got {value!r}"):
        SVM.Config(**{field: value})


@pytest.mark.parametrize("gamma", ["scale", "auto", 0.5])
def test_gamma_is_a_name_or_a_number_in_yaml(gamma):
    config = SVM.Config(gamma=gamma)
    assert from_dict(SVM.Config, to_dict(config)) == config


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        overrides = SVM.Config.search_space(study.ask())
        assert set(overrides) == {"C", "gamma"}
        SVM.Config.for_profile("quick", overrides)
