"""Damaged or half-written things on disk are detected, removed with a warning and rebuilt, never used."""

from __future__ import annotations

import json
import logging
import signal

import numpy as np

from bench.integrity import partial_path
from bench.results import CellStore, ResultRow
from datasets.cache import ArrayCache
from datasets.pipeline import prepare
from datasets.synthetic import Synthetic, SyntheticConfig
from tests.reliability.helpers import python_process


def test_a_large_cache_array_overwritten_in_place_is_detected_and_rebuilt(tmp_path, caplog):
    cache = ArrayCache(tmp_path)
    x = np.arange(9 * 2**20, dtype=np.float64)  # 72 MiB: above the old size-and-header-only limit
    cache.store("segments", "k", {"X": x}, {})
    path = tmp_path / "segments" / "k" / "X.npy"
    with open(path, "r+b") as f:  # 200 windows' worth of bytes overwritten: same size, same header
        f.seek(40 * 2**20)
        f.write(b"\0" * 200 * 4096)
    with caplog.at_level(logging.WARNING):
        arrays, _ = cache.get_or_build("segments", "k", lambda: ({"X": x}, {}))
    assert "does not match its checksum" in caplog.text and "rebuilding" in caplog.text
    np.testing.assert_array_equal(arrays["X"], x)
    assert cache.load("segments", "k") is not None  # the rebuilt entry verifies


def test_a_truncated_synthetic_file_is_generated_again(tmp_path, caplog):
    config = SyntheticConfig(n_subjects=3, n_trials=4, trial_s=2)
    first = prepare("synthetic", reader=config, cache_root=tmp_path, feature_config=None)
    s03 = Synthetic(config, root=tmp_path).files()[2]
    original = s03.read_bytes()
    s03.write_bytes(original[: len(original) // 2])
    with caplog.at_level(logging.WARNING):
        again = prepare("synthetic", reader=config, cache_root=tmp_path, feature_config=None)
    assert "s03.dat" in caplog.text and "generating them again" in caplog.text
    assert "DEAP download" not in caplog.text
    assert s03.read_bytes() == original
    np.testing.assert_array_equal(again.segments.X, first.segments.X)


def test_an_edited_cell_record_is_computed_again(tmp_path, caplog):
    store = CellStore(tmp_path)
    row = ResultRow(study="s", dataset="synthetic", task="valence", protocol="trial-kfold", method="none",
                    classifier="svm", seed=0, fold="fold-0", leaky=False, status="ok", cell_key="c0",
                    metrics={"balanced_accuracy": 0.61})
    store.save(row)
    assert store.load("c0") == row
    record = json.loads(store.path("c0").read_text())
    record["metrics"]["balanced_accuracy"] = 0.91
    store.path("c0").write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        assert store.load("c0") is None  # not used: the runner computes the cell again
    assert "does not match its checksum" in caplog.text


KILLED_WRITER = """
import sys, time
from pathlib import Path
from bench.integrity import partial_path
tmp = partial_path(Path(sys.argv[1]))
tmp.mkdir()
(tmp / "X.npy").write_bytes(b"half")
print(tmp, flush=True)
time.sleep(120)
"""


def test_partial_entries_of_a_killed_writer_are_removed_and_a_live_writers_kept(tmp_path, caplog):
    folder = tmp_path / "segments"
    folder.mkdir()
    writer = python_process(KILLED_WRITER, tmp_path, str(folder / "k1"))
    left = writer.stdout.readline().strip()
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    live = partial_path(folder / "k2")  # this process's: still being written
    live.mkdir()
    with caplog.at_level(logging.WARNING):
        ArrayCache(tmp_path).store("segments", "k3", {"X": np.zeros(3)}, {})
    assert left and not (tmp_path / left).exists() and "partial" in caplog.text
    assert live.is_dir()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["k3"]
