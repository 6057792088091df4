import numpy as np
import pandas as pd
import pytest

from reports import render
from reports.tables import (comparison_table, extended_summary, leaderboard_table, marks, quality_tables,
                            robust_columns, robustness_tables)
from tests.reports.fixtures import results, with_gate, with_quality, with_robustness

SCORES = {("none", "svm"): [0.60, 0.70], ("smote", "svm"): [0.80, 0.90], ("noise", "svm"): [0.70, 0.80],
          ("none", "cnn"): [0.50, 0.50], ("smote", "cnn"): [0.55, 0.65], ("noise", "cnn"): [0.70, 0.70]}


def part(frame):
    return extended_summary(frame)


def test_marks_bold_the_best_underline_the_second_and_share_ties_at_display_precision():
    assert marks([0.5, 0.9, 0.7, np.nan]) == ["", "best", "second", ""]
    assert marks([0.90001, 0.9, 0.7]) == ["best", "best", "second"]
    assert marks([0.2, 0.1, 0.3], higher_is_better=False) == ["second", "best", ""]
    assert marks([0.5]) == ["best"]


def test_comparison_table_methods_by_classifiers_with_ranks_and_its_transpose():
    table = comparison_table(part(results(SCORES)))
    assert table.columns == ["svm", "cnn", "avg. rank"]
    rows = dict(table.rows)
    assert list(rows) == ["none", "smote", "noise"]  # the baseline first
    assert rows["smote"][0].text == "0.850 ± 0.071" and rows["smote"][0].mark == "best"
    assert rows["noise"][0].mark == "second" and rows["none"][0].mark == ""
    assert rows["noise"][1].mark == "best" and rows["smote"][1].mark == "second"
    # ranks per classifier: svm smote 1, noise 2, none 3; cnn noise 1, smote 2, none 3
    assert [rows[m][2].text for m in ("none", "smote", "noise")] == ["3.00", "1.50", "1.50"]
    assert rows["smote"][2].mark == "best" and rows["noise"][2].mark == "best" and rows["none"][2].mark == "second"
    flipped = table.transpose("classifier \\ method", "t", "k")
    assert flipped.columns == ["none", "smote", "noise"] and [r[0] for r in flipped.rows] == ["svm", "cnn", "avg. rank"]
    assert dict(flipped.rows)["svm"][1] == rows["smote"][0]


def test_emphasis_in_markdown_latex_and_html():
    table = comparison_table(part(results(SCORES)))
    md = render.markdown(table)
    assert "| smote | **0.850 ± 0.071** | <u>0.600 ± 0.071</u> | **1.50** |" in md
    tex = render.latex(table)
    assert r"smote & \textbf{0.850 $\pm$ 0.071} & \underline{0.600 $\pm$ 0.071}" in tex
    assert r"\toprule" in tex and r"\end{tabular}" in tex and "method \\textbackslash{} classifier" in tex
    html = render.html_table(table)
    assert "<td><strong>0.850 ± 0.071</strong></td><td><u>0.600 ± 0.071</u></td>" in html


def test_leaky_protocols_get_a_dagger_and_a_footnote_in_every_format():
    table = leaderboard_table(part(results(SCORES, protocol="paper-escgan", leaky=True)))
    assert table.title.endswith("paper-escgan †") and table.notes[0].startswith("† leaky protocol")
    assert "paper-escgan †" in render.markdown(table) and "<sub>† leaky protocol" in render.markdown(table)
    assert r"paper-escgan $^\dagger$" in render.latex(table) and r"$^\dagger$ leaky protocol" in render.latex(table)
    assert "<p class=\"note\">† leaky protocol" in render.html_table(table)
    clean = leaderboard_table(part(results(SCORES)))
    assert "†" not in clean.title and clean.notes == []


def test_leaderboard_table_sorts_shows_the_gain_over_none_and_lists_na_rows_last():
    frame = results(SCORES)
    na = frame.iloc[[0]].assign(method="grid-gan", status="not-applicable", reason="a de-grid generator cannot feed svm",
                                balanced_accuracy=np.nan)
    table = leaderboard_table(part(pd.concat([frame, na])))
    names = [name for name, _ in table.rows]
    assert names[0] == "smote" and names[-1] == "grid-gan"
    smote = table.rows[0][1]
    assert smote[0].text == "svm" and smote[table.columns.index("Δ none")].text == "+0.200" and smote[1].mark == "best"
    assert "not-applicable: a de-grid generator cannot feed svm" in dict(table.rows)["grid-gan"][1].text


