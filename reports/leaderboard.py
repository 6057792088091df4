"""The leaderboard: fold-aggregated metrics per (dataset, task, protocol, method, classifier).

:func:`summarize` is the one place where fold results are aggregated: the runner logs its output
as the MLflow parent runs' metrics and prints it with :func:`format_leaderboard`, so the printed
table and the MLflow UI show the same numbers. It also holds every row to the quality gate
(:mod:`bench.gate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bench.gate import GateRule, judge
from bench.metrics import aggregate
from bench.results import FAILED, NOT_APPLICABLE, OK

GROUP = ["dataset", "task", "protocol", "method", "recipe", "classifier"]
METRICS = ("balanced_accuracy", "accuracy", "macro_f1", "minority_recall", "auroc")
TIMES = ("fit_s", "sample_s", "train_s", "predict_s")
BASELINE = "none"


def summarize(frame: pd.DataFrame, extra: Sequence[str] = (), gate: GateRule | None = None) -> pd.DataFrame:
    """One row per group: status, number of cells, mean and std of every metric over folds x seeds.

    Parameters
    ----------
    frame : DataFrame
        The tidy results table (one row per cell).
    extra : sequence of str
        More columns to aggregate the same way (e.g. ``robust.pgd@0.05.accuracy``, ``quality.mmd``).
    gate : GateRule, optional
        The quality gate (default: ``GateRule()``), judged from the table's own ``quality.*`` and
        ``method.*`` columns (:func:`bench.gate.judge`).

    Returns
    -------
    DataFrame
        Columns: the group keys, ``leaky``, ``status`` (``ok`` when every cell is ok, else
        ``not-applicable`` or ``failed``), ``reason``, ``n_cells``, ``gate`` (``pass``, ``fail``, or ``""``
        where nothing was measured) and ``gate_reason`` over the ok cells, ``<metric>_mean`` and
        ``<metric>_std`` for each metric in :data:`METRICS` and each ``extra`` column, mean times,
        and ``delta_vs_none``: the balanced-accuracy mean minus that of the ``none`` method with the
        same classifier (NaN without a baseline).
    """
    if "recipe" not in frame:  # tables written before recipes existed
        frame = frame.assign(recipe="default")
    rule = gate or GateRule()
    records = []
    for key, group in frame.groupby(GROUP, sort=False):
        ok = group[group["status"] == "ok"]
        statuses = set(group["status"])
        status = OK if statuses == {OK} else (FAILED if FAILED in statuses else NOT_APPLICABLE)
        record = dict(zip(GROUP, key))
        record.update(leaky=bool(group["leaky"].iloc[0]), status=status,
                      profile=str(group["profile"].iloc[0]) if "profile" in group else "",
                      reason="; ".join(sorted(set(group.loc[group["status"] != "ok", "reason"]))),
                      n_cells=int(len(ok)))
        record["gate"], record["gate_reason"] = judge(ok, rule)
        for metric in (*METRICS, *extra):
            mean, std = aggregate(ok[metric]) if metric in ok else (np.nan, np.nan)
            record[f"{metric}_mean"], record[f"{metric}_std"] = mean, std
        for t in TIMES:
            record[t] = float(ok[t].mean()) if t in ok and len(ok) else np.nan
        records.append(record)
    summary = pd.DataFrame(records)
    if summary.empty:
        return summary
    base = summary[summary["method"] == BASELINE].set_index(["dataset", "task", "protocol", "classifier"])[
        "balanced_accuracy_mean"]
    keys = list(zip(summary["dataset"], summary["task"], summary["protocol"], summary["classifier"]))
    summary["delta_vs_none"] = [summary["balanced_accuracy_mean"].iloc[i] - base.get(k, np.nan) for i, k in enumerate(keys)]
    return summary


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
        lines = [title, f"{'method':<18}{'classifier':<12}{'bal. acc.':>16}{'accuracy':>16}{'macro-F1':>16}"
                        f"{'minority rec.':>16}{'AUROC':>8}{'vs none':>9}{'folds':>7}{'gate':>6}"]
        for _, r in ok.iterrows():
            lines.append((
                f"{_label(r):<18}{r['classifier']:<12}"
                + "".join(f"{_pm(r[f'{m}_mean'], r[f'{m}_std']):>16}" for m in METRICS[:4])
                + f"{_num(r['auroc_mean']):>8}{_signed(r['delta_vs_none']):>9}{r['n_cells']:>7}{gate_label(r['gate']):>6}"
            ).rstrip())
        for _, r in part[part["status"] != "ok"].iterrows():
            lines.append(f"{_label(r):<18}{r['classifier']:<12}{r['status']:>16}   {r['reason']}")
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
