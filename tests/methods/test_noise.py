import warnings

import numpy as np
import optuna
import pytest

from bench.components import DataInfo
from bench.errors import ConfigError, MethodError
from methods.noise import GaussianNoise, NoiseConfig, draw_from_classes

INFO = DataInfo(sfreq=128.0, ch_names=("F3", "F4"), grid="deap", band_names=("alpha",),
                class_names=("low", "mid", "high"))


def fitted(X, y, sigma=0.1):
    return GaussianNoise.from_config(NoiseConfig(sigma=sigma), info=INFO).fit(X, y, rng=np.random.default_rng(0))


def test_noise_std_is_sigma_times_the_feature_std_of_the_whole_training_fold():
    rng = np.random.default_rng(0)
    scales = np.array([[0.5, 1.0, 2.0], [4.0, 8.0, 16.0]])
    X = (rng.normal(size=(41, 2, 3)) * scales).astype(np.float32)
    y = np.array([0] + [1] * 40)  # class 0 has a single window: every synthetic one is built on it
    X_syn, y_syn = fitted(X, y, sigma=0.3).sample({0: 4000}, rng=np.random.default_rng(1))
    assert X_syn.shape == (4000, 2, 3) and np.all(y_syn == 0)
    np.testing.assert_allclose((X_syn - X[0]).std(axis=0), 0.3 * X.std(axis=0), rtol=0.06)
    assert np.all(np.abs((X_syn - X[0]).mean(axis=0)) < 0.1 * 0.3 * X.std(axis=0))


def test_windows_are_built_on_training_windows_of_the_requested_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [3, 4, 5])
    X = (rng.normal(size=(12, 2, 3)) + 10.0 * y[:, None, None]).astype(np.float32)
    X_syn, y_syn = fitted(X, y, sigma=0.01).sample({2: 30, 0: 9}, rng=np.random.default_rng(1))
    assert y_syn.tolist() == [0] * 9 + [2] * 30
    nearest = np.argmin(np.linalg.norm((X_syn[:, None] - X[None]).reshape(39, 12, -1), axis=-1), axis=1)
    assert np.array_equal(y[nearest], y_syn)
    assert set(nearest[y_syn == 2]) == {7, 8, 9, 10, 11}  # 30 draws from 5 windows reach all of them


def test_grid_cells_that_are_constant_in_training_stay_constant_for_4d_windows():
    rng = np.random.default_rng(0)
    X = np.zeros((20, 4, 9, 9), dtype=np.float32)
    X[:, :, 2:7, 2:7] = rng.normal(size=(20, 4, 5, 5))
    y = np.repeat([0, 1], 10)
    X_syn, _ = fitted(X, y, sigma=0.5).sample({0: 10, 1: 10}, rng=np.random.default_rng(1))
    assert X_syn.shape == (20, 4, 9, 9)
    assert np.all(X_syn[:, :, :2] == 0) and np.all(X_syn[:, :, :, 7:] == 0)
    assert np.all(X_syn[:, :, 2:7, 2:7] != 0)


def test_draw_from_classes_groups_by_class_and_refuses_unseen_classes():
    y = np.array([1, 0, 1, 0, 1])
    idx = draw_from_classes(y, {1: 4, 0: 2, 2: 0}, np.random.default_rng(0), "noise")
    assert y[idx].tolist() == [0, 0, 1, 1, 1, 1]
    with pytest.raises(MethodError, match="noise: asked for 3 windows of class 2.*no window of class 2"):
        draw_from_classes(y, {2: 3}, np.random.default_rng(0), "noise")


@pytest.mark.parametrize("sigma", [0, -0.1, float("nan"), "0.1", True])
def test_sigma_must_be_a_positive_number(sigma):
    with pytest.raises(ConfigError, match="noise.sigma must be a finite number > 0"):
        NoiseConfig(sigma=sigma)


def test_search_space_suggests_valid_configs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overrides = NoiseConfig.search_space(optuna.trial.FixedTrial({"sigma": 0.01}))
    assert NoiseConfig(**overrides) == NoiseConfig(sigma=0.01)
