"""A password planted in the tracking URI and the Optuna storage appears in no output and no stored file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import TINY_SETS, python_process, tiny_run

SECRET = "Pw-7f3c91e2d0"

SCRIPT = """
import sys
from bench.cli import main
tmp, secret, *rest = sys.argv[1:]
track = f"sqlite:///{tmp}/mlflow.db?password={secret}"
run = [a.replace("TRACK", track) for a in rest[: rest.index("--")]]
sets = rest[rest.index("--") + 1:]
codes = [
    main(run),
    main(["tune", "--method", "noise", "--classifier", "svm", "--folds", "2", "--inner-folds", "2",
          "--outer-folds-used", "1", "--trials", "1", "--storage", f"sqlite:///{tmp}/optuna.db?password={secret}",
          "--tracking-uri", track, "--out", f"{tmp}/best.yaml", *sets]),
    main(["report", "--experiment", "leak", "--tracking-uri", track, "--out", f"{tmp}/report", "--format", "md,html"]),
    main(run[:-len(sets)] + ["--tracking-uri", f"http://user:{secret}@127.0.0.1:9/"] + sets),
    main(["tune", "--method", "noise", "--classifier", "svm", "--storage", f"postgresql//user:{secret}@nowhere/db",
          "--tracking-uri", track, "--out", f"{tmp}/best2.yaml"]),
]
print("codes", codes)
"""


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_no_output_and_no_stored_file_holds_the_password(tmp_path):
    run = tiny_run(tmp_path / "out", "TRACK", "leak")
    proc = python_process(SCRIPT, tmp_path, str(tmp_path), SECRET, *run, "--", *TINY_SETS)
    out, err = proc.communicate(timeout=300)
    assert "codes [0, 0, 0, 2, 2]" in out, err[-3000:]
    assert SECRET not in out and SECRET not in err
    assert "password=***" in out + err  # the URIs are shown, masked
    assert "cannot open the MLflow tracking store http://user:***@127.0.0.1:9/" in err
    assert "cannot open the Optuna storage" in err

    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in stored}
    assert {"mlflow.db", "optuna.db", "study.yaml", "config.yaml", "report.md", "report.html", "best.yaml",
            "results.csv"} <= names
    leaking = [str(p) for p in stored if SECRET.encode() in p.read_bytes()]
    assert leaking == []
    assert "password=***" in (tmp_path / "out" / "study.yaml").read_text()
