"""The base of the baseline generators: representation choice, shape checks, standardisation and sampling."""

from __future__ import annotations

import numpy as np
import pytest

from bench.errors import ConfigError, MethodError
from bench.testing.contracts import INFO
from methods.cgan import CganConfig, ConditionalGan
from methods.ddpm import ConditionalDdpm
from methods.gan.conditional import GeneratorConfig, constant_features, window_kind
from methods.vae import ConditionalVae
from methods.wgan_gp import ConditionalWganGp

GENERATORS = [ConditionalGan, ConditionalWganGp, ConditionalVae, ConditionalDdpm]


@pytest.mark.parametrize("cls", GENERATORS, ids=lambda c: c.name)
def test_auto_follows_the_classifier_and_an_explicit_choice_wins(cls):
    auto = cls.Config.tiny()
    assert auto.representation == "auto" and cls.representation == "raw"
    assert cls.representation_for(auto, "de-grid") == "de-grid"
    assert [cls.representation_for(auto, rep) for rep in ("raw", "raw-grid", "de")] == ["raw"] * 3
    raw = cls.Config.for_profile("quick", {"representation": "raw"})
    assert cls.representation_for(raw, "de-grid") == "raw"


def test_window_kind_checks_the_shape_against_the_configured_representation():
    assert window_kind((32, 128), "auto", "w") == "raw" and window_kind((5, 9, 9), "auto", "w") == "de-grid"
    assert window_kind((5, 9, 9), "de-grid", "w") == "de-grid"
    with pytest.raises(ConfigError, match=r"cgan.fit: representation='raw' models raw windows .* shape \(5, 9, 9\)"):
        window_kind((5, 9, 9), "raw", "cgan.fit")
    with pytest.raises(ConfigError, match="representation='de-grid' models DE grids"):
        window_kind((32, 128), "de-grid", "cgan.fit")
    with pytest.raises(ConfigError, match="shape \\(128, 9, 9, 1\\)"):
        window_kind((128, 9, 9, 1), "auto", "cgan.fit")


def test_fit_rejects_windows_of_the_other_representation():
    X = np.zeros((6, 5, 9, 9), np.float32)
    method = ConditionalGan.from_config(CganConfig.for_profile("quick", {"representation": "raw"}), info=INFO)
    with pytest.raises(ConfigError, match="give fit the representation the config names"):
        method.fit(X, np.array([0, 1, 2] * 2), rng=np.random.default_rng(0))


@pytest.mark.parametrize("field, value, match", [
    ("representation", "de", "representation must be one of"), ("width", 0, "width must be an integer >= 1"),
    ("lr", 0.0, "lr must be a finite number > 0"), ("time_kernel", 8, "time_kernel must be odd"),
    ("beta1", 1.0, "beta1 and beta2"), ("w_spectral_grid", -1.0, "w_spectral_grid must be a number >= 0"),
])
def test_bad_shared_settings_name_the_field(field, value, match):
    with pytest.raises(ConfigError, match=match):
        GeneratorConfig(**{field: value})


def test_constant_features_are_those_equal_in_every_window():
    X = np.random.default_rng(0).normal(size=(2500, 3, 4))
    X[:, 0, 0], X[:, 2, 3] = 0.0, 7.5
    X[1700, 1, 1] = X[0, 1, 1] + 1e-9  # constant except in a later chunk
    X[:, 1, 1] = X[0, 1, 1]
    X[2400, 1, 2] = 3.0
    X[:, 1, 2] = np.where(np.arange(2500) == 2400, 3.0, 0.0)
    expected = np.zeros((3, 4), bool)
    expected[0, 0] = expected[2, 3] = expected[1, 1] = True
    assert np.array_equal(constant_features(X, chunk=1000), expected)


def _grid_windows(n_per_class=(12, 12, 12)):
    """DE-grid-like windows: empty border cells, class-dependent values inside."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), n_per_class)
    X = np.zeros((len(y), 5, 9, 9), np.float32)
    X[:, :, 1:8, 1:8] = rng.normal(size=(len(y), 5, 7, 7)) + 3.0 * y[:, None, None, None] + 10.0
    return X, y


@pytest.mark.parametrize("cls", GENERATORS, ids=lambda c: c.name)
def test_samples_keep_empty_grid_cells_exactly_zero_and_are_in_the_data_units(cls):
    X, y = _grid_windows()
    method = cls.from_config(cls.Config.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0))
    assert np.array_equal(method.fixed_[0], np.pad(np.zeros((7, 7), bool), 1, constant_values=True))
    Xs, ys = method.sample({2: 7, 0: 3}, rng=np.random.default_rng(1))
    assert Xs.shape == (10, 5, 9, 9) and ys.tolist() == [0] * 3 + [2] * 7
    assert (Xs[:, :, 0] == 0).all() and (Xs[:, :, :, 8] == 0).all() and (Xs[:, :, 1:8, 1:8] != 0).all()
    assert 0 < Xs[:, :, 1:8, 1:8].mean() < 20  # standardisation undone: around the data's mean of 13


def test_sampling_a_class_absent_from_training_is_an_error():
    X, y = _grid_windows((10, 10, 0))
    method = ConditionalVae.from_config(ConditionalVae.Config.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0))
    assert method.sample({2: 0, 1: 2}, rng=np.random.default_rng(0))[0].shape == (2, 5, 9, 9)
    with pytest.raises(MethodError, match=r"vae: asked for windows of class \[2\].*it has classes \[0, 1\]"):
        method.sample({2: 1}, rng=np.random.default_rng(0))
