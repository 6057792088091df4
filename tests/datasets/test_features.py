import numpy as np
import pytest
from scipy import signal

from bench.errors import ConfigError
from datasets.features import FeatureConfig, de_from_filtered, differential_entropy

LN_2PIE = np.log(2 * np.pi * np.e)
ZERO_PHASE = FeatureConfig(filtering="zero-phase")


def band_noise(rng, n, sfreq, lo, hi, variance, n_ch=3):
    """Gaussian noise with all its power strictly inside [lo, hi] Hz and the given variance."""
    spectrum = np.fft.rfft(rng.standard_normal((n, n_ch, int(30 * sfreq))), axis=-1)
    freqs = np.fft.rfftfreq(int(30 * sfreq), 1 / sfreq)
    spectrum[..., (freqs < lo) | (freqs > hi)] = 0
    x = np.fft.irfft(spectrum, axis=-1)
    return x / x.std(axis=-1, keepdims=True) * np.sqrt(variance)


@pytest.mark.parametrize("variance", [0.5, 4.0, 100.0])
def test_band_limited_gaussian_noise_has_the_analytic_de(variance):
    x = band_noise(np.random.default_rng(0), 4, 128.0, 9.0, 12.0, variance)
    de = differential_entropy(x, 128.0, ZERO_PHASE)
    alpha = ZERO_PHASE.band_names.index("alpha")
    np.testing.assert_allclose(de[..., alpha], 0.5 * (LN_2PIE + np.log(variance)), atol=0.03)


def test_sinusoid_inside_versus_outside_a_band():
    sfreq, amplitude = 128.0, 3.0
    t = np.arange(int(20 * sfreq)) / sfreq
    x = (amplitude * np.sin(2 * np.pi * 10.5 * t))[None, None]
    de = differential_entropy(x, sfreq, ZERO_PHASE)[0, 0]
    inside = de[ZERO_PHASE.band_names.index("alpha")]
    np.testing.assert_allclose(inside, 0.5 * (LN_2PIE + np.log(amplitude**2 / 2)), atol=0.02)
    for band in ("delta", "beta", "gamma"):
        assert de[ZERO_PHASE.band_names.index(band)] < inside - 3  # > 400x less power


def test_sampling_rate_comes_from_the_data():
    sfreq = 200.0  # SEED
    t = np.arange(int(10 * sfreq)) / sfreq
    x = np.sin(2 * np.pi * 40 * t)[None, None]
    de = differential_entropy(x, sfreq, ZERO_PHASE)[0, 0]
    assert np.argmax(de) == ZERO_PHASE.band_names.index("gamma")
    wrong = differential_entropy(x, 128.0, ZERO_PHASE)[0, 0]  # what TorchEEG's SEED example does
    assert np.argmax(wrong) != np.argmax(de)


def test_vectorised_equals_a_per_segment_per_band_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(37, 4, 128)).astype(np.float32)
    config = FeatureConfig()
    fast = differential_entropy(x, 128.0, config, n_threads=2)
    slow = np.empty_like(fast)
    for i in range(x.shape[0]):
        for b, (_, lo, hi) in enumerate(config.bands):
            sos = signal.butter(5, [lo, hi], btype="bandpass", fs=128.0, output="sos")
            for c in range(x.shape[1]):
                y = signal.sosfilt(sos, x[i, c].astype(np.float64))
                slow[i, c, b] = 0.5 * np.log(2 * np.pi * np.e * y.var())
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(fast, differential_entropy(x, 128.0, config, n_threads=1))


def test_reference_code_conventions():
    x = np.random.default_rng(2).normal(0, 3.0, size=(1, 1, 100_000))
    var = x.var()
    np.testing.assert_allclose(de_from_filtered(x), 0.5 * np.log(2 * np.pi * np.e * var))
    np.testing.assert_allclose(de_from_filtered(x, de_of="std"), 0.5 * np.log(2 * np.pi * np.e * np.sqrt(var)))
    np.testing.assert_allclose(de_from_filtered(x, log_base="2"), 0.5 * np.log2(2 * np.pi * np.e * var))
    np.testing.assert_allclose(de_from_filtered(x, ddof=1), 0.5 * np.log(2 * np.pi * np.e * x.var(ddof=1)))


def test_custom_bands_and_order():
    config = FeatureConfig(bands=(("theta", 4, 8), ("alpha", 8, 14)), order=3)
    de = differential_entropy(np.random.default_rng(3).normal(size=(5, 2, 64)), 128.0, config)
    assert de.shape == (5, 2, 2) and de.dtype == np.float32 and config.band_names == ("theta", "alpha")


def test_band_beyond_nyquist_is_explained():
    config = FeatureConfig(bands=(("gamma", 30, 70),))
    with pytest.raises(ConfigError, match="Nyquist frequency 64 Hz"):
        differential_entropy(np.zeros((1, 1, 128)), 128.0, config)


@pytest.mark.parametrize("bad", [dict(filtering="acausal"), dict(scope="epoch"), dict(de_of="var"),
                                 dict(log_base="10"), dict(bands=(("x", 8, 4),)), dict(order=0), dict(ddof=2),
                                 dict(source="psd_LDS")])
def test_config_validation(bad):
    with pytest.raises(ConfigError):
        FeatureConfig(**bad)
