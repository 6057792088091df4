import warnings

import pandas as pd
import pytest

from bench.protocols import PaperEscgan
from bench.runner import run_study
from bench.study import build_study
from bench.summary import summarize
from reports.leak import leak_pairs, leak_table
from reports.report import build, to_markdown
from tests.reports.fixtures import results


def test_the_leak_table_puts_the_same_rows_side_by_side_with_the_difference():
    safe = results({("none", "svm"): [0.60, 0.70], ("smote", "svm"): [0.70, 0.80], ("noise", "svm"): [0.5, 0.5]})
    leaky = results({("none", "svm"): [0.90, 0.90], ("smote", "svm"): [0.85, 0.95]}, protocol="paper-escgan",
                    leaky=True)
    summary = summarize(pd.concat([safe, leaky], ignore_index=True))
    assert leak_pairs(summary) == [("synthetic", "valence", "paper-escgan", "trial-kfold")]
    table = leak_table(summary, "synthetic", "valence", "paper-escgan", "trial-kfold")
    assert table.columns == ["classifier", "trial-kfold", "paper-escgan †", "Δ"]
    rows = dict(table.rows)
    assert list(rows) == ["none", "smote"]  # largest difference first; noise has no paper-escgan row
    assert [c.text for c in rows["none"]] == ["svm", "0.650 ± 0.071", "0.900 ± 0.000", "+0.250"]
    assert rows["smote"][3].text == "+0.150" and rows["none"][3].mark == "best"
    assert PaperEscgan.leak_reason in table.notes[0] and "mean +0.200" in table.notes[1]
    assert "1 rows scored under one protocol only" in table.notes[2]


def test_no_leak_table_without_both_kinds_of_protocol():
    summary = summarize(results({("none", "svm"): [0.6, 0.7]}))
    assert leak_pairs(summary) == []


def test_a_tiny_study_under_a_paper_protocol_and_a_safe_one_reports_the_leak(tmp_path):
    config = build_study(None, ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6",
                                "dataset.synthetic.trial_s=4", "quality=false"],
                         {"methods": ["none", "smote"], "classifiers": ["svm"], "folds": 2, "seeds": [0], "jobs": 1,
                          "protocols": ["trial-kfold", "paper-escgan"], "out": str(tmp_path / "out"),
                          "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    result = run_study(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build(result.table)
    headings = [p for k, p in report.blocks if k == "h2"]
    assert "The leak: paper protocols against safe ones" in headings
    (table,) = [p for k, p in report.blocks if k == "table" and p.key.startswith("leak-")]
    summary = result.summary.set_index(["protocol", "method"])["balanced_accuracy_mean"]
    for method in ("none", "smote"):
        delta = summary["paper-escgan", method] - summary["trial-kfold", method]
        assert float(dict(table.rows)[method][3].text) == pytest.approx(delta, abs=5e-4)
    assert "The leak — synthetic / valence" in to_markdown(report)
