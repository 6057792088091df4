"""Signals: SIGTERM is Ctrl-C (exit 143, resumable); kill -9 of the main process leaves no worker; stale runs closed."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from bench.executor import _references_folder
from bench.study_lock import LOCK_NAME, writer_id
from bench.tracking import WRITER_TAG, Tracker
from tests.reliability.helpers import bench_process, python_process, tiny_run

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")

SEEDS = ["--seeds", "0,1,2"]
N_CELLS = 12
"""Twelve cells: enough that the run is still going when the signal comes."""


def _ppid(pid: int) -> int | None:
    """The parent of a live (not zombie) process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = stat.rpartition(")")[2].split()[:2]
    return None if state in ("Z", "X") else int(ppid)


def _descendants(pid: int) -> set[int]:
    parents = {int(p): _ppid(int(p)) for p in os.listdir("/proc") if p.isdigit()}
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.1)


def _stop_midway(out: Path, uri: str, experiment: str, signum: int, code: int, message: str, tmp_path: Path,
                 *extra: str) -> int:
    """Start a tiny study, send ``signum`` once its first cell is saved, and check it exits with ``code`` and
    ``message`` within 10 s, keeping some but not all cells; return how many it kept."""
    run = bench_process(tiny_run(out, uri, experiment, *SEEDS, *extra), tmp_path)
    _wait_for(lambda: any((out / "cells").glob("*.json")) or run.poll() is not None, 180, "the first cell")
    run.send_signal(signum)
    tic = time.monotonic()
    _, err = run.communicate(timeout=10)
    assert time.monotonic() - tic < 10
    assert run.returncode == code, err[-3000:]
    assert message in err and "Traceback" not in err
    done = len(list((out / "cells").glob("*.json")))
    assert 0 < done < N_CELLS
    return done


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_sigkill_of_the_main_process_leaves_no_worker_alive(tmp_path):
    run = bench_process(tiny_run(tmp_path / "out", f"sqlite:///{tmp_path}/mlflow.db", "kill9", *SEEDS)
                        + ["--jobs", "2"], tmp_path)
    try:
        _wait_for(lambda: len(_descendants(run.pid)) >= 3 or run.poll() is not None, 120,
                  "two workers and the resource tracker")
        time.sleep(1.0)  # the workers are importing or computing
        children = _descendants(run.pid)
    finally:
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
    assert len(children) >= 3, "the run finished before it could be killed"
    _wait_for(lambda: not any(_ppid(pid) is not None for pid in children), 10, f"processes {children} to end")
    left = list(Path(tempfile.gettempdir()).glob(f".bench-references.*-{run.pid}.*.partial"))
    assert left  # the killed run could not remove its temporary folder ...
    with _references_folder():  # ... the next --jobs run does
        assert not any(p.exists() for p in left)


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_sigterm_exits_like_ctrl_c_and_the_rerun_resumes_and_closes_stale_runs(tmp_path):
    uri, out = f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "out"
    done = _stop_midway(out, uri, "term", signal.SIGTERM, 143, "terminated (SIGTERM): finished cells are saved",
                        tmp_path)
    assert not (out / LOCK_NAME).exists()

    gone = python_process("pass", tmp_path)  # a process that ran and ended: the writer of a run left RUNNING
    gone.wait(timeout=60)
    tracker = Tracker(uri, "term")
    host = writer_id().rpartition(":")[0]
    stale = tracker.client.create_run(tracker.experiment_id, run_name="killed while logging",
                                      tags={WRITER_TAG: f"{host}:{gone.pid}"}).info.run_id

    rerun = bench_process(tiny_run(out, uri, "term", *SEEDS), tmp_path)
    _, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err[-3000:]
    assert f"{N_CELLS - done} cells computed, {done} already done (skipped)" in err
    client = MlflowClient(uri)
    assert client.get_run(stale).info.status == "KILLED"
    assert "marked KILLED" in err
    assert not client.search_runs([tracker.experiment_id], "attributes.status = 'RUNNING'")


@pytest.mark.slow
@pytest.mark.parametrize("executor", [["--jobs", "2"], ["--executor", "ray", "--jobs", "2"]], ids=["pool", "ray"])
def test_ctrl_c_stops_parallel_workers_within_10_s_and_the_rerun_resumes(tmp_path, executor):
    uri, out = f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "out"
    done = _stop_midway(out, uri, "int", signal.SIGINT, 130, "interrupted: finished cells are saved", tmp_path,
                        *executor)

    rerun = bench_process(tiny_run(out, uri, "int", *SEEDS, *executor), tmp_path)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-3000:]
    assert f"{N_CELLS - done} cells computed, {done} already done (skipped)" in err