def test_robust_columns_parse_attack_eps_and_metric():
    frame = pd.DataFrame(columns=["accuracy", "robust.pgd@0.05.accuracy", "robust.fgsm@1e-05.success_rate",
                                  "robust.pgd@0.1.eps_data", "robust.bad", "robust.x@abc.accuracy"])
    parsed = robust_columns(frame)
    assert parsed.to_dict("records") == [
        dict(column="robust.fgsm@1e-05.success_rate", attack="fgsm", eps=1e-05, metric="success_rate"),
        dict(column="robust.pgd@0.05.accuracy", attack="pgd", eps=0.05, metric="accuracy"),
        dict(column="robust.pgd@0.1.eps_data", attack="pgd", eps=0.1, metric="eps_data"),
    ]


def test_robustness_table_has_the_clean_score_at_eps_zero_then_each_eps():
    frame = with_robustness(results(SCORES))
    tables = robustness_tables(part(frame), frame)
    assert [t.title.split(" — ")[-1] for t in tables] == ["svm", "cnn"]
    svm = tables[0]
    assert svm.columns == ["0", "0.01", "0.05"]
    none = dict(svm.rows)["none"]
    assert none[0].text == "0.650 ± 0.071" and none[2].text == "0.550 ± 0.071"  # 0.65 - 2 * 0.05
    assert dict(svm.rows)["smote"][2].mark == "best"
    assert robustness_tables(part(results(SCORES)), results(SCORES)) == []


def test_quality_table_orders_known_metrics_first_and_marks_by_direction():
    frame = with_quality(results(SCORES))
    (table,) = quality_tables(part(frame), frame)
    assert table.columns == ["classifier", "mmd ↓", "tstr balanced accuracy", "custom score", "gate"]
    assert [name for name, _ in table.rows] == ["smote", "noise", "smote", "noise"]  # none has no quality values
    rows = table.rows
    assert rows[0][1][1].text == "0.105 ± 0.007" and all(cells[3].mark == "" for _, cells in rows)
    tstr = [cells[2] for _, cells in rows]
    assert tstr[0].mark == "best" and tstr[0].text == "0.750 ± 0.071"


def test_the_gate_is_a_column_of_the_leaderboard_and_quality_tables_with_the_failing_reasons_as_footnotes():
    summary = part(with_gate(results(SCORES), {"smote": 0.5, "noise": 1.0}))
    board = leaderboard_table(summary)
    assert board.columns[-1] == "gate"
    gates = {(name, cells[0].text): cells[-1].text for name, cells in board.rows}
    assert gates == {("smote", "svm"): "FAIL", ("noise", "svm"): "pass", ("none", "svm"): "",
                     ("smote", "cnn"): "FAIL", ("noise", "cnn"): "pass", ("none", "cnn"): ""}
    assert [name for name, _ in board.rows][0] == "smote"  # a failing row keeps its rank
    assert board.notes == [f"gate FAIL — smote / {c}: generator below gate: TSTR {t} vs real {r} (ratio 0.500 < 0.9); "
                           f"generator below fold floor on 2 of 2 folds, worst fold-0, seed 0: TSTR {w} vs real {rw} "
                           "(ratio 0.500 < 0.8)." for c, t, r, w, rw in (("svm", "0.425", "0.850", "0.400", "0.800"),
                                                                         ("cnn", "0.300", "0.600", "0.275", "0.550"))]
    (quality,) = quality_tables(summary, with_gate(results(SCORES), {"smote": 0.5, "noise": 1.0}))
    assert quality.columns == ["classifier", "tstr balanced accuracy", "real balanced accuracy", "tstr ratio", "gate"]
    assert [(name, cells[-1].text) for name, cells in quality.rows] == [("smote", "FAIL"), ("noise", "pass"),
                                                                        ("smote", "FAIL"), ("noise", "pass")]
    assert quality.rows[1][1][3].mark == "best" and quality.notes[1:] == board.notes  # the ratio: higher is better


@pytest.mark.parametrize("text, escaped", [("a_b & 50%", r"a\_b \& 50\%"),
                                          ("Δ ≠ ↓", r"$\Delta$ $\neq$ $\downarrow$")])
def test_latex_escaping(text, escaped):
    assert render.tex_escape(text) == escaped
