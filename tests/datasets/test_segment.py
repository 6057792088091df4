import numpy as np
import pytest

from bench.errors import ConfigError, DataFormatError
from datasets.recording import Recording
from datasets.segment import SegmentConfig, count_windows, cut_windows, segment


def _recording(lengths=(384 + 512, 384 + 300), baseline_s=3.0, sfreq=128.0, n_ch=2):
    rng = np.random.default_rng(0)
    trials = tuple(rng.normal(size=(n_ch, n)).astype(np.float32) for n in lengths)
    n = len(trials)
    return Recording(
        dataset="toy", trials=trials, ratings=np.arange(n * 2, dtype=float).reshape(n, 2),
        rating_names=("valence", "arousal"), subject=np.arange(1, n + 1), session=np.ones(n),
        trial=np.arange(1, n + 1), sfreq=sfreq, ch_names=tuple(f"C{i}" for i in range(n_ch)), baseline_s=baseline_s,
    )


def test_windows_start_after_the_baseline_and_keep_their_ids():
    rec = _recording()
    seg = segment(rec, SegmentConfig())
    assert seg.X.shape == (4 + 2, 2, 128) and seg.X.dtype == np.float32
    np.testing.assert_array_equal(seg.X[1], rec.trials[0][:, 384 + 128 : 384 + 256])
    np.testing.assert_array_equal(seg.X[4], rec.trials[1][:, 384 : 384 + 128])
    assert seg.trial_id.tolist() == [0, 0, 0, 0, 1, 1]
    assert seg.position.tolist() == [0, 1, 2, 3, 0, 1]
    assert seg.subject.tolist() == [1, 1, 1, 1, 2, 2]
    np.testing.assert_array_equal(seg.ratings[5], rec.ratings[1])


def test_overlapping_stride_and_half_second_windows():
    rec = _recording(lengths=(384 + 256,))
    seg = segment(rec, SegmentConfig(window_s=0.5, stride_s=0.25))
    assert seg.X.shape == (7, 2, 64)  # (256 - 64) / 32 + 1
    np.testing.assert_array_equal(seg.X[3], rec.trials[0][:, 384 + 96 : 384 + 160])


def test_raw_baseline_subtracts_the_mean_baseline_window():
    rec = _recording()
    trial = rec.trials[0]
    template = (trial[:, :128] + trial[:, 128:256] + trial[:, 256:384]) / 3
    seg = segment(rec, SegmentConfig(baseline="raw"))
    np.testing.assert_allclose(seg.X[2], trial[:, 384 + 256 : 384 + 384] - template, atol=1e-5)
    np.testing.assert_allclose(seg.baseline[0], template, atol=1e-6)
    none = segment(rec, SegmentConfig(baseline="none"))
    np.testing.assert_array_equal(none.X[2], trial[:, 384 + 256 : 384 + 384])


def test_baseline_modes_need_a_baseline():
    rec = _recording(baseline_s=0.0)
    assert segment(rec, SegmentConfig()).baseline is None
    with pytest.raises(ConfigError, match="no pre-stimulus baseline"):
        segment(rec, SegmentConfig(baseline="de"))
    with pytest.raises(ConfigError, match="longer"):
        segment(_recording(baseline_s=0.5), SegmentConfig(baseline="raw"))


def test_window_must_be_whole_samples():
    with pytest.raises(ConfigError, match="whole number of samples"):
        segment(_recording(), SegmentConfig(window_s=0.3))  # 38.4 samples at 128 Hz
    assert SegmentConfig(window_s=0.5).samples(200.0) == (100, 100)


def test_trial_too_short_for_one_window_is_named():
    with pytest.raises(DataFormatError, match="subject 2 session 1 trial 2 has 400 samples"):
        count_windows(_recording(lengths=(384 + 128, 400)), SegmentConfig())


def test_cut_windows_is_exact_and_empty_when_nothing_fits():
    x = np.arange(20.0).reshape(2, 10)
    w = cut_windows(x, 2, 4, 3)
    assert w.shape == (2, 2, 4)  # starts 0 and 3 of the 8-sample tail
    np.testing.assert_array_equal(w[1, 1], [15, 16, 17, 18])
    assert cut_windows(x, 8, 4, 1).shape == (0, 2, 4)


@pytest.mark.parametrize("bad", [dict(window_s=0), dict(stride_s=-1), dict(baseline="DE")])
def test_config_validation(bad):
    with pytest.raises(ConfigError):
        SegmentConfig(**bad)
