import warnings

import numpy as np
import optuna
import pytest
from scipy import stats

from bench.components import DataInfo
from bench.errors import ConfigError, MethodError
from methods.mixup import Mixup, MixupConfig, mix, mixing_weights

INFO = DataInfo(sfreq=128.0, ch_names=("F3", "F4"), grid="deap", band_names=("alpha",),
                class_names=("low", "high"))


def fitted(X, y, **config):
    return Mixup.from_config(MixupConfig(**config), info=INFO).fit(X, y, rng=np.random.default_rng(0))


def two_levels(shape):
    """Class 0 windows are all 0, class 1 windows all 1 (8 windows each)."""
    y = np.repeat([0, 1], 8)
    return np.broadcast_to(y.reshape(-1, *[1] * len(shape)), (16, *shape)).astype(np.float32), y


@pytest.mark.parametrize("shape", [(2, 3), (4, 9, 9)])
def test_within_class_mixes_stay_in_the_bounding_box_of_their_class(shape):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    X = (rng.normal(size=(20, *shape)) + 5.0 * y.reshape(-1, *[1] * len(shape))).astype(np.float32)
    X_syn, y_syn = fitted(X, y, alpha=1.0).sample({0: 50, 1: 50}, rng=np.random.default_rng(1))
    assert X_syn.shape == (100, *shape) and y_syn.tolist() == [0] * 50 + [1] * 50
    for c in (0, 1):
        assert np.all(X_syn[y_syn == c] >= X[y == c].min(0) - 1e-5)
        assert np.all(X_syn[y_syn == c] <= X[y == c].max(0) + 1e-5)
    # mixes, not copies: a window equals a training window only when both partners are the same (p = 1/10)
    copies = np.isclose(X_syn[:, None], X[None]).reshape(100, 20, -1).all(-1).any(-1)
    assert copies.mean() < 0.3


@pytest.mark.parametrize("shape", [(2, 3), (4, 9, 9)])
def test_label_mixing_takes_partners_from_other_classes_but_the_requested_class_dominates(shape):
    X, y = two_levels(shape)
    method = fitted(X, y, alpha=2.0, mode="label-mixing")
    X_syn, y_syn = method.sample({0: 300, 1: 300}, rng=np.random.default_rng(1))
    low, high = X_syn[y_syn == 0], X_syn[y_syn == 1]
    # a class-0 window mixed with a class-1 one is 1 - lam: at most 0.5 when lam >= 0.5
    assert low.max() <= 0.5 + 1e-6 and high.min() >= 0.5 - 1e-6
    assert np.mean(low > 0.05) > 0.2 and np.mean(high < 0.95) > 0.2  # partners of the other class do occur


def test_within_class_never_uses_partners_from_other_classes():
    X, y = two_levels((2, 3))
    X_syn, y_syn = fitted(X, y, alpha=2.0).sample({0: 200, 1: 200}, rng=np.random.default_rng(1))
    assert np.all(X_syn[y_syn == 0] == 0) and np.all(X_syn[y_syn == 1] == 1)


@pytest.mark.parametrize("alpha", [0.2, 2.0])
def test_mixing_weights_follow_beta_alpha_alpha(alpha):
    lam = mixing_weights(alpha, 2000, np.random.default_rng(0), dominant=False)
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 1e-3
    folded = mixing_weights(alpha, 2000, np.random.default_rng(0), dominant=True)
    assert folded.min() >= 0.5 and np.allclose(folded, np.maximum(lam, 1 - lam))


def test_mix_weights_each_window_by_its_own_lambda():
    a = np.ones((2, 3, 4), dtype=np.float32)
    b = np.zeros((2, 3, 4), dtype=np.float32)
    out = mix(a, b, np.array([0.25, 0.75], dtype=np.float32))
    assert np.all(out[0] == 0.25) and np.all(out[1] == 0.75)


def test_asking_for_a_class_absent_from_the_training_fold_is_an_error():
    X, y = two_levels((2, 3))
    method = fitted(X[y == 0], y[y == 0])
    with pytest.raises(MethodError, match="class 1"):
        method.sample({1: 2}, rng=np.random.default_rng(0))
    assert method.sample({0: 2, 1: 0}, rng=np.random.default_rng(0))[0].shape == (2, 2, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"alpha": 0}, "mixup.alpha must be a finite number > 0"),
    ({"alpha": float("inf")}, "mixup.alpha must be a finite number > 0"),
    ({"mode": "soft"}, r"mixup.mode must be one of \('within-class', 'label-mixing'\), got 'soft'"),
])
def test_invalid_configs_name_the_field_and_the_rule(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MixupConfig(**kwargs)


def test_search_space_suggests_valid_configs():
    params = {"alpha": 2.0, "mode": "label-mixing"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overrides = MixupConfig.search_space(optuna.trial.FixedTrial(params))
    assert MixupConfig(**overrides) == MixupConfig(**params)
