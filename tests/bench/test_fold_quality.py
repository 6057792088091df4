"""What the runner measures about a method's synthetic windows on one fold (bench.fold_quality)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.classifiers.esc_cnn import ESCClassifier
from bench.registry import CLASSIFIERS
from bench.fold_quality import class_profiles, classifier_metrics, raw_channels, sample_metrics
from bench.metrics import classification_metrics
from bench.testing.contracts import INFO, toy_data
from bench.quality_files import write_quality

SVM_CLS = CLASSIFIERS.get("svm")


def _raw_grid(n=60, seed=0):
    """Frames (n, 128, 9, 9) with a 10 Hz rhythm in 5 cells, the rest structurally zero, two classes."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    t = np.arange(128) / 128
    X = np.zeros((n, 128, 9, 9), np.float32)
    for r, c in [(1, 1), (2, 4), (4, 4), (6, 2), (7, 7)]:
        X[:, :, r, c] = (1 + y[:, None]) * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (n, 1))) + rng.normal(size=(n, 128))
    return X, y


def test_raw_grid_frames_become_signals_of_their_electrode_cells_only():
    X, _ = _raw_grid(6)
    cells = np.any(X != 0, axis=(0, 1))
    signals = raw_channels(X, "raw-grid", cells)
    assert signals.shape == (6, 5, 128)
    assert np.array_equal(signals[:, 2], X[:, :, 4, 4])
    assert raw_channels(X[:, :5, 0, 0], "raw") is not None and raw_channels(X, "de-grid") is None


def test_sample_metrics_tell_copies_from_fresh_windows_and_skip_the_empty_grid_cells():
    X, y = _raw_grid(80)
    train, y_train, holdout = X[:60], y[:60], X[60:]
    rng = np.random.default_rng(0)
    fresh, y_fresh = _raw_grid(40, seed=1)
    copies = train[rng.choice(60, 40)] + 1e-3 * rng.normal(size=(40, 128, 9, 9)).astype(np.float32) * (train[0] != 0)
    good = sample_metrics(fresh, y_fresh, train, y_train, holdout, "raw-grid", 2, 128.0, np.random.default_rng(1))
    copied = sample_metrics(copies, y_train[:40], train, y_train, holdout, "raw-grid", 2, 128.0, np.random.default_rng(1))
    silent = sample_metrics(0.1 * fresh, y_fresh, train, y_train, holdout, "raw-grid", 2, 128.0, np.random.default_rng(1))
    # Empty cells would add the floored -120 dB difference; only the five electrodes count.
    assert good["psd_distance"] < 2.0 and silent["psd_distance"] == pytest.approx(20.0, abs=2.0)
    assert copied["memorisation_ratio"] < 0.05 < 0.7 < good["memorisation_ratio"]
    assert good["mmd"] < silent["mmd"]
    (Xs, ys), (Xr, yr), (Xh, _) = (toy_data("de-grid", seed=s) for s in range(3))
    de = sample_metrics(Xs, ys, Xr, yr, Xh, "de-grid", 3, 128.0, np.random.default_rng(0))
    assert np.isnan(de["psd_distance"]) and np.isfinite(de["mmd"])


def test_class_profiles_hold_spectra_for_signals_and_grids_for_de(tmp_path):
    X, y = _raw_grid(40)
    prof = class_profiles(X[:20], y[:20], X, y, "raw-grid", ("low", "high"), INFO.band_names, 128.0)
    assert set(prof) == {"class_names", "freqs", "psd_real", "psd_synthetic"}
    assert prof["psd_real"].shape == (2, len(prof["freqs"]))
    assert np.isnan(prof["psd_synthetic"][1]).all()  # no synthetic window of class 1
    peak = prof["freqs"][np.argmax(prof["psd_real"][1])]
    assert peak == pytest.approx(10.0, abs=1.0)
    Xd, yd = toy_data("de-grid")
    grids = class_profiles(Xd[:9], yd[:9], Xd, yd, "de-grid", INFO.class_names, INFO.band_names, 128.0)
    assert grids["de_real"].shape == (3, 5, 9, 9) and np.allclose(grids["de_real"][2], Xd[yd == 2].mean(0), atol=1e-5)
    back = np.load(write_quality(tmp_path / "seed-0_fold-0.npz", **grids))
    assert np.array_equal(back["de_synthetic"], grids["de_synthetic"], equal_nan=True)


def test_classifier_metrics_use_the_reference_features_and_train_on_synthetic_only():
    X, y = toy_data("de-grid", counts=(40, 40, 40))
    Xt, yt = toy_data("de-grid", counts=(20, 20, 20), seed=1)
    make = lambda: ESCClassifier.from_config(ESCClassifier.Config.tiny(), info=INFO)  # noqa: E731
    reference = make().fit(X, y, rng=np.random.default_rng(0))
    assert reference.features(Xt).shape == (60, ESCClassifier.Config.tiny().mlp_hidden)
    same = classifier_metrics(reference, make, X[::2], y[::2], X, Xt, yt, 3, np.random.default_rng(0))
    shifted = classifier_metrics(reference, make, X[::2] + 3.0, y[::2], X, Xt, yt, 3, np.random.default_rng(0))
    assert same["frechet"] < shifted["frechet"]
    assert 0.0 <= same["tstr_balanced_accuracy"] <= 1.0
    (Xs, ys), (Xst, yst) = toy_data("de", counts=(40, 40, 40)), toy_data("de", counts=(20, 20, 20), seed=1)
    svm_reference = SVM_CLS.from_config(info=INFO).fit(Xs, ys, rng=np.random.default_rng(0))
    svm = classifier_metrics(svm_reference, lambda: SVM_CLS.from_config(info=INFO), Xs[::2], ys[::2], Xs, Xst, yst,
                             3, np.random.default_rng(0))
    assert np.isnan(svm["frechet"]) and svm["tstr_balanced_accuracy"] > 0.6
    real = classification_metrics(yst, svm_reference.predict_proba(Xst), 3)["balanced_accuracy"]
    assert svm["real_balanced_accuracy"] == real  # the reference itself, scored on the test fold
    assert svm["tstr_ratio"] == pytest.approx(svm["tstr_balanced_accuracy"] / real)
    shuffled = classifier_metrics(None, lambda: SVM_CLS.from_config(info=INFO), Xs[::2], np.random.default_rng(0).permutation(ys[::2]),
                                  Xs, Xst, yst, 3, np.random.default_rng(0))
    assert shuffled["tstr_balanced_accuracy"] < 0.5
    assert np.isnan(shuffled["real_balanced_accuracy"]) and np.isnan(shuffled["tstr_ratio"])  # no reference
