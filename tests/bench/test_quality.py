"""Generation-quality metrics on constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from bench.classifiers.svm import SVM
from bench.errors import ConfigError
from bench.quality import (QUALITY_METRICS, class_grid_means, class_psd, frechet_distance,
                           median_bandwidth, memorisation_ratio, mmd, psd_distance, tstr_score)
from bench.testing.contracts import INFO, toy_data

SFREQ = 128.0
SHIFTS = (0.25, 0.5, 1.0)


def _strictly_increasing(values: list[float]) -> bool:
    return all(a < b for a, b in zip(values, values[1:]))


def _eeg_like(rng: np.random.Generator, n: int, alpha_amp: float = 0.0, n_ch: int = 4, n_times: int = 256):
    """Sinusoid-plus-noise windows (n, n_ch, n_times): a 6 Hz rhythm of random phase, white noise,
    and, with ``alpha_amp``, an extra 10 Hz component."""
    t = np.arange(n_times) / SFREQ
    phase = rng.uniform(0, 2 * np.pi, size=(n, n_ch, 2, 1))
    X = np.sin(2 * np.pi * 6 * t + phase[:, :, 0]) + alpha_amp * np.sin(2 * np.pi * 10 * t + phase[:, :, 1])
    return (X + rng.normal(size=(n, n_ch, n_times))).astype(np.float32)


# --- power spectra ---------------------------------------------------------------------------


def _psd(X, sfreq, **kwargs):
    """One class's spectrum: :func:`class_psd` with every window in class 0."""
    freqs, psd = class_psd(X, np.zeros(len(X), dtype=np.int64), 1, sfreq, **kwargs)
    return freqs, psd[0]


def test_class_psd_of_one_class_integrates_to_the_variance_and_peaks_at_the_sinusoid():
    rng = np.random.default_rng(0)
    noise = 2.0 * rng.normal(size=(200, 3, 256))
    freqs, psd = _psd(noise, SFREQ, fmin=0.0)
    assert freqs.shape == psd.shape == (65,) and freqs[-1] == SFREQ / 2
    # Parseval: the one-sided density integrates to the variance (4) over 0..Nyquist.
    assert np.trapezoid(psd, freqs) == pytest.approx(4.0, rel=0.03)

    freqs, psd = _psd(_eeg_like(rng, 50, alpha_amp=2.0), SFREQ, fmax=40.0)
    assert freqs[0] == 1.0 and freqs[-1] == 40.0
    assert freqs[np.argmax(psd)] == 10.0
    _, per_channel = _psd(_eeg_like(rng, 50), SFREQ, per_channel=True)
    assert per_channel.shape == (4, 64)


def test_class_psd_gives_each_class_its_own_spectrum_and_nan_for_absent_classes():
    rng = np.random.default_rng(1)
    X = np.concatenate([_eeg_like(rng, 30), _eeg_like(rng, 30, alpha_amp=3.0)])
    y = np.repeat([0, 2], 30)
    freqs, psd = class_psd(X, y, 3, SFREQ)
    assert psd.shape == (3, len(freqs))
    assert np.isnan(psd[1]).all() and np.isfinite(psd[[0, 2]]).all()
    ten = np.flatnonzero(freqs == 10.0)[0]
    assert psd[2, ten] > 10 * psd[0, ten]
    _, alone = _psd(X[y == 2], SFREQ)
    np.testing.assert_allclose(psd[2], alone, rtol=1e-10)


def test_psd_distance_is_near_zero_for_the_same_process_and_grows_with_added_10hz_power():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 40)
    real = _eeg_like(rng, 80)
    same = psd_distance(real, _eeg_like(rng, 80), y, y, 2, SFREQ)
    shifted = [psd_distance(real, _eeg_like(rng, 80, alpha_amp=a), y, y, 2, SFREQ) for a in (0.5, 1.0, 2.0)]
    assert same < 0.5  # dB
    assert same < shifted[0] and _strictly_increasing(shifted)
    # Twice the power everywhere is 10 log10(2) ~ 3 dB.
    assert psd_distance(real, np.sqrt(2) * real, y, y, 2, SFREQ) == pytest.approx(10 * np.log10(2), rel=1e-6)


