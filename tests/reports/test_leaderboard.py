import math

import numpy as np
import pandas as pd
import pytest

from bench.gate import GateRule
from bench.summary import summarize
from reports.leaderboard import format_leaderboard


def rows():
    base = dict(dataset="synthetic", task="valence", protocol="trial-kfold", leaky=False, reason="")
    out = []
    for method, accs in (("none", [0.6, 0.7]), ("smote", [0.7, 0.9])):
        for fold, acc in enumerate(accs):
            out.append({**base, "method": method, "classifier": "svm", "fold": f"fold-{fold}", "status": "ok",
                        "balanced_accuracy": acc, "accuracy": acc, "macro_f1": acc, "minority_recall": acc,
                        "auroc": math.nan if fold else 0.8, "train_s": 1.0})
    out.append({**base, "method": "grid-gan", "classifier": "svm", "fold": "fold-0", "status": "not-applicable",
                "reason": "a de-grid generator cannot feed a de classifier"})
    return pd.DataFrame(out)


def test_summary_aggregates_over_folds_and_computes_the_gain_over_none():
    s = summarize(rows()).set_index("method")
    assert s.loc["smote", "balanced_accuracy_mean"] == pytest.approx(0.8)
    assert s.loc["smote", "balanced_accuracy_std"] == pytest.approx(pd.Series([0.7, 0.9]).std(ddof=1))
    assert s.loc["smote", "delta_vs_none"] == pytest.approx(0.15)
    assert s.loc["smote", "auroc_mean"] == pytest.approx(0.8)  # NaN folds are ignored
    assert s.loc["grid-gan", "status"] == "not-applicable" and s.loc["grid-gan", "n_cells"] == 0


def test_printed_table_ranks_by_balanced_accuracy_lists_na_last_and_marks_leaks():
    text = format_leaderboard(summarize(rows()))
    lines = text.splitlines()
    assert lines[2].startswith("smote") and lines[3].startswith("none")
    assert lines[4].startswith("grid-gan") and "not-applicable" in lines[4] and "cannot feed" in lines[4]
    assert "0.800 ± 0.141" in lines[2] and "+0.150" in lines[2]
    leaky = rows().assign(protocol="paper-escgan", leaky=True)
    assert "LEAKY" in format_leaderboard(summarize(leaky)).splitlines()[0]


def gated_rows():
    """rows() with quality for smote: TSTR 0.55 against real 0.89 on both folds (none and grid-gan have none)."""
    frame = rows()
    smote = frame["method"] == "smote"
    frame["quality.tstr_balanced_accuracy"] = np.where(smote, 0.55, np.nan)
    frame["quality.real_balanced_accuracy"] = np.where(smote, 0.89, np.nan)
    return frame


def test_summary_holds_every_row_to_the_gate_and_keeps_every_row():
    s = summarize(gated_rows())
    assert list(s["method"]) == list(summarize(rows())["method"])  # nothing dropped or reordered
    s = s.set_index("method")
    assert s.loc["smote", "gate"] == "fail"
    assert s.loc["smote", "gate_reason"] == "generator below gate: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.9); " \
        "generator below fold floor on 2 of 2 folds, worst fold-0: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.8)"
    assert s.loc["none", "gate"] == s.loc["grid-gan", "gate"] == "" and s.loc["none", "gate_reason"] == ""
    assert summarize(rows())["gate"].eq("").all()  # a table without quality columns: nothing judged
    lenient = summarize(gated_rows(), gate=GateRule(ratio=0.6, fold_floor=0.6)).set_index("method")
    assert lenient.loc["smote", "gate"] == "pass" and lenient.loc["smote", "gate_reason"] == ""


def test_printed_table_shows_the_gate_and_the_reason_of_every_failing_row():
    lines = format_leaderboard(summarize(gated_rows())).splitlines()
    assert lines[1].endswith("folds  gate")
    assert lines[2].startswith("smote") and lines[2].endswith("FAIL")  # still ranked first
    assert lines[3].startswith("none") and not lines[3].endswith(("FAIL", "pass"))
    assert lines[5] == ("  gate FAIL smote / svm: generator below gate: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.9); "
                        "generator below fold floor on 2 of 2 folds, worst fold-0: TSTR 0.550 vs real 0.890 "
                        "(ratio 0.618 < 0.8)")
    assert "FAIL" not in format_leaderboard(summarize(rows()))
