"""Bad input is one line on stderr and exit code 2, before anything is computed."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest
import torch

from bench.cli import main
from tests.reliability.helpers import TINY_SETS, tiny_run
from tests.reports.fixtures import results


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_an_unwritable_out_folder_is_refused_before_any_cell(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "out"  # under a file: no user (root included) can create it
    assert main(tiny_run(out, f"sqlite:///{tmp_path}/mlflow.db")) == 2
    line = one_error_line(capsys)
    assert f"--out {out} is not writable" in line
    assert not (tmp_path / "mlflow.db").exists()  # nothing was opened, let alone computed


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_up_front(tmp_path, capsys):
    assert main(tiny_run(tmp_path / "out", f"sqlite:///{tmp_path}/mlflow.db", "tiny", "--device", "cuda")) == 2
    line = one_error_line(capsys)
    assert "--device cuda" in line and "--device cpu" in line
    assert not (tmp_path / "out" / "cells").exists()


@pytest.mark.parametrize("spelling", ["sqlite:///{d}/mlflow.db?timeout=30", "sqlite+pysqlite:///{d}/./mlflow.db",
                                      "sqlite:///{d}/../{n}/mlflow.db"])
def test_tune_refuses_the_mlflow_database_however_it_is_spelled(tmp_path, capsys, spelling):
    storage = spelling.format(d=tmp_path, n=tmp_path.name)
    assert main(["tune", "--method", "noise", "--classifier", "svm", "--storage", storage,
                 "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db", "--out", str(tmp_path / "best.yaml")]) == 2
    assert "is the MLflow tracking store" in one_error_line(capsys)
    assert not (tmp_path / "mlflow.db").exists()


def test_run_refuses_an_optuna_database_as_tracking_store(tmp_path, capsys):
    optuna.create_study(storage=f"sqlite:///{tmp_path}/optuna.db", study_name="s")
    assert main(tiny_run(tmp_path / "out", f"sqlite:///{tmp_path}/optuna.db")) == 2
    assert "is an Optuna storage" in one_error_line(capsys)


def test_a_report_of_a_table_with_a_text_score_is_one_error(tmp_path, capsys):
    table = results({("none", "svm"): [0.6, 0.62, 0.61], ("smote", "svm"): [0.65, 0.66, 0.64]})
    table["balanced_accuracy"] = table["balanced_accuracy"].astype(object)
    table.loc[4, "balanced_accuracy"] = "n/a?"
    table.to_csv(tmp_path / "results.csv", index=False)
    assert main(["report", "--results", str(tmp_path / "results.csv")]) == 2
    line = one_error_line(capsys)
    assert "'balanced_accuracy'" in line and "row 5" in line and "n/a?" in line


def test_a_repeated_table_counts_each_cell_once_and_a_conflicting_one_is_refused(tmp_path, capsys):
    table = results({("none", "svm"): [0.6, 0.62, 0.61, 0.63, 0.58, 0.6],
                     ("smote", "svm"): [0.65, 0.66, 0.64, 0.61, 0.67, 0.62]})
    reports = {}
    for name, frame in (("once", table), ("twice", pd.concat([table, table]))):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        assert main(["report", "--results", str(tmp_path / f"{name}.csv"), "--out", str(tmp_path / name),
                     "--format", "csv"]) == 0
        reports[name] = pd.read_csv(tmp_path / name / "wilcoxon.csv")
    capsys.readouterr()
    pd.testing.assert_frame_equal(reports["once"], reports["twice"])  # same pairs, same p-values
    assert reports["twice"]["n_pairs"].tolist() == [6]

    conflicting = pd.concat([table, table.iloc[[3]].assign(balanced_accuracy=0.99)])
    conflicting.to_csv(tmp_path / "conflict.csv", index=False)
    assert main(["report", "--results", str(tmp_path / "conflict.csv"), "--out", str(tmp_path / "c")]) == 2
    line = one_error_line(capsys)
    assert "synthetic/valence/trial-kfold/none/svm/default/0/fold-3" in line and "balanced_accuracy" in line