def test_psd_distance_averages_only_classes_present_in_both_sets_and_survives_silence():
    rng = np.random.default_rng(3)
    real, syn = _eeg_like(rng, 40), _eeg_like(rng, 40)
    y_real, y_syn = np.repeat([0, 1], 20), np.zeros(40, dtype=np.int64)
    syn_only_0 = psd_distance(real, syn, y_real, y_syn, 2, SFREQ)
    assert syn_only_0 == pytest.approx(psd_distance(real[:20], syn, y_real[:20], y_syn, 2, SFREQ))
    assert np.isnan(psd_distance(real[:20], syn, y_real[:20], np.ones(40, dtype=np.int64), 2, SFREQ))
    silent = psd_distance(real, np.zeros_like(syn), y_real, y_real, 2, SFREQ)
    assert np.isfinite(silent) and silent > 50


def test_psd_inputs_are_checked():
    X = np.zeros((4, 2, 64))
    with pytest.raises(ConfigError, match=r"X must have shape \(n, n_channels, n_times\)"):
        _psd(X[:, 0], SFREQ)
    with pytest.raises(ConfigError, match="Nyquist"):
        _psd(X, SFREQ, fmax=100.0)
    with pytest.raises(ConfigError, match="same number of channels"):
        psd_distance(X, X[:, :1], np.zeros(4, int), np.zeros(4, int), 2, SFREQ)
    short, y = np.random.default_rng(0).normal(size=(4, 2, 32)), np.zeros(4, int)
    with pytest.raises(ConfigError, match="different Welch frequency grids"):
        psd_distance(X, short, y, y, 2, SFREQ)
    assert np.isfinite(psd_distance(X + short.repeat(2, axis=-1), short, y, y, 2, SFREQ, nperseg=32))


# --- MMD -------------------------------------------------------------------------------------


def test_mmd_is_near_zero_for_one_distribution_and_increases_with_the_mean_shift():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(300, 4, 5))
    same = mmd(a, rng.normal(size=(300, 4, 5)))
    shifted = [mmd(a, rng.normal(size=(300, 4, 5)) + s) for s in SHIFTS]
    assert abs(same) < 0.01
    assert shifted[0] > 5 * abs(same) and _strictly_increasing(shifted)


def test_mmd_matches_the_closed_form_for_two_gaussians():
    # x ~ N(0, s^2 I_d), y ~ N(mu, s^2 I_d), k = exp(-|x-y|^2 / (2 h^2)):
    # MMD^2 = 2 (h^2 / (h^2 + 2 s^2))^(d/2) (1 - exp(-|mu|^2 / (2 (h^2 + 2 s^2)))).
    rng = np.random.default_rng(5)
    d, s, h = 3, 1.0, 2.0
    mu = np.full(d, 0.8)
    expected = 2 * (h**2 / (h**2 + 2 * s**2)) ** (d / 2) * (1 - np.exp(-mu @ mu / (2 * (h**2 + 2 * s**2))))
    values = [mmd(rng.normal(size=(1000, d)), mu + rng.normal(size=(1000, d)), bandwidth=h) for _ in range(3)]
    assert np.mean(values) == pytest.approx(expected, rel=0.05)


def test_median_bandwidth_and_subsampling():
    rng = np.random.default_rng(6)
    # Distances between N(0, I_d) draws concentrate at sqrt(2 d).
    assert median_bandwidth(rng.normal(size=(400, 200))) == pytest.approx(np.sqrt(400), rel=0.02)
    a, b = rng.normal(size=(3000, 10)), rng.normal(size=(2500, 10)) + 0.5
    first = mmd(a, b, max_samples=300, rng=np.random.default_rng(7))
    assert first == mmd(a, b, max_samples=300, rng=np.random.default_rng(7))
    assert first != mmd(a, b, max_samples=300, rng=np.random.default_rng(8))
    pooled = median_bandwidth(np.concatenate([a[:300], b[:300]]))
    assert mmd(a[:300], b[:300], bandwidth=pooled) == pytest.approx(mmd(a[:300], b[:300]))
    with pytest.raises(ConfigError, match="same window shape"):
        mmd(a, b[:, :5])
    with pytest.raises(ConfigError, match="bandwidth must be > 0"):
        mmd(a[:10], b[:10], bandwidth=0.0)


# --- Frechet distance ------------------------------------------------------------------------


def test_frechet_distance_matches_the_closed_form_for_two_gaussians():
    # Diagonal covariances commute: d^2 = |mu_a - mu_b|^2 + sum (sqrt(var_a) - sqrt(var_b))^2.
    rng = np.random.default_rng(9)
    mu_a, mu_b = np.array([0.0, 1.0, -1.0]), np.array([1.0, 1.0, 2.0])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    a = mu_a + np.sqrt(var_a) * rng.normal(size=(40000, 3))
    b = mu_b + np.sqrt(var_b) * rng.normal(size=(40000, 3))
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    # A rotation of both sets (non-diagonal covariances) leaves the distance unchanged.
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    assert frechet_distance(a @ q, b @ q) == pytest.approx(frechet_distance(a, b), rel=1e-6)


