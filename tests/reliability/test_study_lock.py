"""One writer per study: a second run on a held --out is refused; a lock left by a killed run is taken over."""

from __future__ import annotations

import json
import logging
import signal

import pytest

from bench.errors import StudyLockedError
from bench.study_lock import LOCK_NAME, StudyLock, writer_gone, writer_id
from tests.reliability.helpers import bench_process, python_process, tiny_run

HOLD = "import sys, time; from bench.study_lock import StudyLock; lock = StudyLock(sys.argv[1]); lock.acquire(); " \
       "print('held', flush=True); time.sleep(120)"


@pytest.mark.slow  # three processes, about 10 s: run by `make test-slow`
def test_a_second_run_is_refused_while_the_first_holds_the_lock_and_a_dead_holder_is_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    holder = python_process(HOLD, tmp_path, str(out))
    try:
        assert holder.stdout.readline().strip() == "held"
        second = bench_process(tiny_run(out, f"sqlite:///{tmp_path}/mlflow.db"), tmp_path)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert f"PID {holder.pid} on host" in lines[0] and "wait for it to finish, or pass another --out" in lines[0]
        assert not (out / "cells").exists()  # nothing computed
        with pytest.raises(StudyLockedError):  # in this process too
            StudyLock(out).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)

    assert json.loads((out / LOCK_NAME).read_text())["pid"] == holder.pid  # left behind by the killed holder
    with caplog.at_level(logging.WARNING, logger="bench.study_lock"), StudyLock(out):
        assert json.loads((out / LOCK_NAME).read_text())["pid"] != holder.pid
    assert f"PID {holder.pid}" in caplog.text and "stale" in caplog.text
    assert not (out / LOCK_NAME).exists()  # released


def test_the_lock_is_released_when_the_run_raises(tmp_path):
    with pytest.raises(RuntimeError), StudyLock(tmp_path):
        raise RuntimeError("a crash")
    with StudyLock(tmp_path):
        pass


def test_a_writer_is_gone_only_when_it_was_a_process_of_this_host_that_stopped(tmp_path):
    done = python_process("pass", tmp_path)
    done.wait(timeout=60)
    host = writer_id().rpartition(":")[0]
    assert writer_gone(f"{host}:{done.pid}")
    assert not writer_gone(writer_id())
    assert not writer_gone(f"another-host:{done.pid}") and not writer_gone("")


def test_the_lock_is_reentrant_in_one_process_and_released_by_the_outermost(tmp_path):
    with StudyLock(tmp_path):
        with StudyLock(tmp_path):
            pass
        assert (tmp_path / LOCK_NAME).exists()
    assert not (tmp_path / LOCK_NAME).exists()
