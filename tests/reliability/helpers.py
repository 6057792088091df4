"""Shared by the fault-injection tests: a tiny study's options and running bench in another process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY_SETS = ["--set", "dataset.synthetic.n_subjects=3", "--set", "dataset.synthetic.n_trials=6",
             "--set", "dataset.synthetic.trial_s=4"]
"""A synthetic dataset small enough that an svm study of two folds takes seconds."""


def tiny_run(out: Path, tracking_uri: str, experiment: str = "tiny", *extra: str) -> list[str]:
    """``bench run`` arguments of a tiny study: none and noise with svm, two folds, one seed, no quality, no bar."""
    return ["run", "--methods", "none,noise", "--classifiers", "svm", "--folds", "2", "--seeds", "0", "--jobs", "1",
            "--no-quality", "--experiment", experiment, "--tracking-uri", tracking_uri, "--out", str(out), "--quiet",
            *TINY_SETS, *extra]


def bench_process(args: list[str], cwd: Path, **popen: object) -> subprocess.Popen:
    """Start ``python -m bench ARGS`` in ``cwd`` with this test's environment (its cache folder)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def python_process(code: str, cwd: Path, *args: str) -> subprocess.Popen:
    """Start ``python -c CODE ARGS`` in ``cwd`` with this test's environment."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
