"""Headless Chromium for the browser tests: the flags that work on a closed network, and one call."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``chromium`` headless with a fresh profile folder and ``args`` (e.g. ``--dump-dom URL``)."""
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120)


def chromium_path() -> str:
    """Path of ``chromium`` on PATH; fails the test with the fix when there is none (``make test-browser`` installs it)."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not on PATH: run the browser tests with `make test-browser`, which installs it "
                    "(apt-get install -y chromium)")
    return found
