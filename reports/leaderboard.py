"""The leaderboard: the summary of a results table (:func:`bench.summary.summarize`) as plain text.

The runner logs the summary as the MLflow parent runs' metrics and prints it with
:func:`format_leaderboard`, so the printed table and the MLflow UI show the same numbers.
"""

from __future__ import annotations

import pandas as pd

from bench.summary import METRICS


def format_leaderboard(summary: pd.DataFrame) -> str:
    """Plain-text leaderboard, one table per dataset x task x protocol, best balanced accuracy first.

    Not-applicable and failed groups are listed last with their reason; leaky protocols are marked. The
    ``gate`` column shows each row's quality gate (``pass``, ``FAIL``, empty where nothing was
    measured); a line under the block gives each failing row's reason.
    """
    if summary.empty:
        return "(no results)"
    blocks = []
    for (dataset, task, protocol), part in summary.groupby(["dataset", "task", "protocol"], sort=False):
        leaky = bool(part["leaky"].iloc[0])
        profiles = sorted(set(part["profile"]) - {""}) if "profile" in part else []
        title = (f"{dataset} / {task} / {protocol}" + (f"  (profile {', '.join(profiles)})" if profiles else "")
                 + ("  [LEAKY protocol: test windows share trials with training]" if leaky else ""))
        ok = part[part["status"] == "ok"].sort_values("balanced_accuracy_mean", ascending=False)
        w = max([18, *(len(_label(r)) + 2 for _, r in part.iterrows())])  # long variant labels keep their column
        lines = [title, f"{'method':<{w}}{'classifier':<12}{'bal. acc.':>16}{'accuracy':>16}{'macro-F1':>16}"
                        f"{'minority rec.':>16}{'AUROC':>8}{'vs none':>9}{'folds':>7}{'gate':>6}"]
        for _, r in ok.iterrows():
            lines.append((
                f"{_label(r):<{w}}{r['classifier']:<12}"
                + "".join(f"{_pm(r[f'{m}_mean'], r[f'{m}_std']):>16}" for m in METRICS[:4])
                + f"{_num(r['auroc_mean']):>8}{_signed(r['delta_vs_none']):>9}{r['n_cells']:>7}{gate_label(r['gate']):>6}"
            ).rstrip())
        for _, r in part[part["status"] != "ok"].iterrows():
            lines.append(f"{_label(r):<{w}}{r['classifier']:<12}{r['status']:>16}   {r['reason']}")
        for _, r in part[part["gate"] == "fail"].iterrows():
            lines.append(f"  gate FAIL {_label(r)} / {r['classifier']}: {r['gate_reason']}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)

def gate_label(gate: str) -> str:
    """How tables show a gate verdict: ``pass``, ``FAIL`` (in capitals, to stand out) or empty."""
    return gate.upper() if gate == "fail" else gate

def _num(x: float) -> str:
    return "nan" if pd.isna(x) else f"{x:.3f}"

def _label(row: pd.Series) -> str:
    """Method name, with its recipe when it is not the default one (``escgan+paper``)."""
    return row["method"] if row.get("recipe", "default") == "default" else f"{row['method']}+{row['recipe']}"

def _pm(mean: float, std: float) -> str:
    return "nan" if pd.isna(mean) else f"{mean:.3f} ± {std:.3f}"

def _signed(x: float) -> str:
    return "" if pd.isna(x) else f"{x:+.3f}"
