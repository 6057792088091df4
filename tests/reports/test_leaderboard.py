import math

import pandas as pd
import pytest

from reports.leaderboard import format_leaderboard, summarize


def rows():
    base = dict(dataset="synthetic", task="valence", protocol="trial-kfold", leaky=False, reason="")
    out = []
    for method, accs in (("none", [0.6, 0.7]), ("smote", [0.7, 0.9])):
        for fold, acc in enumerate(accs):
            out.append({**base, "method": method, "classifier": "svm", "fold": f"fold-{fold}", "status": "ok",
                        "balanced_accuracy": acc, "accuracy": acc, "macro_f1": acc, "minority_recall": acc,
                        "auroc": math.nan if fold else 0.8, "train_s": 1.0})
    out.append({**base, "method": "grid-gan", "classifier": "svm", "fold": "fold-0", "status": "n/a",
                "reason": "a de-grid generator cannot feed a de classifier"})
    return pd.DataFrame(out)


def test_summary_aggregates_over_folds_and_computes_the_gain_over_none():
    s = summarize(rows()).set_index("method")
    assert s.loc["smote", "balanced_accuracy_mean"] == pytest.approx(0.8)
    assert s.loc["smote", "balanced_accuracy_std"] == pytest.approx(pd.Series([0.7, 0.9]).std(ddof=1))
    assert s.loc["smote", "delta_vs_none"] == pytest.approx(0.15)
    assert s.loc["smote", "auroc_mean"] == pytest.approx(0.8)  # NaN folds are ignored
    assert s.loc["grid-gan", "status"] == "n/a" and s.loc["grid-gan", "n_cells"] == 0


def test_printed_table_ranks_by_balanced_accuracy_lists_na_last_and_marks_leaks():
    text = format_leaderboard(summarize(rows()))
    lines = text.splitlines()
    assert lines[2].startswith("smote") and lines[3].startswith("none")
    assert lines[4].startswith("grid-gan") and "n/a" in lines[4] and "cannot feed" in lines[4]
    assert "0.800 ± 0.141" in lines[2] and "+0.150" in lines[2]
    leaky = rows().assign(protocol="paper-escgan", leaky=True)
    assert "LEAKY" in format_leaderboard(summarize(leaky)).splitlines()[0]
