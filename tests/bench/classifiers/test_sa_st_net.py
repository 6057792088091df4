"""SA-ST-Net, DE-3DGAN's classifier, and the critic built from its body."""

import pickle
import re
import subprocess
import sys

import numpy as np
import optuna
import pytest
import torch

from bench.classifiers.sa_st_net import (
    SASTNet,
    SASTNetConfig,
    SEBlock,
    SpatialAttention,
    SummedInception,
    logits_and_features,
    sa_st_body,
    sa_st_critic,
    sa_st_network,
    scaled_widths,
)
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng
from datasets.deap import CH_NAMES

INFO = DataInfo(sfreq=128.0, ch_names=CH_NAMES, grid="deap", band_names=("alpha",), class_names=("low", "high"))


def toy(n=400, n_times=128, seed=0):
    """Raw-grid frames: a 10 Hz rhythm (random phase) over a 3x3 patch, 3x stronger in class 1.

    Cells outside a central 7x7 block are empty (0), as outside the electrode hull.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = np.zeros((n, n_times, 9, 9), np.float32)
    X[:, :, 1:8, 1:8] = rng.normal(size=(n, n_times, 7, 7))
    t = np.arange(n_times) / 128.0
    rhythm = np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    X[:, :, 3:6, 3:6] += ((0.5 + y[:, None]) * rhythm)[:, :, None, None]
    return X, y


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def seeded(build, *args, **kwargs):
    with torch_rng(np.random.default_rng(0)):
        return build(*args, **kwargs)


def test_registered_on_raw_grids_and_importing_it_does_not_import_torch():
    assert CLASSIFIERS.get("sa-st-net") is SASTNet and SASTNet.Config is SASTNetConfig
    assert SASTNet.representation == "raw-grid" and SASTNet.differentiable
    code = "import sys, bench.classifiers.sa_st_net; assert 'torch' not in sys.modules, 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_paper_profile_is_the_reference_code():
    c = SASTNetConfig.for_profile("paper")
    assert c == SASTNetConfig()
    assert (c.width, c.fc_hidden, c.dropout, c.lr, c.weight_decay, c.batch_size, c.epochs) == (
        1.0, 1024, 0.5, 1e-4, 5e-4, 64, 300)


def test_paper_size_classifier_and_critic_have_the_reference_parameter_counts():
    assert n_parameters(seeded(sa_st_network, (128, 9, 9), 2)) == 2_671_496  # the reference's count
    assert n_parameters(seeded(sa_st_critic, 128)) == 2_670_471  # the reference's count


@pytest.mark.parametrize("n_times", [128, 64])
def test_body_features_network_and_critic_keep_the_grid_and_give_the_right_shapes(n_times):
    x = torch.randn(3, n_times, 9, 9)
    net = seeded(sa_st_network, (n_times, 9, 9), 2).eval()
    critic = seeded(sa_st_critic, n_times).eval()
    with torch.no_grad():
        assert net.body(x).shape == (3, 16, 9, 9)
        logits, features = logits_and_features(net, x)
        assert logits.shape == (3, 2) and features.shape == (3, 1024)
        torch.testing.assert_close(net(x), logits)
        assert critic(x).shape == (3, 1)
        assert seeded(sa_st_body, n_times, 0.25, 0.5)(x).shape == (3, 4, 9, 9)


def test_layers_are_stride_1_same_padding_convolutions_without_pooling_or_normalisation():
    body = seeded(sa_st_body, 128)
    convs = [(name, m) for name, m in body.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(m.stride == (1, 1) and m.padding == (m.kernel_size[0] // 2,) * 2 for _, m in convs)
    kernels = {name: (m.in_channels, m.out_channels, m.kernel_size[0], m.groups) for name, m in convs}
    assert kernels == {
        "conv1": (128, 256, 3, 1), "conv2": (256, 128, 5, 1), "conv3": (128, 64, 5, 1),
        "depthwise": (64, 64, 5, 64), "pointwise": (64, 32, 1, 1),
        "inception.conv1x1": (32, 16, 1, 1), "inception.conv3x3": (32, 16, 3, 1), "inception.conv5x5": (32, 16, 5, 1),
        "se.gate.1": (16, 4, 1, 1), "se.gate.3": (4, 16, 1, 1), "attention.conv": (2, 1, 7, 1),
    }
    assert body.attention.conv.bias is None and all(m.bias is not None for n, m in convs if n != "attention.conv")
    kinds = {type(m).__name__ for m in body.modules()}
    assert not kinds & {"BatchNorm2d", "MaxPool2d", "AvgPool2d"}


def test_dropout_precedes_the_selu_of_l1_to_l4_and_of_the_head_and_the_critic_has_none():
    net = seeded(sa_st_network, (128, 9, 9), 2, dropout=0.3)
    names = [name for name, _ in net.named_modules()]
    assert [n for n in names if "drop" in n] == ["body.drop1", "body.drop2", "body.drop3", "body.drop4",
                                                 "features.drop"]
    assert [n for n in names if "act" in n] == ["body.act1", "body.act2", "body.act3", "body.act4",
                                                "features.act", "features.fc1_act"]
    assert all(m.p == 0.3 for m in net.modules() if isinstance(m, torch.nn.Dropout))
    critic = seeded(sa_st_critic, 128)
    assert not any(isinstance(m, torch.nn.Dropout) for m in critic.modules())
    assert sum(isinstance(m, torch.nn.SELU) for m in critic.modules()) == 7  # L1-L4, SE, head, fc1
    assert list(critic.children())[-1] is critic.classify and critic.classify.out_features == 1  # no sigmoid


def test_widths_scale_with_the_multiplier_and_never_vanish():
    assert scaled_widths(1.0) == (256, 128, 64, 32, 16)
    assert scaled_widths(0.125) == (32, 16, 8, 4, 2)
    assert scaled_widths(0.001) == (1, 1, 1, 1, 1)
    x = torch.randn(2, 128, 9, 9)
    with torch.no_grad():
        assert seeded(sa_st_network, (128, 9, 9), 3, width=0.001, fc_hidden=5)(x).shape == (2, 3)


def test_inception_sums_its_three_branches():
    block = seeded(SummedInception, 4, 3)
    x = torch.randn(2, 4, 9, 9)
    with torch.no_grad():
        out = block(x)
        assert out.shape == (2, 3, 9, 9)  # concatenation would give 9 channels
        torch.testing.assert_close(out, block.conv1x1(x) + block.conv3x3(x) + block.conv5x5(x))


def test_se_block_scales_each_channel_by_a_gate_in_0_1():
    block = seeded(SEBlock, 8, 4)
    x = torch.randn(2, 8, 9, 9)
    with torch.no_grad():
        ratio = block(x) / x
        assert ((ratio > 0) & (ratio < 1)).all()
        torch.testing.assert_close(ratio, ratio[..., :1, :1].expand_as(ratio))  # one gate per channel
        block.gate[3].weight.zero_()
        block.gate[3].bias.fill_(30.0)  # sigmoid -> 1: identity
        torch.testing.assert_close(block(x), x)
        block.gate[3].bias.fill_(-30.0)  # sigmoid -> 0: everything gated off
        assert block(x).abs().max() < 1e-10


def test_spatial_attention_scales_each_grid_cell_by_a_gate_from_max_and_mean_maps():
    block = seeded(SpatialAttention, 7)
    x = torch.randn(2, 5, 9, 9)
    with torch.no_grad():
        ratio = block(x) / x
        assert ((ratio > 0) & (ratio < 1)).all()
        torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))  # one gate per cell
        block.conv.weight.zero_()
        torch.testing.assert_close(block(x), x / 2)  # sigmoid(0)
        block.conv.weight[0, 1, 3, 3] = 500.0  # gate = sigmoid(500 * channel mean at the cell)
        positive = x.mean(dim=1, keepdim=True) > 0.1
        torch.testing.assert_close(block(x) * positive, x * positive)


@pytest.mark.slow  # trains the quick profile, about 17 s: run by `make test-slow`
def test_learns_a_rhythm_amplitude_on_held_out_frames_with_the_quick_profile():
    clf = SASTNet.from_config(SASTNetConfig.for_profile("quick"), info=INFO).fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.8
    assert clf.history_[-1] < clf.history_[0]


def test_features_are_the_eval_mode_fc1_output_of_standardised_windows():
    config = SASTNetConfig.for_profile("quick", {"epochs": 1, "batch_size": 7})
    clf = SASTNet.from_config(config, info=INFO).fit(*toy(n=40), rng=np.random.default_rng(0))
    X = toy(n=20, seed=1)[0]
    features = clf.features(X)
    assert features.shape == (20, 128) and features.dtype == np.float32
    standardize, network = clf.module_
    clf.module_.train()  # features() must switch dropout off itself
    assert np.array_equal(clf.features(X), features)
    with torch.no_grad():
        logits, again = logits_and_features(network.eval(), standardize(torch.as_tensor(X)))
    np.testing.assert_allclose(again.numpy(), features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(torch.softmax(logits.double(), 1).numpy(), clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match=r"fit saw \(128, 9, 9\)"):
        clf.features(np.zeros((2, 64, 9, 9), np.float32))


def test_standardises_per_grid_cell_with_training_statistics_and_leaves_empty_cells_at_zero():
    X, y = toy(n=48)
    X[:, :, 1:8, 1:8] = 30.0 * X[:, :, 1:8, 1:8] + 100.0
    clf = SASTNet.from_config(SASTNetConfig.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0))
    standardize = clf.module_[0]
    assert standardize.mean.shape == (1, 1, 9, 9)
    np.testing.assert_allclose(standardize.mean.numpy()[0, 0], X.mean(axis=(0, 1)), rtol=1e-4)
    np.testing.assert_allclose(standardize.std.numpy()[0, 0], np.where(X.std(axis=(0, 1)) > 0, X.std(axis=(0, 1)), 1),
                               rtol=1e-4)
    assert standardize.mean[0, 0, 0, 0] == 0.0 and standardize.std[0, 0, 0, 0] == 1.0


def test_a_fitted_classifier_pickles():
    clf = SASTNet.from_config(SASTNetConfig.tiny(), info=INFO).fit(*toy(n=32), rng=np.random.default_rng(0))
    X = toy(n=8, seed=1)[0]
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert np.array_equal(again.features(X), clf.features(X))


def test_windows_that_are_not_raw_grids_are_an_error():
    with pytest.raises(ConfigError, match="raw-grid windows of shape"):
        SASTNet.from_config(SASTNetConfig.tiny(), info=INFO).build((32, 128), 2)


def test_quick_and_tiny_profiles_are_smaller_and_faster_than_the_paper():
    quick, tiny = SASTNetConfig.for_profile("quick"), SASTNetConfig.tiny()
    assert quick.width < 1 and quick.fc_hidden < 1024 and quick.epochs < 300 and quick.lr == 3e-3
    assert tiny.width <= quick.width and tiny.fc_hidden <= quick.fc_hidden and tiny.epochs == 1


@pytest.mark.parametrize("field, value", [("width", 0.0), ("width", -0.5), ("width", float("nan")),
                                          ("width", float("inf")), ("fc_hidden", 0), ("fc_hidden", 2.5),
                                          ("dropout", 1.0), ("lr", 0.0), ("weight_decay", -1e-4)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"SASTNetConfig\.{field} must be .* got {re.escape(repr(value))}"):
        SASTNetConfig(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        overrides = SASTNetConfig.search_space(study.ask())
        assert {"lr", "weight_decay", "dropout", "width"} <= set(overrides)
        SASTNetConfig.for_profile("quick", overrides)
