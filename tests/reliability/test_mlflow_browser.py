"""The MLflow UI is the leaderboard: a real ``mlflow server`` opened in headless Chromium (marked ``browser``).

A tiny study (svm with none and smote, 2 folds) is logged to a server on a temporary SQLite store; the
experiment's address that bench prints opens the runs table sorted by ``balanced_accuracy_mean``,
whose first rows must be the printed leaderboard's pairs, best first. The screenshot is kept as
``test-artifacts/mlflow-leaderboard.png`` (git-ignored). Chromium is installed by
``make test-browser`` (``.ci/run``), never here.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.runner import run_study
from bench.study import build_study
from bench.tracking import Tracker, leaderboard_path, run_name
from reports.leaderboard import format_leaderboard
from tests.browser import browse, chromium_path

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "test-artifacts" / "mlflow-leaderboard.png"
TINY = ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4"]
RUN_NAME = re.compile(r">([A-Za-z0-9_-]+ · [A-Za-z0-9_-]+)<")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def printed_pairs(leaderboard: str) -> list[str]:
    """The ``method · classifier`` names of the printed leaderboard's scored rows, in its order."""
    rows = [line.split() for line in leaderboard.splitlines()]
    return [run_name(r[0], r[1]) for r in rows if len(r) > 2 and re.fullmatch(r"\d\.\d+", r[2].split("±")[0])]


@pytest.fixture
def mlflow_server(tmp_path):
    """Start ``mlflow server`` on a temporary SQLite store; yield its URL (the tracking URI); stop it."""
    uri, port = f"sqlite:///{tmp_path}/mlflow.db", free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("mlflow")), "server", "--backend-store-uri", uri,
                               "--artifacts-destination", str(tmp_path / "artifacts"), "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "1"],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(f"{base}/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        else:
            pytest.fail("mlflow server did not answer /health within 2 minutes")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_the_mlflow_runs_table_sorted_by_balanced_accuracy_is_the_printed_leaderboard(mlflow_server, tmp_path):
    chromium = chromium_path()
    uri = mlflow_server
    config = build_study(None, TINY, {"methods": ["none", "smote"], "classifiers": ["svm"], "folds": 2, "jobs": 1,
                                      "out": str(tmp_path / "out"), "tracking_uri": uri, "experiment": "leaderboard"})
    result = run_study(config)
    expected = printed_pairs(format_leaderboard(result.summary))
    assert sorted(expected) == ["none · svm", "smote · svm"]
    assert result.tracking_hint == f"{uri}/{leaderboard_path(Tracker(uri, 'leaderboard').experiment_id)}"

    dumped = browse(chromium, tmp_path / "profile-dom", "--virtual-time-budget=30000", "--window-size=1600,900",
                    "--dump-dom", result.tracking_hint)
    assert dumped.returncode == 0, dumped.stderr[-1000:]
    names = [html.unescape(n) for n in RUN_NAME.findall(dumped.stdout)]
    assert names[:len(expected)] == expected, f"runs table shows {names}, leaderboard prints {expected}"
    assert "Training runs" in dumped.stdout or ">Runs<" in dumped.stdout  # the runs table, not the GenAI overview
    assert "balanced_accuracy_mean" in dumped.stdout  # the sort the address asked for

    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    taken = browse(chromium, tmp_path / "profile-shot", "--virtual-time-budget=30000", "--hide-scrollbars",
                   "--window-size=1600,900", f"--screenshot={SCREENSHOT}", result.tracking_hint)
    assert taken.returncode == 0 and SCREENSHOT.stat().st_size > 10_000, taken.stderr[-1000:]
