"""CCNN on band-DE grids."""

import subprocess
import sys

import numpy as np
import optuna
import pytest
import torch

from bench.classifiers.ccnn import CCNN
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng, torch_threads
from datasets import amigos, deap, seed
from datasets.grids import to_grid

BANDS = ("theta", "alpha", "beta", "gamma")
INFO = DataInfo(sfreq=128.0, ch_names=deap.CH_NAMES, grid="deap", band_names=BANDS, class_names=("low", "high"))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These networks are tiny: one thread is fastest, and keeps the tests quick on a busy machine."""
    with torch_threads(1):
        yield


def build(config, input_shape=(4, 9, 9), n_classes=2):
    with torch_rng(np.random.default_rng(0)):
        return CCNN.from_config(config, info=INFO).build(input_shape, n_classes)


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def toy(n=200, seed_=0):
    """DE grids (4 bands) of noise; class 1 has more alpha over a 3x3 right-frontal patch."""
    rng = np.random.default_rng(seed_)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 4, 9, 9)).astype(np.float32)
    X[:, 1, 2:5, 5:8] += 1.5 * y[:, None, None]
    return X, y


def test_registered_on_de_grids_and_differentiable():
    assert CLASSIFIERS.get("ccnn") is CCNN and CCNN.representation == "de-grid" and CCNN.differentiable
    code = "import sys, bench.classifiers.ccnn; assert 'torch' not in sys.modules, 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_paper_profile_is_the_paper_size_with_the_authors_training_settings():
    c = CCNN.Config.for_profile("paper")
    assert c == CCNN.Config()
    assert (c.width, c.fc_hidden, c.dropout, c.lr, c.batch_size, c.epochs, c.weight_decay) == (
        1.0, 1024, 0.5, 1e-4, 200, 80, 0.0)


def test_paper_size_parameter_count():
    # By hand, 4 bands in, 2 classes out, 4x4 kernels, the 9x9 grid kept by 'same' padding:
    #   conv1   4 * 64 * 16 + 64      =     4,160
    #   conv2  64 * 128 * 16 + 128    =   131,200
    #   conv3 128 * 256 * 16 + 256    =   524,544
    #   conv4 256 * 64 * 16 + 64      =   262,208
    #   fc     (64 * 9 * 9) * 1024 + 1024 = 5,309,440
    #   out    1024 * 2 + 2           =     2,050
    #   total                           6,233,602
    assert n_parameters(build(CCNN.Config())) == 6_233_602


def test_four_stride_1_convolutions_with_tensorflow_same_padding_keep_the_grid_and_no_pooling():
    net = build(CCNN.Config())
    convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (4, 64, (4, 4), (1, 1)), (64, 128, (4, 4), (1, 1)), (128, 256, (4, 4), (1, 1)), (256, 64, (4, 4), (1, 1))]
    assert [m.padding for m in net if isinstance(m, torch.nn.ZeroPad2d)] == [(1, 2, 1, 2)] * 4
    assert sum(isinstance(m, torch.nn.ReLU) for m in net) == 4
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.BatchNorm2d)) for m in net)
    x = torch.randn(2, 4, 9, 9)
    with torch.no_grad():
        assert net[:12](x).shape == (2, 64, 9, 9)  # after conv4 + ReLU
    assert (net.fc.in_features, net.fc.out_features, net.drop.p) == (64 * 81, 1024, 0.5)


@pytest.mark.parametrize("module, layout, n_classes", [(deap, "deap", 2), (seed, "seed", 3), (amigos, "amigos", 2)])
def test_logits_for_each_dataset_s_de_grid(module, layout, n_classes):
    de = np.random.default_rng(0).normal(size=(3, len(module.CH_NAMES), 5)).astype(np.float32)
    grid = torch.from_numpy(to_grid(de, module.CH_NAMES, layout))  # (3, 5, 9, 9)
    net = build(CCNN.Config.for_profile("quick"), input_shape=tuple(grid.shape[1:]), n_classes=n_classes).eval()
    with torch.no_grad():
        assert net(grid).shape == (3, n_classes)


@pytest.mark.slow  # an evidence test (8-9 s), like the other classifiers' learning tests: run by .ci/run
def test_learns_a_band_patch_on_held_out_grids():
    config = CCNN.Config.for_profile("quick", {"epochs": 5, "batch_size": 32, "lr": 3e-3})
    clf = CCNN.from_config(config, info=INFO).fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed_=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.85


def test_width_scales_every_convolution_and_never_vanishes():
    widths = [m.out_channels for m in build(CCNN.Config(width=0.125)) if isinstance(m, torch.nn.Conv2d)]
    assert widths == [8, 16, 32, 8]
    widths = [m.out_channels for m in build(CCNN.Config(width=0.001)) if isinstance(m, torch.nn.Conv2d)]
    assert widths == [1, 1, 1, 1]


def test_non_grid_windows_are_an_error():
    with pytest.raises(ConfigError, match=r"de-grid windows of shape \(bands, rows, columns\)"):
        build(CCNN.Config(), input_shape=(32, 5))


@pytest.mark.parametrize("field, value", [("width", 0), ("width", True), ("fc_hidden", 0), ("dropout", 1.0)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"CCNN.Config.{field} must be .* got {value!r}"):
        CCNN.Config(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        CCNN.Config.for_profile("quick", CCNN.Config.search_space(study.ask()))
