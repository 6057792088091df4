"""``--executor ray`` on a local Ray instance of 2 CPUs: the same table as the local executor, also when a worker dies.

Slow (a Ray instance takes seconds to start, its workers import torch): run with ``pytest -m slow``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import ray  # make test installs the [ray] extra

from bench.runner import run_study
from bench.study import build_study

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds Ray workers in /proc (Linux)")]

TINY = ["dataset.synthetic.n_subjects=3", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4",
        "classifier.esc-cnn.epochs=2"]
TASK_TITLE = b"ray::bench_unit"
"""The process title of a Ray worker while it computes a unit."""


def study(folder: Path, **cli):
    """The issue's small study: none, smote, noise x svm, esc-cnn, 2 folds, 2 seeds, one thread per cell."""
    cli = {"methods": ["none", "smote", "noise"], "classifiers": ["svm", "esc-cnn"], "folds": 2, "seeds": [0, 1],
           "threads": 1, "out": str(folder / "out"), "tracking_uri": f"sqlite:///{folder}/mlflow.db", **cli}
    return build_study(None, TINY, cli)


def computed(table: pd.DataFrame) -> pd.DataFrame:
    """The table without what may differ between two runs of the same cells: seconds, and the keys (they hash
    the data files' identity, and each run here has its own cache folder)."""
    return table[[c for c in table.columns if not str(c).endswith("_s") and c not in ("cell_key", "group_key")]]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The study's table from the local executor (its own cache folder, like every test's)."""
    folder = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BENCH_CACHE_DIR", str(folder / "cache"))
        result = run_study(study(folder))
    assert (result.table["status"] == "ok").all() and len(result.table) == 24
    return folder, result.table


def quality_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "quality").rglob("*")) if p.is_file()}


def test_ray_gives_the_local_executors_table_bit_for_bit(local, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bench.executor_ray")
    result = run_study(study(tmp_path, executor="ray", jobs=2))
    pd.testing.assert_frame_equal(computed(result.table), computed(local[1]), check_exact=True)
    assert quality_files(tmp_path / "out") == quality_files(local[0] / "out")  # the driver wrote the workers' files
    assert "a local Ray instance: 2 CPUs" in caplog.text and "reads the data from Ray's object store" in caplog.text
    assert not ray.is_initialized()  # the instance it started is shut down


def _kill_one_unit(killed: list[int], stop: threading.Event) -> None:
    """Kill the first Ray worker seen computing a unit, half a second into it."""
    while not stop.is_set():
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(TASK_TITLE):
                time.sleep(0.5)
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
                return
        time.sleep(0.05)


def test_a_unit_whose_worker_is_killed_is_retried_and_the_table_is_the_same(local, tmp_path):
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_one_unit, args=(killed, stop), daemon=True)
    killer.start()
    try:
        result = run_study(study(tmp_path, executor="ray", jobs=2))
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray worker was seen computing a unit"
    assert result.failed == 0
    pd.testing.assert_frame_equal(computed(result.table), computed(local[1]), check_exact=True)
