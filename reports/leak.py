"""The leak, measured: the same rows under a paper's (leaky) protocol and under a safe one, side by side.

The papers' protocols (``paper-escgan``, ``paper-de3dgan``) put windows of the same trial on both
sides of a fold (:mod:`bench.protocols`). When a study runs one of them and a safe protocol over
the same dataset, task, methods and classifiers, :func:`leak_tables` shows, per (method,
classifier), the score under each protocol and the difference: how much of a published number
the protocol, not the method, contributes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.errors import ConfigError
from bench.registry import PROTOCOLS
from reports.tables import DIGITS, LEAKY_NOTE, Cell, Table, label, marks, pm, slug


def shares(protocol: str) -> str:
    """What a leaky protocol shares between training and test windows (its ``leak_reason``)."""
    try:
        return PROTOCOLS.get(protocol).leak_reason or LEAKY_NOTE
    except ConfigError:  # a table from a protocol this version does not know
        return LEAKY_NOTE


def leak_pairs(summary: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """Every (dataset, task, leaky protocol, safe protocol) the summary holds ``ok`` rows of both for."""
    ok = summary[summary["status"] == "ok"]
    found = []
    for (dataset, task), part in ok.groupby(["dataset", "task"], sort=False):
        protocols = part.drop_duplicates("protocol")
        leaky = protocols.loc[protocols["leaky"].astype(bool), "protocol"]
        safe = protocols.loc[~protocols["leaky"].astype(bool), "protocol"]
        found += [(dataset, task, lp, sp) for lp in leaky for sp in safe]
    return found


def leak_table(summary: pd.DataFrame, dataset: str, task: str, leaky: str, safe: str,
               metric: str = "balanced_accuracy") -> Table | None:
    """One table: a row per (method, classifier) scored ``ok`` under both protocols, largest difference first.

    Parameters
    ----------
    summary : DataFrame
        :func:`reports.leaderboard.summarize` output (``<metric>_mean`` and ``_std`` per group).
    dataset, task : str
    leaky, safe : str
        The paper protocol and the safe protocol compared.
    metric : str

    Returns
    -------
    Table or None
        Columns: classifier, the safe score, the leaky score (mean ± std over folds and seeds), and
        ``Δ`` = leaky mean - safe mean; None when no row was scored under both.
    """
    ok = summary[(summary["status"] == "ok") & (summary["dataset"] == dataset) & (summary["task"] == task)]
    ok = ok.assign(label=[label(r) for _, r in ok.iterrows()])
    keys = ["label", "classifier"]
    side = {p: ok[ok["protocol"] == p] for p in (safe, leaky)}
    both = side[safe].merge(side[leaky], on=keys, suffixes=("_safe", "_leaky")).set_index(keys)
    if both.empty:
        return None
    mean, std = f"{metric}_mean", f"{metric}_std"
    both = both.assign(delta=both[f"{mean}_leaky"] - both[f"{mean}_safe"]).sort_values("delta", ascending=False,
                                                                                      kind="stable")
    delta_marks = marks(both["delta"])
    rows = [(name, [Cell(classifier), Cell(pm(r[f"{mean}_safe"], r[f"{std}_safe"])),
                    Cell(pm(r[f"{mean}_leaky"], r[f"{std}_leaky"])), Cell(f"{r['delta']:+.{DIGITS}f}", delta_marks[i])])
            for i, ((name, classifier), r) in enumerate(both.iterrows())]
    deltas = both["delta"].to_numpy(dtype=np.float64)
    name = metric.replace("_", " ")
    notes = [f"† {leaky} shares between training and test: {shares(leaky)}.",
             f"Δ = {name} under {leaky} minus under {safe}, same method, classifier, folds and seeds; over the "
             f"{len(deltas)} rows: mean {deltas.mean():+.{DIGITS}f}, from {deltas.min():+.{DIGITS}f} to "
             f"{deltas.max():+.{DIGITS}f}. It is what the protocol, not the method, adds to the score."]
    missing = len(side[safe]) + len(side[leaky]) - 2 * len(both)
    if missing:
        notes.append(f"{missing} rows scored under one protocol only are left out.")
    return Table(f"The leak — {dataset} / {task}: {name} under {leaky} † against {safe}", "method",
                 ["classifier", safe, f"{leaky} †", "Δ"], rows, notes, slug("leak", dataset, task, leaky, safe))


def leak_tables(summary: pd.DataFrame, metric: str = "balanced_accuracy") -> list[Table]:
    """:func:`leak_table` for every pair of :func:`leak_pairs` that shares rows."""
    tables = (leak_table(summary, *pair, metric=metric) for pair in leak_pairs(summary))
    return [t for t in tables if t is not None]
