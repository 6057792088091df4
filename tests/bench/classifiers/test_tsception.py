"""TSception on raw windows, with hemisphere pairs from the channel names."""

import pickle
import subprocess
import sys

import numpy as np
import optuna
import pytest
import torch

from bench.classifiers.tsception import TSception, hemisphere_pairs, pooled_lengths, temporal_kernels
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng, torch_threads
from datasets import amigos, deap, seed

CHANNELS = ("FP1", "FP2", "C3", "C4", "P3", "P4", "O1", "O2")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These networks are tiny: one thread is fastest, and keeps the tests quick on a busy machine."""
    with torch_threads(1):
        yield


def info(ch_names=CHANNELS, sfreq=128.0, n_classes=2):
    return DataInfo(sfreq=sfreq, ch_names=ch_names, grid="deap", band_names=("alpha",),
                    class_names=tuple(f"c{i}" for i in range(n_classes)))


def build(config, input_shape, n_classes=2, **kwargs):
    with torch_rng(np.random.default_rng(0)):
        return TSception.from_config(config, info=info(**kwargs, n_classes=n_classes)).build(input_shape, n_classes)


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def toy(n=160, n_times=128, seed_=0):
    """Class 1 carries a 10 Hz rhythm (random phase) on the left channels only; everything else is noise."""
    rng = np.random.default_rng(seed_)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, len(CHANNELS), n_times))
    t = np.arange(n_times) / 128.0
    rhythm = np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    X[:, [2, 4]] += 1.5 * (y[:, None] * rhythm)[:, None, :]
    return X.astype(np.float32), y


def names(ch_names, idx):
    return [ch_names[i] for i in idx]


def test_registered_on_raw_windows_and_differentiable():
    assert CLASSIFIERS.get("tsception") is TSception and TSception.representation == "raw" and TSception.differentiable
    code = "import sys, bench.classifiers.tsception; assert 'torch' not in sys.modules, 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_fitted_classifier_pickles():
    clf = TSception.from_config(TSception.Config.tiny(), info=info()).fit(*toy(n=32), rng=np.random.default_rng(0))
    X = toy(n=8, seed_=1)[0]
    assert np.array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))


def test_paper_profile_is_the_reference_setting():
    c = TSception.Config.for_profile("paper")
    assert c == TSception.Config()
    assert (c.num_T, c.num_S, c.hidden, c.kernel_scale, c.dropout, c.lr, c.batch_size, c.weight_decay) == (
        15, 15, 32, 1.0, 0.5, 1e-3, 64, 0.0)


def test_deap_pairs_are_the_reference_s_28_lateral_channels_with_the_midline_left_out():
    left, right = hemisphere_pairs(deap.CH_NAMES)
    assert names(deap.CH_NAMES, left) == ["FP1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3",
                                          "P7", "PO3", "O1"]
    assert names(deap.CH_NAMES, right) == ["FP2", "AF4", "F4", "F8", "FC6", "FC2", "C4", "T8", "CP6", "CP2", "P4",
                                           "P8", "PO4", "O2"]
    assert not {"FZ", "CZ", "PZ", "OZ"} & set(names(deap.CH_NAMES, left + right))


def test_seed_pairs_cover_its_54_lateral_channels():
    left, right = hemisphere_pairs(seed.CH_NAMES)
    assert len(left) == 27
    for a, b in zip(names(seed.CH_NAMES, left), names(seed.CH_NAMES, right)):
        assert a.rstrip("0123456789") == b.rstrip("0123456789") and int(a[-1]) % 2 == 1 and int(b[-1]) == int(a[-1]) + 1
    lateral = [ch for ch in seed.CH_NAMES if not ch.endswith("Z")]
    assert sorted(names(seed.CH_NAMES, left + right)) == sorted(lateral)
    assert ("CB1", "CB2") in zip(names(seed.CH_NAMES, left), names(seed.CH_NAMES, right))


def test_amigos_pairs_follow_its_emotiv_order():
    left, right = hemisphere_pairs(amigos.CH_NAMES)
    assert list(zip(names(amigos.CH_NAMES, left), names(amigos.CH_NAMES, right))) == [
        ("AF3", "AF4"), ("F7", "F8"), ("F3", "F4"), ("FC5", "FC6"), ("T7", "T8"), ("P7", "P8"), ("O1", "O2")]


def test_pairs_match_names_case_insensitively_and_skip_unpaired_channels():
    assert hemisphere_pairs(("Fp1", "Fz", "FP2", "C3", "T7", "t8")) == ((0, 4), (2, 5))  # C3 has no C4


@pytest.mark.parametrize("ch_names", [("FZ", "CZ", "PZ"), ("C3", "P3"), ("EEG 001", "EEG 002")])
def test_names_without_pairs_are_a_clear_error(ch_names):
    with pytest.raises(ConfigError, match=r"DataInfo.ch_names\) give no left/right pair"):
        hemisphere_pairs(ch_names)


def test_temporal_kernels_are_half_a_quarter_and_an_eighth_of_a_second():
    assert temporal_kernels(128.0) == (64, 32, 16)
    assert temporal_kernels(200.0) == (100, 50, 25)
    assert temporal_kernels(128.0, 0.25) == (16, 8, 4)


def test_paper_size_parameter_count():
    # By hand, the reference on DEAP: 28 channels (14 pairs), 128 Hz, num_T = num_S = 15, hidden 32, 2 classes:
    #   temporal convs (1, 64), (1, 32), (1, 16), 1 -> 15:  15*64+15 + 15*32+15 + 15*16+15 = 1,725
    #   BN_t, BN_s, BN_fusion (weight and bias):            3 * 2 * 15                   =    90
    #   global kernel (28, 1), 15 -> 15:                     15*15*28 + 15                = 6,315
    #   hemisphere kernel (14, 1), 15 -> 15:                 15*15*14 + 15                = 3,165
    #   fusion (3, 1), 15 -> 15:                             15*15*3 + 15                 =   690
    #   FC 15 -> 32, FC 32 -> 2:                             15*32+32 + 32*2+2            =   578
    #   total                                                                              12,563
    net = build(TSception.Config(), (32, 512), ch_names=deap.CH_NAMES)
    assert n_parameters(net) == 12_563


@pytest.mark.parametrize("module, sfreq, n_classes", [(deap, 128.0, 2), (seed, 200.0, 3), (amigos, 128.0, 2)])
def test_logits_for_each_dataset_s_montage_and_rate(module, sfreq, n_classes):
    n_channels, n_times = len(module.CH_NAMES), int(sfreq)  # 1-s windows
    net = build(TSception.Config.for_profile("quick"), (n_channels, n_times), n_classes, ch_names=module.CH_NAMES,
                sfreq=sfreq).eval()
    n_pairs = len(hemisphere_pairs(module.CH_NAMES)[0])
    assert net.global_kernel[0].kernel_size == (2 * n_pairs, 1)
    assert net.hemisphere_kernel[0].kernel_size == net.hemisphere_kernel[0].stride == (n_pairs, 1)
    with torch.no_grad():
        assert net(torch.randn(3, n_channels, n_times)).shape == (3, n_classes)


@pytest.mark.parametrize("n_times", [71, 128, 512])
def test_pooled_lengths_are_the_network_s(n_times):
    net = build(TSception.Config.for_profile("quick"), (8, n_times)).eval()
    x = torch.randn(2, 8, n_times).index_select(1, net.order).unsqueeze(1)
    with torch.no_grad():
        temporal = torch.cat([branch(x) for branch in net.temporal], dim=-1)
        spatial = net.global_kernel(temporal)
        fusion = net.fusion(torch.cat([spatial, net.hemisphere_kernel(temporal)], dim=2))
    assert (temporal.shape[-1], spatial.shape[-1], fusion.shape[-1]) == pooled_lengths(n_times, (64, 32, 16))
    assert fusion.shape[2] == 1  # three rows (global, left, right) fused into one


def test_the_hemisphere_kernel_sees_each_hemisphere_on_its_own_row():
    net = build(TSception.Config.for_profile("quick"), (8, 128)).eval()
    x = torch.randn(1, 8, 128)
    moved = x.clone()
    moved[:, 1] += 5.0  # FP2: right hemisphere

    def rows(x):
        with torch.no_grad():
            t = torch.cat([b(x.index_select(1, net.order).unsqueeze(1)) for b in net.temporal], dim=-1)
            return net.hemisphere_kernel(t)  # (1, num_S, 2, time)

    before, after = rows(x), rows(moved)
    assert before.shape[2] == 2
    torch.testing.assert_close(before[:, :, 0], after[:, :, 0])  # the left row ignores a right channel
    assert not torch.allclose(before[:, :, 1], after[:, :, 1])


def test_power_layer_is_the_log_of_the_mean_square():
    from bench.classifiers.tsception import PowerLayer

    x = torch.randn(2, 3, 1, 20)
    out = PowerLayer(8)(x)
    assert out.shape == (2, 3, 1, 7)  # (20 - 8) // 2 + 1
    torch.testing.assert_close(out[..., 1], torch.log(x[..., 2:10].square().mean(-1) + 1e-6))


def test_windows_too_short_or_names_that_do_not_match_are_errors():
    with pytest.raises(ConfigError, match="at least 71 samples"):
        build(TSception.Config(), (8, 70))
    with pytest.raises(ConfigError, match=r"one row per name in DataInfo.ch_names \(8\)"):
        build(TSception.Config(), (6, 128))


def test_learns_a_lateral_rhythm_on_held_out_windows():
    config = TSception.Config.for_profile("quick", {"epochs": 8, "batch_size": 16})
    clf = TSception.from_config(config, info=info()).fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed_=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.85


@pytest.mark.parametrize("field, value", [("num_T", 0), ("num_S", 2.5), ("hidden", 0), ("kernel_scale", 0),
                                          ("dropout", 1.0)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"TSception.Config.{field} must be .* got {value!r}"):
        TSception.Config(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        TSception.Config.for_profile("quick", TSception.Config.search_space(study.ask()))
