import base64
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.errors import ConfigError, DataFormatError
from bench.tracking import Tracker, read_results
from reports.report import build, load_results, parse_formats, write_report
from bench.quality_files import quality_path, write_quality
from reports.spectra import load_quality
from tests.reports.fixtures import results, with_gate, with_quality, with_robustness, write_quality_files

SCORES = {("none", "svm"): [0.60, 0.62, 0.55, 0.70, 0.66, 0.58], ("smote", "svm"): [0.65, 0.61, 0.60, 0.78, 0.70, 0.59],
          ("noise", "svm"): [0.61, 0.66, 0.56, 0.72, 0.69, 0.60]}
PNG = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def full_table():
    a = with_gate(with_quality(with_robustness(results(SCORES))), {"smote": 0.5, "noise": 1.0})
    b = with_quality(with_robustness(results(SCORES, protocol="paper-escgan", leaky=True)))
    return pd.concat([a, b], ignore_index=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    frame = full_table()
    write_quality_files(out, frame[(frame["method"] == "smote") & (frame["protocol"] == "trial-kfold")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build(frame, "demo", "http://mlflow.example:5000/#/experiments/1", out)
    return report, out


def test_report_holds_every_table_and_figure_per_section(built):
    report, _ = built
    headings = [p for k, p in report.blocks if k == "h2"]
    assert headings == ["synthetic / valence / trial-kfold", "synthetic / valence / paper-escgan",
                        "The leak: paper protocols against safe ones",
                        "Across datasets and classifiers: Friedman and Nemenyi"]
    titles = [p.title for k, p in report.blocks if k == "table"]
    assert sum(t.startswith("Leaderboard") for t in titles) == 2
    assert sum("under pgd" in t for t in titles) == 2 and sum(t.startswith("Generation quality") for t in titles) == 2
    assert "Leaderboard — synthetic / valence / paper-escgan †" in titles
    figures = [p.key for k, p in report.blocks if k == "figure"]
    assert {"bars-synthetic-valence-trial-kfold", "robust-pgd-synthetic-valence-trial-kfold-svm",
            "psd-synthetic-valence-trial-kfold-smote", "de-synthetic-valence-trial-kfold-smote",
            "critical-difference"} <= set(figures)
    assert not any(f.startswith(("psd", "de")) and "paper-escgan" in f for f in figures)
    assert all(p.png.startswith(b"\x89PNG") for k, p in report.blocks if k == "figure")
    # 12 test folds (2 protocols x 6) as blocks: too few groups for groups-as-blocks
    assert report.ranks.n_blocks == 12 and "test folds" in report.ranks.blocks
    assert any("non-tied pairs" not in w for w in report.warnings) or report.warnings == []


def test_every_format_is_written_and_the_html_needs_no_other_file(built, tmp_path):
    report, _ = built
    paths = write_report(report, tmp_path)
    names = {p.name for p in paths}
    assert {"report.md", "report.tex", "report.html", "summary.csv", "wilcoxon.csv", "ranks.csv"} <= names
    md = (tmp_path / "report.md").read_text()
    assert "MLflow experiment: http://mlflow.example:5000/#/experiments/1" in md
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (tmp_path / link).is_file()
    html = (tmp_path / "report.html").read_text()
    assert not re.search(r"<(link|script)\b", html) and not re.search(r'src="(?!data:)', html)
    images = PNG.findall(html)
    assert len(images) == sum(k == "figure" for k, _ in report.blocks)
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert '<a href="http://mlflow.example:5000/#/experiments/1">' in html
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert "robust.pgd@0.05.accuracy_mean" in summary and "quality.mmd_std" in summary
    assert len(pd.read_csv(tmp_path / "wilcoxon.csv")) == 4 and len(pd.read_csv(tmp_path / "ranks.csv")) == 3
    only_csv = write_report(report, tmp_path / "csv", ["csv"])
    assert {p.name for p in only_csv} == {"summary.csv", "wilcoxon.csv", "ranks.csv"}


def test_the_gate_its_rule_and_the_failing_reasons_are_in_every_format(built, tmp_path):
    report, _ = built
    assert report.blocks[0] == ("text", "Quality gate on every augmenting row: TSTR >= 0.9 x real (mean), >= 0.8 x "
                                        "real (every fold); inner signal >= 0.9 x real (mean), where TSTR is the "
                                        "balanced accuracy of the cell's classifier trained on synthetic windows only "
                                        "and real that of the fold's no-augmentation classifier, both on the test "
                                        "fold, and the inner signal is a probe trained on the generator's samples, "
                                        "scored on held-out training trials, against the same probe trained on real "
                                        "windows; a generator that produced fewer windows than asked for fails too. "
                                        "Failing rows are marked FAIL, never dropped.")
    write_report(report, tmp_path, ["md", "tex", "html"])
    reason = "generator below gate: TSTR 0.327 vs real 0.655 (ratio 0.500 &lt; 0.9)"
    md, html = (tmp_path / "report.md").read_text(), (tmp_path / "report.html").read_text()
    assert "cells | gate |" in md and "| 6 | FAIL |" in md and "| 6 | pass |" in md
    assert f"<sub>gate FAIL — smote / svm: {reason.replace('&lt;', '<')}" in md
    assert "<th>gate</th>" in html and "<td>FAIL</td>" in html and f"<p class=\"note\">gate FAIL — smote / svm: {reason}" in html
    tex = (tmp_path / "report.tex").read_text()
    assert r"cells & gate \\" in tex and r"\footnotesize gate FAIL --- smote / svm: generator below gate" in tex
    assert (report.summary.set_index(["protocol", "method"])["gate"].to_dict()
            == {("trial-kfold", "none"): "", ("trial-kfold", "smote"): "fail", ("trial-kfold", "noise"): "pass",
                ("paper-escgan", "none"): "", ("paper-escgan", "smote"): "", ("paper-escgan", "noise"): ""})


def test_quality_files_are_averaged_over_folds_and_seeds(tmp_path):
    freqs = np.array([1.0, 2.0])
    for i, fold in enumerate(("fold-0", "fold-1")):
        write_quality(quality_path(tmp_path, "d", "t", "p", "m", 0, fold), ["a", "b"], freqs,
                      np.full((2, 2), i + 1.0), np.full((2, 2), 2.0 * (i + 1)))
    (maps,) = load_quality(tmp_path)
    assert maps.n_files == 2 and maps.class_names == ["a", "b"] and maps.de_real is None
    np.testing.assert_allclose(maps.psd_real, 1.5)
    np.testing.assert_allclose(maps.psd_synthetic, 3.0)
    write_quality(quality_path(tmp_path, "d", "t", "p", "m", 1, "fold-0"), ["a", "b"], freqs[:1], np.ones((2, 1)),
                  np.ones((2, 1)))
    with pytest.raises(DataFormatError, match="differ in shape"):
        load_quality(tmp_path)
    assert load_quality(tmp_path / "nothing") == []


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_results(tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="missing: dataset"):
        load_results(tmp_path / "bad.csv")
    with pytest.raises(ConfigError, match="unknown format"):
        parse_formats("md,pdf")
    with pytest.raises(ConfigError, match="not a column"):
        build(results(SCORES), metric="kappa")


def test_a_status_pandas_would_read_as_missing_is_kept_or_named(tmp_path):
    frame = results(SCORES)
    frame.loc[0, ["status", "reason"]] = "not-applicable", "a de generator cannot feed a raw classifier"
    frame.to_csv(tmp_path / "results.csv", index=False)
    assert pd.read_csv(tmp_path / "results.csv")["status"].notna().all()  # today's name survives pandas' defaults
    frame.loc[0, "status"] = "n/a"  # as earlier versions wrote it
    frame.to_csv(tmp_path / "old.csv", index=False)
    assert load_results(tmp_path / "old.csv").loc[0, "status"] == "not-applicable"
    with pytest.raises(DataFormatError, match="status is empty in 1 of 18 rows.*keep_default_na=False"):
        build(pd.read_csv(tmp_path / "old.csv"))


def test_bench_report_from_a_results_file(tmp_path, capsys):
    frame = results(SCORES)
    frame.to_csv(tmp_path / "results.csv", index=False)
    assert main(["report", "--results", str(tmp_path / "results.csv"), "--format", "md,html"]) == 0
    out = capsys.readouterr()
    assert str(tmp_path / "report" / "report.md") in out.out and "non-tied pairs" not in out.err  # 6 pairs: enough
    assert (tmp_path / "report" / "report.html").is_file() and not (tmp_path / "report" / "summary.csv").exists()
    assert main(["report", "--results", str(tmp_path / "results.csv"), "--format", "tex"]) == 0
    assert main(["report", "--results", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_experiment_is_read_back_from_mlflow_and_the_report_logged_to_it(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = Tracker(uri, "exp")
    frame = results({("none", "svm"): [0.6, 0.7], ("smote", "svm"): [0.8, 0.9]}, protocol="paper-escgan", leaky=True)
    parents: dict[str, str] = {}
    for _, r in frame.iterrows():
        ids = {k: r[k] for k in ("dataset", "task", "protocol", "method", "classifier", "recipe")}
        parent = tracker.ensure_parent(r["method"], "name", ids, {"bench.leaky": "true"}, parents)
        tracker.log_cell(parent, r["fold"], {**ids, "seed": r["seed"], "fold": r["fold"]},
                         {"balanced_accuracy": r["balanced_accuracy"], "accuracy": r["accuracy"]},
                         {"bench.cell": f"{r['method']}{r['fold']}", "bench.status": "ok", "bench.reason": ""}, {})
    table, hint = read_results(uri, "exp")
    assert len(table) == 4 and table["leaky"].all() and "exp" in hint
    assert table.sort_values(["method", "fold"])["balanced_accuracy"].tolist() == [0.6, 0.7, 0.8, 0.9]
    assert main(["report", "--experiment", "exp", "--tracking-uri", uri, "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.html").is_file() and "note: " in capsys.readouterr().err  # 2 pairs: too few
    runs = [r for r in tracker._runs("") if r.data.tags.get("bench.kind") == "report"]
    assert len(runs) == 1
    logged = {a.path for a in tracker.client.list_artifacts(runs[0].info.run_id, "report")}
    assert "report/report.html" in logged and "report/report.md" in logged
    assert main(["report", "--experiment", "missing", "--tracking-uri", uri]) == 2
    assert "experiments there: Default, exp" in capsys.readouterr().err