def test_frechet_distance_is_near_zero_for_one_distribution_and_increases_with_the_shift():
    rng = np.random.default_rng(10)
    a = rng.normal(size=(2000, 8))
    same = frechet_distance(a, rng.normal(size=(2000, 8)))
    shifted = [frechet_distance(a, rng.normal(size=(2000, 8)) + s) for s in SHIFTS]
    assert 0 <= same < 0.05
    assert same < shifted[0] and _strictly_increasing(shifted)


def test_frechet_distance_agrees_with_the_sqrtm_formula_of_the_reference_code():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(14)
    a = rng.normal(size=(300, 20)) @ rng.normal(size=(20, 20))
    b = rng.normal(size=(200, 20)) @ rng.normal(size=(20, 20)) + 0.3
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = a.mean(0) - b.mean(0)
    reference = diff @ diff + np.trace(cov_a + cov_b - 2 * sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(reference, rel=1e-8)


def test_frechet_distance_is_finite_with_singular_covariances():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(10, 64)), rng.normal(size=(12, 64)) + 1.0
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 64  # at least the squared mean difference
    with pytest.raises(ConfigError, match="features_a must have shape"):
        frechet_distance(a[:, None], b)


# --- memorisation ----------------------------------------------------------------------------


def test_memorisation_ratio_is_about_one_for_fresh_samples_and_small_for_jittered_copies():
    rng = np.random.default_rng(12)
    train = rng.normal(size=(600, 4, 8))
    holdout, fresh = rng.normal(size=(200, 4, 8)), rng.normal(size=(300, 4, 8))
    copies = train[rng.integers(0, 600, size=300)] + 0.01 * rng.normal(size=(300, 4, 8))
    assert memorisation_ratio(fresh, train, holdout) == pytest.approx(1.0, abs=0.1)
    assert memorisation_ratio(copies, train, holdout) < 0.05
    half = np.concatenate([fresh[:150], copies[:150]])  # the median tips over with half copies
    assert memorisation_ratio(half, train, holdout) < memorisation_ratio(fresh, train, holdout)


def _svm():
    return SVM.from_config(SVM.Config.tiny(), info=INFO)


def test_tstr_is_well_above_chance_on_a_separable_problem_and_near_chance_with_shuffled_labels():
    X_syn, y_syn = toy_data("de", counts=(60, 60, 60), seed=1)
    X_syn.reshape(len(X_syn), -1)[:, :8] += 1.5 * y_syn[:, None]  # well separated classes
    X_test, y_test = toy_data("de", counts=(100, 100, 100), seed=2)
    X_test.reshape(len(X_test), -1)[:, :8] += 1.5 * y_test[:, None]
    score = tstr_score(_svm, X_syn, y_syn, X_test, y_test, 3, rng=np.random.default_rng(0))
    shuffled = [tstr_score(_svm, X_syn, np.random.default_rng(seed).permutation(y_syn), X_test, y_test, 3,
                           rng=np.random.default_rng(0)) for seed in range(8)]
    assert score > 0.9
    assert abs(np.mean(shuffled) - 1 / 3) < 0.06


def test_tstr_is_nan_without_fitting_when_the_synthetic_set_lacks_a_class():
    X, y = toy_data("de")

    def fail():
        raise AssertionError("no classifier should be built")

    assert np.isnan(tstr_score(fail, X[y < 2], y[y < 2], X, y, 3, rng=np.random.default_rng(0)))
    assert np.isnan(tstr_score(fail, X[:0], y[:0], X, y, 3, rng=np.random.default_rng(0)))


# --- topomaps and names ----------------------------------------------------------------------


def test_class_grid_means_per_class_with_nan_for_absent_classes():
    X, y = toy_data("de-grid", counts=(5, 0, 7))
    means = class_grid_means(X, y, 3)
    assert means.shape == (3, 5, 9, 9)
    np.testing.assert_allclose(means[0], X[y == 0].astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(means[2], X[y == 2].astype(np.float64).mean(axis=0), rtol=1e-12)
    assert np.isnan(means[1]).all()
    with pytest.raises(ConfigError, match="labels must be in 0..2"):
        class_grid_means(X, y + 1, 3)


def test_quality_metric_names():
    assert QUALITY_METRICS == ("psd_distance", "mmd", "frechet", "tstr_balanced_accuracy", "memorisation_ratio")
