"""``python -m bench`` end to end on a tiny synthetic study, with MLflow in a temporary SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from bench.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = ["--set", "dataset.synthetic.n_subjects=3", "--set", "dataset.synthetic.n_trials=6",
        "--set", "dataset.synthetic.trial_s=4", "--set", "classifier.esc-cnn.epochs=2"]


def args(tmp_path, *extra):
    return ["run", "--methods", "none,noise", "--classifiers", "svm,esc-cnn", "--folds", "2", "--seeds", "0", "--jobs", "1",
            "--experiment", "tiny", "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db", "--out", str(tmp_path / "out"), "--quiet", *TINY, *extra]


def runs(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    exp = client.get_experiment_by_name("tiny")
    found = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("bench.kind") != "report"]
    children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


def test_run_logs_the_run_tree_and_prints_the_same_leaderboard(tmp_path, capsys):
    assert main(args(tmp_path)) == 0
    printed = capsys.readouterr().out

    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(table) == 2 * 2 * 2 and (table["status"] == "ok").all()
    assert pd.read_parquet(tmp_path / "out" / "results.parquet").shape == table.shape
    assert {"accuracy", "balanced_accuracy", "macro_f1", "recall_0", "recall_1", "minority_recall", "auroc",
            "fit_s", "train_s", "n_synthetic"} <= set(table.columns)
    assert (table.loc[table["method"] == "noise", "n_synthetic"] > 0).all()
    assert (table.loc[table["method"] == "none", "n_synthetic"] == 0).all()

    client, parents, children = runs(tmp_path)
    assert len(parents) == 4 and len(children) == 8
    by_id = {p.info.run_id: p for p in parents}
    for child in children:
        parent = by_id[child.data.tags["mlflow.parentRunId"]]
        assert child.data.tags["bench.cell"] and child.data.params["method"] == parent.data.params["method"]
        assert child.info.status == "FINISHED"
        names = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"confusion_matrix.json", "config.yaml"} <= names
        matrix = json.loads(Path(client.download_artifacts(child.info.run_id, "confusion_matrix.json", str(tmp_path))).read_text())
        assert sum(map(sum, matrix["rows_true_cols_pred"])) == child.data.metrics["n_test"]
    for parent in parents:
        assert parent.info.status == "FINISHED"
        method, classifier = parent.data.params["method"], parent.data.params["classifier"]
        folds = table[(table["method"] == method) & (table["classifier"] == classifier)]
        mean = parent.data.metrics["balanced_accuracy_mean"]
        assert mean == pytest.approx(folds["balanced_accuracy"].mean())
        assert parent.data.metrics["balanced_accuracy_std"] == pytest.approx(folds["balanced_accuracy"].std(ddof=1))
        # the printed leaderboard shows the same number on the method/classifier line
        line = next(l for l in printed.splitlines() if l.split()[:2] == [method, classifier])
        assert f"{mean:.3f}" in line

    # the report: written into <out>/report and logged as the artifacts of the experiment's "report" run
    report = tmp_path / "out" / "report"
    assert {"report.md", "report.html", "report.tex", "summary.csv", "wilcoxon.csv"} <= {p.name for p in report.iterdir()}
    assert f"{parents[0].data.metrics['balanced_accuracy_mean']:.3f}" in (report / "report.md").read_text()
    (report_run,) = [r for r in client.search_runs([parents[0].info.experiment_id]) if r.data.tags.get("bench.kind") == "report"]
    assert "report/report.html" in {a.path for a in client.list_artifacts(report_run.info.run_id, "report")}


def test_a_second_run_skips_finished_cells_and_force_redoes_them(tmp_path, capsys):
    assert main(args(tmp_path)) == 0
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    capsys.readouterr()
    assert main(args(tmp_path)) == 0
    assert "0 cells computed, 8 already done" in capsys.readouterr().err
    _, parents, children = runs(tmp_path)
    assert len(parents) == 4 and len(children) == 8
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "results.csv"), table)

    assert main(args(tmp_path, "--force")) == 0
    assert "8 cells computed, 0 already done" in capsys.readouterr().err
    _, parents, children = runs(tmp_path)
    assert len(parents) == 4 and len(children) == 8  # the old copies were replaced, not duplicated


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_same_seed_same_results_in_another_process(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    assert main(args(here)) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "bench", *args(there)], check=True, env=env, cwd=there,
                   capture_output=True, text=True)
    cols = ["method", "classifier", "fold", "accuracy", "balanced_accuracy", "macro_f1", "auroc", "cell_key"]
    tables = [pd.read_csv(folder / "out" / "results.csv")[cols] for folder in (here, there)]
    pd.testing.assert_frame_equal(*tables)


@pytest.mark.parametrize("extra, message", [
    (["--methods", "smoat"], "unknown method 'smoat'. Did you mean 'smote'?"),
    (["--classifiers", "svn"], "Did you mean 'svm'?"),
    (["--protocol", "loso-cv"], "unknown protocol 'loso-cv'"),
    (["--set", "folds"], "is not of the form key=value"),
    (["--set", "method.smote.k_neigbors=3"], "Did you mean 'k_neighbors'?"),
    (["--set", "foldz=3"], "unknown key 'foldz'. Did you mean 'folds'?"),
    (["--policy", "lots"], "policy"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, extra, message):
    assert main(args(tmp_path, *extra)) == 2
    assert message in capsys.readouterr().err


def test_missing_real_data_names_what_was_looked_for(tmp_path, capsys):
    assert main(args(tmp_path, "--datasets", "deap", "--data-dir", str(tmp_path / "nowhere"))) == 2
    err = capsys.readouterr().err
    assert "s01.dat" in err or "data_preprocessed_python" in err
    assert "--data-dir" in err


def test_list_shows_every_component(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("synthetic", "deap", "none", "smote", "adasyn", "borderline-smote", "noise", "mixup", "svm",
                 "esc-cnn", "eegnet", "trial-kfold", "paper-escgan"):
        assert f"  {name} " in out
    assert "[LEAKY]" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["cgan"].endswith("[raw or de-grid, by config]") and "[de-grid]" in lines["escgan"]
    assert lines["escgan"].endswith("[own classifier esc-cnn: in the study when --classifiers is not given]")
    assert "[own classifier sa-st-net" in lines["de3dgan"] and "own classifier" not in lines["smote"]
