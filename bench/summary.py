"""The summary of a results table: fold-aggregated metrics per (dataset, task, protocol, method, classifier).

:func:`summarize` is the one place where fold results are aggregated: the runner logs its output
as the MLflow parent runs' metrics and prints it with :func:`reports.leaderboard.format_leaderboard`,
so the printed table and the MLflow UI show the same numbers. It also holds every row to the
quality gate (:mod:`bench.gate`).
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
        ok = group[group["status"] == OK]
        statuses = set(group["status"])
        status = OK if statuses == {OK} else (FAILED if FAILED in statuses else NOT_APPLICABLE)
        record = dict(zip(GROUP, key))
        record.update(leaky=bool(group["leaky"].iloc[0]), status=status,
                      profile=str(group["profile"].iloc[0]) if "profile" in group else "",
                      reason="; ".join(sorted(set(group.loc[group["status"] != OK, "reason"]))),
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
