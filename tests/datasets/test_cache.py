import json
import os

import numpy as np
import pytest
from scipy import signal

import datasets
from datasets.cache import ArrayCache, cache_key
from datasets.deap import Deap, DeapConfig
from datasets.features import FeatureConfig, differential_entropy
from datasets.segment import SegmentConfig
from tests.datasets.fixtures_deap import write_deap


@pytest.fixture
def deap_dir(tmp_path):
    write_deap(tmp_path / "deap" / "data_preprocessed_python", subjects=(1, 2), n_trials=2)
    return tmp_path


@pytest.fixture
def reads(monkeypatch):
    """Counts DEAP files read."""
    calls = []
    original = Deap.read_file

    def counting(self, path):
        calls.append(path.name)
        return original(self, path)

    monkeypatch.setattr(Deap, "read_file", counting)
    return calls


def test_second_prepare_reads_no_file_and_returns_the_same_arrays(deap_dir, reads):
    first = datasets.prepare("deap", data_dir=deap_dir)
    assert reads == ["s01.dat", "s02.dat"]
    second = datasets.prepare("deap", data_dir=deap_dir)
    assert reads == ["s01.dat", "s02.dat"]
    assert isinstance(second.segments.X, np.memmap) or isinstance(second.segments.X.base, np.memmap)
    np.testing.assert_array_equal(first.de, second.de)
    np.testing.assert_array_equal(first.segments.X, second.segments.X)
    assert first.key == second.key


CHANGES = [
    dict(segment_config=SegmentConfig(window_s=0.5)),
    dict(segment_config=SegmentConfig(stride_s=0.5)),
    dict(segment_config=SegmentConfig(baseline="raw")),
    dict(segment_config=SegmentConfig(baseline="de")),
    dict(reader=DeapConfig(nan_policy="error")),
    dict(feature_config=FeatureConfig(order=4)),
    dict(feature_config=FeatureConfig(bands=(("alpha", 8, 13),))),
    dict(feature_config=FeatureConfig(filtering="zero-phase")),
    dict(feature_config=FeatureConfig(scope="trial")),
    dict(feature_config=FeatureConfig(de_of="std")),
    dict(feature_config=FeatureConfig(log_base="2")),
    dict(feature_config=FeatureConfig(ddof=1)),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: repr(next(iter(c.values()))))
def test_changing_any_parameter_never_returns_stale_data(deap_dir, change):
    base = datasets.prepare("deap", data_dir=deap_dir)
    changed = datasets.prepare("deap", data_dir=deap_dir, **change)
    fresh = datasets.prepare("deap", data_dir=deap_dir, cache_root=deap_dir / "fresh-cache", **change)
    assert changed.key != base.key
    np.testing.assert_array_equal(changed.de, fresh.de)
    np.testing.assert_array_equal(changed.segments.X, fresh.segments.X)


def test_a_changed_source_file_invalidates(deap_dir, reads):
    datasets.prepare("deap", data_dir=deap_dir)
    path = deap_dir / "deap" / "data_preprocessed_python" / "s02.dat"
    write_deap(path.parent, subjects=(2,), n_trials=2, seed=99)  # same size, new content and mtime
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    datasets.prepare("deap", data_dir=deap_dir)
    assert reads.count("s02.dat") == 2


def test_feature_change_reuses_cached_segments(deap_dir, reads):
    datasets.prepare("deap", data_dir=deap_dir)
    datasets.prepare("deap", data_dir=deap_dir, feature_config=FeatureConfig(order=3))
    assert len(reads) == 2


@pytest.mark.parametrize("damage", ["truncate", "manifest", "missing", "flip"])
def test_corrupt_entries_are_detected_and_rebuilt(deap_dir, damage, caplog):
    prep = datasets.prepare("deap", data_dir=deap_dir)
    expected_x, expected_de = np.array(prep.segments.X), np.array(prep.de)
    entry = ArrayCache(datasets.paths.cache_dir()).path("segments", next(
        p.name for p in (datasets.paths.cache_dir() / "segments").iterdir() if not p.name.startswith(".")))
    target = entry / ("X.npy" if damage != "flip" else "ratings.npy")
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "manifest":
        (entry / "manifest.json").write_text("{not json")
    elif damage == "missing":
        target.unlink()
    else:
        raw = bytearray(target.read_bytes())
        raw[-1] ^= 0xFF
        target.write_bytes(bytes(raw))
    again = datasets.prepare("deap", data_dir=deap_dir)
    assert "rebuilding" in caplog.text
    np.testing.assert_array_equal(again.segments.X, expected_x)
    np.testing.assert_array_equal(again.de, expected_de)


def test_store_is_atomic_and_leftovers_are_ignored(tmp_path):
    cache = ArrayCache(tmp_path)
    key = cache_key(x=1)
    (tmp_path / "k" / f".{key}.partial").mkdir(parents=True)  # what a killed writer leaves behind
    assert cache.load("k", key) is None
    cache.store("k", key, {"a": [np.arange(3), np.arange(3, 5)]}, {"note": "joined on disk"})
    arrays, meta = cache.load("k", key)
    assert arrays["a"].tolist() == [0, 1, 2, 3, 4] and meta == {"note": "joined on disk"}
    cache.store("k", key, {"a": np.zeros(1)}, {})  # a second writer of the same key loses harmlessly
    assert cache.load("k", key)[0]["a"].tolist() == [0, 1, 2, 3, 4]
    assert json.loads((tmp_path / "k" / key / "manifest.json").read_text())["arrays"]["a"]["shape"] == [5]


def test_cache_key_is_stable_and_sensitive():
    assert cache_key(a=FeatureConfig(), b=[1, 2]) == cache_key(b=[1, 2], a=FeatureConfig())
    assert cache_key(a=FeatureConfig()) != cache_key(a=FeatureConfig(order=4))


def test_de_baseline_mode_subtracts_the_trials_baseline_de(deap_dir):
    plain = datasets.prepare("deap", data_dir=deap_dir)
    removed = datasets.prepare("deap", data_dir=deap_dir, segment_config=SegmentConfig(baseline="de"))
    seg = removed.segments
    base_de = differential_entropy(seg.baseline, seg.sfreq, FeatureConfig())
    np.testing.assert_allclose(removed.de, plain.de - base_de[seg.trial_id], atol=1e-5)
    np.testing.assert_array_equal(removed.segments.X, plain.segments.X)


def test_trial_scope_filters_whole_trials_before_cutting(deap_dir):
    prep = datasets.prepare("deap", data_dir=deap_dir, feature_config=FeatureConfig(scope="trial"))
    trial = datasets.load("deap", data_dir=deap_dir).trials[3].astype(np.float64)  # subject 2, trial 2
    sos = signal.butter(5, [8, 13], btype="bandpass", fs=128.0, output="sos")
    filtered = signal.sosfilt(sos, trial, axis=-1)
    expected = 0.5 * np.log(2 * np.pi * np.e * filtered[:, 384 + 128 : 384 + 256].var(axis=-1))
    row = np.flatnonzero((prep.segments.trial_id == 3) & (prep.segments.position == 1))[0]
    np.testing.assert_allclose(prep.de[row, :, 2], expected, rtol=1e-4)
    assert prep.de.shape == datasets.prepare("deap", data_dir=deap_dir).de.shape
