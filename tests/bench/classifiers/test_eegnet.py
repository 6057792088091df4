"""EEGNet on raw windows."""

import dataclasses

import numpy as np
import optuna
import pytest
import torch

from bench.classifiers.eegnet import EEGNet
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng

CHANNELS = ("FP1", "FP2", "C3", "C4", "P3", "P4", "O1", "O2")


def info(sfreq=128.0):
    return DataInfo(sfreq=sfreq, ch_names=CHANNELS, grid="deap", band_names=("alpha",), class_names=("low", "high"))


def toy(n=160, n_times=128, seed=0):
    """Class 1 carries a 10 Hz rhythm (random phase) on four channels; everything else is noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, len(CHANNELS), n_times))
    t = np.arange(n_times) / 128.0
    rhythm = np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    X[:, 2:6] += 1.5 * (y[:, None] * rhythm)[:, None, :]
    return X.astype(np.float32), y


def build(config, sfreq=128.0, input_shape=(8, 128)):
    with torch_rng(np.random.default_rng(0)):
        return EEGNet.from_config(config, info=info(sfreq)).build(input_shape, 2)


def test_registered_on_raw_windows_and_differentiable():
    assert CLASSIFIERS.get("eegnet") is EEGNet and EEGNet.representation == "raw" and EEGNet.differentiable


def test_paper_profile_is_eegnet_8_2():
    c = EEGNet.Config.for_profile("paper")
    assert c == EEGNet.Config()
    assert (c.F1, c.D, c.F2, c.kernel_length, c.dropout, c.lr, c.batch_size, c.weight_decay) == (
        8, 2, 16, None, 0.25, 1e-3, 64, 0.0)


@pytest.mark.parametrize("sfreq, kernel_length, expected", [(128.0, None, 64), (200.0, None, 100), (128.0, 32, 32)])
def test_temporal_kernel_is_half_a_second_unless_set(sfreq, kernel_length, expected):
    net = build(EEGNet.Config(kernel_length=kernel_length), sfreq)
    assert net.temporal.kernel_size == (1, expected)
    with torch.no_grad():  # 'same' padding keeps every sample
        assert net[:3](torch.zeros(1, 8, 128)).shape == (1, 8, 8, 128)


@pytest.mark.parametrize("n_times, pooled", [(128, 4), (100, 3), (32, 1)])
def test_layers_and_the_dense_input_follow_the_window(n_times, pooled):
    net = build(EEGNet.Config(), input_shape=(8, n_times))
    assert net.spatial.weight.shape == (16, 1, 8, 1) and net.spatial.groups == 8
    assert net.depthwise.groups == 16 and net.pointwise.out_channels == 16
    assert all(m.bias is None for m in (net.temporal, net.spatial, net.depthwise, net.pointwise))
    assert net.classify.in_features == 16 * pooled
    assert [m.p for m in net if isinstance(m, torch.nn.Dropout)] == [0.25, 0.25]
    with torch.no_grad():
        assert net.eval()(torch.zeros(3, 8, n_times)).shape == (3, 2)


def test_windows_shorter_than_the_pooling_are_an_error():
    with pytest.raises(ConfigError, match="at least 32 samples"):
        build(EEGNet.Config(), input_shape=(8, 31))


@pytest.mark.slow  # about 10 s of training: run by `make test-slow`
def test_learns_a_rhythm_on_held_out_windows():
    config = EEGNet.Config.for_profile("quick", {"epochs": 8, "batch_size": 16})  # EEGNet-4,2
    clf = EEGNet.from_config(config, info=info()).fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.85


def test_max_norm_holds_after_training_and_binds():
    clf = EEGNet.from_config(dataclasses.replace(EEGNet.Config.tiny(), lr=0.5, epochs=3), info=info())
    clf.fit(*toy(n=64), rng=np.random.default_rng(0))
    net = clf.module_[1]
    spatial = net.spatial.weight.flatten(1).norm(dim=1)
    dense = net.classify.weight.norm(dim=1)
    assert spatial.max() <= 1 + 1e-5 and dense.max() <= 0.25 + 1e-5
    assert spatial.max() > 0.99 and dense.max() > 0.249  # the large learning rate pushed them to the limits


def test_standardises_per_channel_with_training_statistics():
    X, y = toy(n=64)
    X = X * 20.0 + np.arange(8, dtype=np.float32)[:, None] * 100.0
    clf = EEGNet.from_config(EEGNet.Config.tiny(), info=info()).fit(X, y, rng=np.random.default_rng(0))
    standardize = clf.module_[0]
    assert standardize.mean.shape == (1, 8, 1)
    np.testing.assert_allclose(standardize.mean.numpy().ravel(), X.mean(axis=(0, 2)), rtol=1e-4)
    np.testing.assert_allclose(standardize.std.numpy().ravel(), X.std(axis=(0, 2)), rtol=1e-4)


@pytest.mark.parametrize("field, value", [("F1", 0), ("D", 1.5), ("kernel_length", 0), ("dropout", -0.1)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"EEGNet.Config.{field} must be .* got {value!r}"):
        EEGNet.Config(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config_with_f2_equal_f1_times_d():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        config = EEGNet.Config.for_profile("quick", EEGNet.Config.search_space(study.ask()))
        assert config.F2 == config.F1 * config.D
