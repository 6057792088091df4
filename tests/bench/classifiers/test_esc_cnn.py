"""ESC-GAN's evaluator CNN on DE grids."""

import math

import numpy as np
import optuna
import pytest
import torch

from bench.classifiers.esc_cnn import ESCClassifier
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng
from datasets.deap import CH_NAMES

BANDS = ("delta", "theta", "alpha", "beta", "gamma")
INFO = DataInfo(sfreq=128.0, ch_names=CH_NAMES, grid="deap", band_names=BANDS, class_names=("low", "high"))


def toy(n=160, seed=0):
    """Class 1 has more alpha DE over a central patch of the grid; cells outside it are 0."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = np.zeros((n, 5, 9, 9), np.float32)
    X[:, :, 1:8, 1:8] = rng.normal(size=(n, 5, 7, 7))
    X[:, 2, 2:7, 2:7] += 1.5 * y[:, None, None]
    return X, y


def build(config):
    with torch_rng(np.random.default_rng(0)):
        return ESCClassifier.from_config(config, info=INFO).build((5, 9, 9), 2)


def test_registered_on_de_grids_and_differentiable():
    assert CLASSIFIERS.get("esc-cnn") is ESCClassifier
    assert ESCClassifier.representation == "de-grid" and ESCClassifier.differentiable


def test_paper_profile_is_the_reference_code():
    c = ESCClassifier.Config.for_profile("paper")
    assert c == ESCClassifier.Config()
    assert (c.hid_channels, c.mlp_hidden, c.dropout, c.lr, c.weight_decay, c.epochs, c.batch_size) == (
        128, 1024, 0.3, 1e-4, 0.0, 100, 256)


def test_trunk_reaches_4h_by_3_by_3_and_the_head_sees_4608_features_at_paper_width():
    net = build(ESCClassifier.Config())
    with torch.no_grad():
        assert net.trunk(torch.zeros(2, 5, 9, 9)).shape == (2, 512, 3, 3)
    linears = [m for m in net.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4608, 1024), (1024, 1024), (1024, 2)]
    assert [m.p for m in net.head if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]


def test_trunk_blocks_are_conv_batchnorm_selu_with_strides_1_2_1_2_and_kaiming_normal_init():
    net = build(ESCClassifier.Config(hid_channels=32))
    kinds = [type(m).__name__ for m in net.trunk]
    assert kinds == ["Conv2d", "BatchNorm2d", "SELU"] * 4
    convs = net.trunk[::3]
    assert [c.stride for c in convs] == [(1, 1), (2, 2), (1, 1), (2, 2)]
    assert [c.out_channels for c in convs] == [32, 64, 64, 128]
    big = convs[3].weight  # Kaiming normal (fan-in, gain sqrt 2); PyTorch's default would be ~2.4x smaller
    assert big.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)


def test_learns_a_separable_grid_problem_on_held_out_windows():
    overrides = {"hid_channels": 4, "mlp_hidden": 16, "epochs": 10, "batch_size": 32}
    config = ESCClassifier.Config.for_profile("quick", overrides)
    clf = ESCClassifier.from_config(config, info=INFO)
    clf.fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.85


def test_standardises_per_grid_cell_with_training_statistics_and_leaves_empty_cells_at_zero():
    X, y = toy(n=64)
    X += 10.0 * (X != 0)
    clf = ESCClassifier.from_config(ESCClassifier.Config.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0))
    standardize = clf.module_[0]
    assert standardize.mean.shape == (1, 5, 9, 9)
    np.testing.assert_allclose(standardize.mean.numpy()[0], X.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert standardize.std[0, 0, 0, 0] == 1.0 and standardize.mean[0, 0, 0, 0] == 0.0


def test_quick_and_tiny_profiles_are_smaller_and_faster_than_the_paper():
    quick, tiny = ESCClassifier.Config.for_profile("quick"), ESCClassifier.Config.tiny()
    assert quick.hid_channels < 128 and quick.epochs < 100 and quick.lr == 1e-3
    assert tiny.hid_channels <= quick.hid_channels and tiny.epochs <= quick.epochs


@pytest.mark.parametrize("field, value", [("hid_channels", 0), ("mlp_hidden", -3), ("dropout", 1.2), ("lr", -1.0)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"ESCClassifier.Config.{field} must be .* got {value!r}"):
        ESCClassifier.Config(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        overrides = ESCClassifier.Config.search_space(study.ask())
        assert {"lr", "weight_decay", "dropout", "epochs"} <= set(overrides)
        ESCClassifier.Config.for_profile("quick", overrides)
