"""The inner validation split, the probe and the stopping rules every generator trains under."""

import math

import numpy as np
import pytest
import torch

from bench.errors import ConfigError
from bench.study import StudyConfig
from methods.escgan import EscganConfig
from methods.gan.monitor import FitMonitor, Probe, StoppingConfig, inner_split, probe_features


def test_inner_split_holds_out_whole_trials_of_every_class():
    y = np.repeat([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2], 6)  # 11 trials of 6 windows; class 2 has one trial
    groups = np.repeat(np.arange(11) * 7 + 3, 6)  # any ids
    fit, val = inner_split(groups, y, 0.2, np.random.default_rng(0))
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(len(y)))
    assert not set(groups[fit]) & set(groups[val])  # no trial on both sides
    assert len(set(groups[val])) == 2 and set(y[val]) == {0, 1}  # one trial of each class with >= 2
    assert 2 in set(y[fit])  # a class with one trial stays in training
    again, _ = inner_split(groups, y, 0.2, np.random.default_rng(0))
    assert np.array_equal(fit, again)


def test_probe_features_are_log_band_power_of_signals_and_values_of_de():
    t = np.arange(128) / 128.0
    alpha = np.sin(2 * np.pi * 10 * t)[None, None]  # one channel, 10 Hz
    feats = probe_features(np.concatenate([alpha, 2 * alpha]), "raw", 128.0)
    assert feats.shape == (2, 5) and feats[0].argmax() == 2  # the alpha band
    assert feats[1, 2] - feats[0, 2] == pytest.approx(math.log(4))
    grids = np.arange(2 * 5 * 81, dtype=np.float32).reshape(2, 5, 9, 9)
    assert np.array_equal(probe_features(grids, "de-grid", 128.0), grids.reshape(2, -1))


def test_probe_scores_informative_synthetic_windows_high_and_label_noise_at_chance():
    rng = np.random.default_rng(0)

    def draw(n):
        y = rng.integers(0, 2, n)
        return (rng.normal(size=(n, 4, 3, 3)) + 1.5 * y[:, None, None, None]).astype(np.float32), y

    (x_fit, y_fit), (x_val, y_val), (x_syn, y_syn) = draw(200), draw(200), draw(200)
    probe = Probe(x_fit, y_fit, x_val, y_val, "de-grid", 128.0, 2)
    assert probe.real_score > 0.9 and probe.score(x_syn, y_syn) > 0.9
    assert abs(probe.score(x_syn, rng.permutation(y_syn)) - 0.5) < 0.15
    assert probe.score(x_syn[y_syn == 0], y_syn[y_syn == 0]) == 0.0  # one class: nothing to learn
    assert probe.per_class == {0: int((y_fit == 0).sum()), 1: int((y_fit == 1).sum())}


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _monitor(signals, config, clock=None, epochs=20):
    """A monitor over one linear layer whose weight is set to the epoch before every evaluation."""
    net = torch.nn.Linear(1, 1)
    probe = type("P", (), {"real_score": 0.9, "per_class": {0: 1, 1: 1}})()
    it = iter(signals)
    probe.score = lambda x, y: next(it)
    monitor = FitMonitor(config, epochs, [net], probe, lambda counts: (np.zeros((2, 1)), np.array([0, 1])),
                         clock=clock or _Clock())
    return net, monitor


def test_training_stops_on_a_plateau_and_keeps_the_best_state():
    config = StoppingConfig(patience=2, min_delta=0.01)
    net, monitor = _monitor([0.5, 0.7, 0.705, 0.6, 0.8], config)
    stopped = []
    for epoch in range(1, 6):
        with torch.no_grad():
            net.weight.fill_(epoch)
        stopped.append(monitor.after_epoch(epoch, steps=10 * epoch))
        if stopped[-1]:
            break
    assert stopped == [False, False, False, True]  # epochs 3 and 4 gained nothing beyond min_delta
    report = monitor.finish()
    # 0.705 is no gain beyond min_delta over 0.7 (patience counts it) but, being higher, is the kept state
    assert report.stop_reason == "plateau" and report.best_epoch == 3 and report.signal == pytest.approx(0.705)
    assert net.weight.item() == 3 and report.signal_real == 0.9
    assert [p["signal"] for p in report.curve] == [0.5, 0.7, 0.705, 0.6]
    assert report.stats()["fit.stopped_early"] == 1.0 and report.stats()["fit.steps"] == 40


def test_a_tie_keeps_the_later_state_and_patience_zero_trains_every_epoch():
    net, monitor = _monitor([0.5] * 4, StoppingConfig(patience=0), epochs=4)
    for epoch in range(1, 5):
        with torch.no_grad():
            net.weight.fill_(epoch)
        assert monitor.after_epoch(epoch, epoch) == (epoch == 4)
    report = monitor.finish()
    assert report.stop_reason == "epochs" and report.best_epoch == 4 and net.weight.item() == 4


def test_the_budget_stops_before_an_epoch_that_would_overrun_it():
    clock = _Clock()
    net, monitor = _monitor([0.5 + i / 100 for i in range(20)], StoppingConfig(fit_budget_s=100.0), clock=clock)
    epoch = 0
    while True:
        epoch += 1
        clock.now += 30.0  # every epoch takes 30 s
        if monitor.after_epoch(epoch, epoch):
            break
    assert epoch == 3 and monitor.finish().stop_reason == "budget"  # a 4th would end at 120 s


def test_without_a_validation_split_there_is_no_signal():
    net = torch.nn.Linear(1, 1)
    monitor = FitMonitor(StoppingConfig(val_fraction=0.0), 2, [net], None, lambda c: pytest.fail("no probe, no draw"))
    assert not monitor.after_epoch(1, 5) and monitor.after_epoch(2, 10)
    report = monitor.finish()
    assert math.isnan(report.signal) and report.best_epoch == 2 and report.curve == []


@pytest.mark.parametrize("field, value, match", [("val_fraction", 0.5, "val_fraction must be in"),
                                                 ("patience", -1, "patience must be an integer >= 0"),
                                                 ("eval_every", 0, "eval_every must be an integer >= 1"),
                                                 ("fit_budget_s", -1.0, "fit_budget_s must be a finite number")])
def test_bad_stopping_settings_name_the_field(field, value, match):
    with pytest.raises(ConfigError, match=match):
        EscganConfig(**{field: value})


def test_a_changed_algorithm_is_a_named_variant_and_the_study_labels_it():
    assert EscganConfig.for_profile("quick").variant() == ""
    assert EscganConfig(filter="target", w_recon=10.0).variant() == "w_recon=10,filter=target"
    config = StudyConfig(methods=("none", "escgan"), method={"escgan": {"d_fake_class": False}})
    assert config.method_label("escgan") == "escgan[d_fake_class=false]" and config.method_label("none") == "none"


def test_fit_budget_sets_every_generators_budget_unless_a_method_override_does():
    config = StudyConfig(methods=("smote", "escgan", "cgan"), fit_budget=30.0, method={"cgan": {"fit_budget_s": 5.0}})
    assert config.method_config("escgan").fit_budget_s == 30.0 and config.method_config("cgan").fit_budget_s == 5.0
    assert not hasattr(config.method_config("smote"), "fit_budget_s")
    with pytest.raises(ConfigError, match="fit_budget must be a number of seconds > 0"):
        StudyConfig(fit_budget=0.0)
