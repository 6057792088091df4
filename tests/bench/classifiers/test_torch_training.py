"""The shared torch training loop, through a minimal linear classifier."""

import math
import pickle
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from bench import standardisation as standardisation_module
from bench.classifiers.torch_training import Standardize, TorchClassifier, TorchConfig
from bench.standardisation import standardisation
from bench.components import DataInfo
from bench.config import from_dict
from bench.errors import ConfigError

INFO = DataInfo(sfreq=128.0, ch_names=("C3", "C4", "CZ"), grid="deap", band_names=("alpha", "beta"),
                class_names=("low", "mid", "high"))


class Linear(TorchClassifier):
    """A linear model with dropout on (n, 3, 2) windows."""

    name = "toy-linear"
    representation = "de"

    @dataclass(frozen=True)
    class Config(TorchConfig):
        epochs: int = 20
        batch_size: int = 16
        lr: float = 0.05
        dropout: float = 0.2

    def build(self, input_shape, n_classes):
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(self.config.dropout),
                                   torch.nn.Linear(math.prod(input_shape), n_classes))


def toy(n=90, classes=(0, 1, 2), offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n)
    X = rng.normal(size=(n, 3, 2)) + offset
    X[:, 0, 0] += 5.0 * y
    return X.astype(np.float32), y


def fit(seed=0, X=None, y=None, **overrides):
    if X is None:
        X, y = toy()
    return Linear.from_config(Linear.Config(**overrides), info=INFO).fit(X, y, rng=np.random.default_rng(seed))


def test_importing_the_package_imports_neither_torch_nor_sklearn():
    code = ("import sys, bench.classifiers; from bench.registry import CLASSIFIERS; "
            "assert {'svm', 'esc-cnn', 'eegnet'} <= set(CLASSIFIERS.names()); "
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_learns_and_scores_every_class_with_rows_summing_to_one():
    clf = fit()
    X_test, y_test = toy(seed=1)
    p = clf.predict_proba(X_test)
    assert p.shape == (90, 3) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert (clf.predict(X_test) == y_test).mean() > 0.9


def test_a_class_missing_from_training_still_has_a_column():
    X, y = toy(classes=(0, 2))
    p = fit(X=X, y=y).predict_proba(toy(seed=1)[0])
    assert p.shape == (90, 3) and p[:, 1].max() < 0.5


def test_same_seed_same_model_other_seed_other_model_global_rng_untouched():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a, b, c = fit(seed=3), fit(seed=3), fit(seed=4)
    X_test = toy(seed=1)[0]
    assert np.array_equal(a.predict_proba(X_test), b.predict_proba(X_test)) and a.history_ == b.history_
    assert not np.array_equal(a.predict_proba(X_test), c.predict_proba(X_test))
    assert torch.equal(torch.get_rng_state(), torch_state) and np.array_equal(np.random.get_state()[1], numpy_state)


def test_standardisation_comes_from_the_training_windows_only():
    X, y = toy(offset=100.0)
    clf = fit(X=X, y=y)
    standardize = clf.module_[0]
    assert isinstance(standardize, Standardize)
    mean, std = X.mean(axis=0, keepdims=True), X.std(axis=0, keepdims=True)
    np.testing.assert_allclose(standardize.mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(standardize.std.numpy(), std, rtol=1e-4)
    clf.predict_proba(toy(offset=-50.0, seed=1)[0])  # scoring other data changes nothing
    np.testing.assert_allclose(standardize.mean.numpy(), mean, rtol=1e-5)


def test_standardisation_in_chunks_and_of_constant_features(monkeypatch):
    monkeypatch.setattr(standardisation_module, "_CHUNK", 7)
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 4, 6)).astype(np.float32)
    X[:, 1] = 5.0  # a constant channel, like a grid cell outside the electrode hull
    mean, std = standardisation(X, (0, 2))
    assert mean.shape == std.shape == (1, 4, 1)
    np.testing.assert_allclose(mean, X.mean(axis=(0, 2), keepdims=True, dtype=np.float64), rtol=1e-6)
    expected = X.std(axis=(0, 2), keepdims=True, dtype=np.float64)
    np.testing.assert_allclose(std[:, [0, 2, 3]], expected[:, [0, 2, 3]], rtol=1e-6)
    assert std[0, 1, 0] == 1.0


def test_module_maps_windows_in_their_own_units_to_the_logits():
    clf = fit()
    X_test = toy(seed=1)[0]
    with torch.no_grad():
        logits = clf.module_(torch.from_numpy(X_test))
    np.testing.assert_allclose(torch.softmax(logits.double(), 1).numpy(), clf.predict_proba(X_test), atol=1e-6)


def test_inputs_are_not_mutated():
    X, y = toy()
    X0, y0 = X.copy(), y.copy()
    fit(X=X, y=y).predict_proba(X)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)


def test_history_and_on_epoch_hook_and_an_interrupted_fit():
    calls = []
    clf = Linear.from_config(Linear.Config(epochs=4), info=INFO)
    clf.on_epoch = lambda epoch, loss: calls.append((epoch, loss))
    clf.fit(*toy(), rng=np.random.default_rng(0))
    assert [e for e, _ in calls] == [0, 1, 2, 3] and [loss for _, loss in calls] == clf.history_
    assert clf.history_[-1] < clf.history_[0]

    class Pruned(Exception):
        pass

    def prune(epoch, loss):
        if epoch == 1:
            raise Pruned

    state = torch.get_rng_state()
    clf.on_epoch = prune
    with pytest.raises(Pruned):
        clf.fit(*toy(), rng=np.random.default_rng(0))
    assert len(clf.history_) == 2 and torch.equal(torch.get_rng_state(), state)


def test_a_fitted_classifier_pickles():
    clf = fit()
    X_test = toy(seed=1)[0]
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))


def test_scoring_windows_of_another_shape_is_an_error():
    with pytest.raises(ConfigError, match=r"fit saw \(3, 2\)"):
        fit().predict_proba(np.zeros((4, 2, 3), np.float32))


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", 1.5), ("lr", 0.0),
                                          ("weight_decay", -1e-4), ("dropout", 1.0)])
def test_invalid_training_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=rf"Linear.Config.{field} must be .* got {value!r}"):
        Linear.Config(**{field: value})


def test_config_from_yaml_values():
    assert from_dict(Linear.Config, {"epochs": 2, "lr": 1}) == Linear.Config(epochs=2, lr=1.0)
    with pytest.raises(ConfigError, match="Did you mean 'epochs'"):
        from_dict(Linear.Config, {"epoch": 2})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_trains_and_scores_on_cuda():
    clf = Linear.from_config(Linear.Config(), info=INFO, device="cuda").fit(*toy(), rng=np.random.default_rng(0))
    assert next(clf.module_.parameters()).is_cuda and clf.predict_proba(toy(seed=1)[0]).shape == (90, 3)
