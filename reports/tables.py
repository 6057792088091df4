"""Comparison tables built from the leaderboard summary: one format-free model, rendered by :mod:`reports.render`.

A :class:`Table` holds display strings with emphasis marks (``best`` in bold, ``second``
underlined) and footnotes (leaky protocols, rows failing the quality gate). The numbers come from
:func:`bench.summary.summarize`, so every table shows the same means and standard deviations
as the printed leaderboard and the MLflow parent runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bench.gate import GateRule
from bench.summary import BASELINE, METRICS, summarize
from reports.leaderboard import gate_label
from reports.stats import RankTest

LEAKY_NOTE = "leaky protocol: test windows share trials with training windows, so scores are optimistic"
QUALITY_ORDER = ("psd_distance", "mmd", "frechet", "tstr_balanced_accuracy", "real_balanced_accuracy", "tstr_ratio",
                 "memorisation_ratio")
LOWER_IS_BETTER = frozenset({"quality.psd_distance", "quality.mmd", "quality.frechet"})
HIGHER_IS_BETTER = frozenset({"quality.tstr_balanced_accuracy", "quality.tstr_ratio"})
DIGITS = 3


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and its emphasis (``best``, ``second`` or empty)."""

    text: str
    mark: str = ""


@dataclass
class Table:
    """A titled table of cells.

    Attributes
    ----------
    title : str
    corner : str
        Header of the row-label column.
    columns : list of str
    rows : list of (str, list of Cell)
    notes : list of str
        Footnotes, shown under the table.
    key : str
        File-name-safe identifier.
    """

    title: str
    corner: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    notes: list[str] = field(default_factory=list)
    key: str = ""

    def transpose(self, corner: str, title: str, key: str) -> Table:
        """Rows become columns (emphasis marks stay on their cells)."""
        cells = [cells for _, cells in self.rows]
        flipped = [(col, [cells[i][j] for i in range(len(cells))]) for j, col in enumerate(self.columns)]
        return Table(title, corner, [label for label, _ in self.rows], flipped, list(self.notes), key)


def slug(*parts: str) -> str:
    """File-name-safe key from parts."""
    return "-".join(re.sub(r"[^A-Za-z0-9.+_-]+", "_", str(p)) for p in parts)


def pm(mean: float, std: float) -> str:
    """``mean ± std`` with :data:`DIGITS` decimals; ``–`` when missing."""
    if pd.isna(mean):
        return "–"
    return f"{mean:.{DIGITS}f} ± {std:.{DIGITS}f}" if not pd.isna(std) else f"{mean:.{DIGITS}f}"


def marks(values: Sequence[float], higher_is_better: bool = True) -> list[str]:
    """``best`` / ``second`` / ``""`` for each value, compared at display precision.

    Ties share a mark; NaN gets none; a column with a single distinct value marks nothing as second.
    """
    v = np.round(np.asarray(values, dtype=np.float64), DIGITS)
    if not higher_is_better:
        v = -v
    distinct = sorted(set(v[~np.isnan(v)].tolist()), reverse=True)
    best = distinct[0] if distinct else None
    second = distinct[1] if len(distinct) > 1 else None
    return ["best" if x == best else "second" if x == second else "" for x in v]


def label(row: pd.Series) -> str:
    """Method name, with its recipe when it is not the default one."""
    recipe = row.get("recipe", "default")
    return row["method"] if recipe == "default" or pd.isna(recipe) else f"{row['method']}+{recipe}"


def method_order(labels: Sequence[str]) -> list[str]:
    """Distinct method labels in order of appearance, the ``none`` baseline first."""
    distinct = list(dict.fromkeys(labels))
    return sorted(distinct, key=lambda m: m != BASELINE)


def _title(dataset: str, task: str, protocol: str, leaky: bool) -> tuple[str, list[str]]:
    return f"{dataset} / {task} / {protocol}" + (" †" if leaky else ""), ([f"† {LEAKY_NOTE}."] if leaky else [])


def gate_notes(rows: pd.DataFrame) -> list[str]:
    """A footnote per summary row that fails the quality gate, with its reason."""
    return [f"gate FAIL — {label(r)} / {r['classifier']}: {r['gate_reason']}."
            for _, r in rows[rows["gate"] == "fail"].iterrows()]


def sections(summary: pd.DataFrame) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    """The summary split by (dataset, task, protocol), in order of appearance."""
    return [(key, part) for key, part in summary.groupby(["dataset", "task", "protocol"], sort=False)]


def leaderboard_table(part: pd.DataFrame, baseline_delta: bool = True) -> Table:
    """Long leaderboard of one dataset/task/protocol: a row per (method, classifier), best balanced accuracy first.

    Columns: every metric of :data:`METRICS` as mean ± std (best bold, second underlined within the
    column), the balanced-accuracy gain over ``none`` with the same classifier, the number of
    cells and the quality gate (``pass``, ``FAIL``, empty where nothing was measured; failing
    rows' reasons as footnotes). Not-applicable and failed groups follow with their reason.
    """
    (dataset, task, protocol), leaky = part[["dataset", "task", "protocol"]].iloc[0], bool(part["leaky"].iloc[0])
    title, notes = _title(dataset, task, protocol, leaky)
    ok = part[part["status"] == "ok"].sort_values("balanced_accuracy_mean", ascending=False, kind="stable")
    names = {"balanced_accuracy": "bal. acc.", "accuracy": "accuracy", "macro_f1": "macro-F1",
             "minority_recall": "minority rec.", "auroc": "AUROC"}
    columns = (["classifier"] + [names.get(m, m) for m in METRICS] + (["Δ none"] if baseline_delta else [])
               + ["cells", "gate"])
    metric_marks = {m: marks(ok[f"{m}_mean"]) for m in METRICS}
    rows = []
    for i, (_, r) in enumerate(ok.iterrows()):
        cells = [Cell(r["classifier"])] + [Cell(pm(r[f"{m}_mean"], r[f"{m}_std"]), metric_marks[m][i]) for m in METRICS]
        if baseline_delta:
            cells.append(Cell("" if pd.isna(r["delta_vs_none"]) else f"{r['delta_vs_none']:+.{DIGITS}f}"))
        rows.append((label(r), cells + [Cell(str(r["n_cells"])), Cell(gate_label(r["gate"]))]))
    for _, r in part[part["status"] != "ok"].iterrows():
        rows.append((label(r), [Cell(r["classifier"]), Cell(f"{r['status']}: {r['reason']}")]
                     + [Cell("")] * (len(columns) - 2)))
    return Table(f"Leaderboard — {title}", "method", columns, rows, notes + gate_notes(part),
                 slug("leaderboard", dataset, task, protocol))


def comparison_table(part: pd.DataFrame, metric: str = "balanced_accuracy") -> Table:
    """Methods as rows, classifiers as columns: ``metric`` mean ± std over folds and seeds.

    Within each classifier's column the best method is bold and the second underlined; the last
    column is each method's average rank over the classifiers (1 = best, ties averaged; only
    classifiers that scored every method count). Other groups show their status (``not-applicable``).
    """
    (dataset, task, protocol), leaky = part[["dataset", "task", "protocol"]].iloc[0], bool(part["leaky"].iloc[0])
    title, notes = _title(dataset, task, protocol, leaky)
    part = part.assign(label=[label(r) for _, r in part.iterrows()])
    methods = method_order(part["label"])
    classifiers = list(dict.fromkeys(part["classifier"]))
    mean = part.pivot_table(index="label", columns="classifier", values=f"{metric}_mean", aggfunc="first", dropna=False)
    mean = mean.reindex(index=methods, columns=classifiers)
    std = part.pivot_table(index="label", columns="classifier", values=f"{metric}_std", aggfunc="first", dropna=False)
    std = std.reindex(index=methods, columns=classifiers)
    status = part.set_index(["label", "classifier"])["status"]
    column_marks = {c: marks(mean[c]) for c in classifiers}
    complete = mean.dropna(axis=1, how="any")
    ranks = (pd.Series(stats.rankdata(-complete.to_numpy(), axis=0).mean(axis=1), index=methods)
             if complete.shape[1] else pd.Series(np.nan, index=methods))
    rank_marks = marks(ranks, higher_is_better=False)
    rows = []
    for i, m in enumerate(methods):
        cells = []
        for c in classifiers:
            st = status.get((m, c), "")
            text = pm(mean.loc[m, c], std.loc[m, c]) if st == "ok" else (st or "–")
            cells.append(Cell(text, column_marks[c][i] if st == "ok" else ""))
        cells.append(Cell("–" if pd.isna(ranks[m]) else f"{ranks[m]:.2f}", rank_marks[i]))
        rows.append((m, cells))
    name = metric.replace("_", " ")
    if complete.shape[1] < len(classifiers):
        notes.append("average rank over the classifiers that scored every method only.")
    return Table(f"{name} — {title}", "method \\ classifier", classifiers + ["avg. rank"], rows, notes,
                 slug("compare", metric, dataset, task, protocol))


def robust_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Parse ``robust.<attack>@<eps>.<metric>`` column names.

    Returns
    -------
    DataFrame
        Columns ``column``, ``attack``, ``eps`` (float), ``metric``; sorted by attack, metric, eps.
    """
    found = []
    for col in map(str, frame.columns):
        attack, at, rest = col.removeprefix("robust.").partition("@")
        eps, dot, metric = rest.rpartition(".")
        if not (col.startswith("robust.") and at and dot and attack and metric):
            continue
        try:
            found.append(dict(column=col, attack=attack, eps=float(eps), metric=metric))
        except ValueError:
            continue
    out = pd.DataFrame(found, columns=["column", "attack", "eps", "metric"])
    return out.sort_values(["attack", "metric", "eps"], kind="stable").reset_index(drop=True)


def quality_columns(frame: pd.DataFrame) -> list[str]:
    """``quality.*`` columns: those of :data:`QUALITY_ORDER` first, in that order, then any others."""
    found = [c for c in frame.columns if str(c).startswith("quality.")]
    known = [f"quality.{m}" for m in QUALITY_ORDER if f"quality.{m}" in found]
    return known + sorted(set(found) - set(known))


def extended_summary(frame: pd.DataFrame, gate: GateRule | None = None) -> pd.DataFrame:
    """:func:`summarize` with the robustness and quality columns aggregated too, under quality gate ``gate``."""
    return summarize(frame, extra=list(robust_columns(frame)["column"]) + quality_columns(frame), gate=gate)


def robustness_tables(summary: pd.DataFrame, frame: pd.DataFrame, metric: str = "accuracy") -> list[Table]:
    """Per dataset/task/protocol, classifier and attack: methods as rows, eps as columns.

    The eps = 0 column is the clean ``metric``; the others are ``robust.<attack>@<eps>.<metric>``,
    mean ± std over folds and seeds, best bold and second underlined per column.
    """
    cols = robust_columns(frame)
    cols = cols[cols["metric"] == metric]
    tables = []
    for (dataset, task, protocol), part in sections(summary):
        leaky = bool(part["leaky"].iloc[0])
        title, notes = _title(dataset, task, protocol, leaky)
        ok = part[part["status"] == "ok"]
        for classifier, sub in ok.groupby("classifier", sort=False):
            for attack, acols in cols.groupby("attack", sort=False):
                present = [c for c in acols["column"] if f"{c}_mean" in sub and sub[f"{c}_mean"].notna().any()]
                if not present:
                    continue
                eps = [0.0] + [float(e) for e, c in zip(acols["eps"], acols["column"]) if c in present]
                keys = [metric] + present
                column_marks = [marks(sub[f"{k}_mean"]) for k in keys]
                rows = []
                for i, (_, r) in enumerate(sub.iterrows()):
                    rows.append((label(r), [Cell(pm(r[f"{k}_mean"], r[f"{k}_std"]), column_marks[j][i])
                                            for j, k in enumerate(keys)]))
                tables.append(Table(f"{metric.replace('_', ' ')} under {attack} — {title} — {classifier}",
                                    "method \\ eps", [f"{e:g}" for e in eps], rows,
                                    notes + ["eps 0 is the clean score; eps is in units of the training data's "
                                             "per-feature standard deviation."],
                                    slug("robust", attack, metric, dataset, task, protocol, classifier)))
    return tables


def quality_tables(summary: pd.DataFrame, frame: pd.DataFrame) -> list[Table]:
    """Per dataset/task/protocol: a row per (method, classifier) with every ``quality.*`` metric, mean ± std.

    Distances (PSD distance, MMD, Fréchet) are best when lowest, TSTR balanced accuracy and its
    ratio to the real-data classifier's when highest; other quality columns are shown without
    emphasis. The last column is the quality gate, with failing rows' reasons as footnotes.
    """
    cols = quality_columns(frame)
    tables = []
    for (dataset, task, protocol), part in sections(summary):
        title, notes = _title(dataset, task, protocol, bool(part["leaky"].iloc[0]))
        ok = part[part["status"] == "ok"]
        present = [c for c in cols if f"{c}_mean" in ok and ok[f"{c}_mean"].notna().any()]
        if not present:
            continue
        sub = ok[ok[[f"{c}_mean" for c in present]].notna().any(axis=1)]
        column_marks = {c: (marks(sub[f"{c}_mean"], c in HIGHER_IS_BETTER)
                            if c in LOWER_IS_BETTER | HIGHER_IS_BETTER else [""] * len(sub))
                        for c in present}
        rows = [(label(r), [Cell(r["classifier"])] + [Cell(pm(r[f"{c}_mean"], r[f"{c}_std"]), column_marks[c][i])
                                                      for c in present] + [Cell(gate_label(r["gate"]))])
                for i, (_, r) in enumerate(sub.iterrows())]
        names = [c.removeprefix("quality.").replace("_", " ") + (" ↓" if c in LOWER_IS_BETTER else "") for c in present]
        tables.append(Table(f"Generation quality — {title}", "method", ["classifier"] + names + ["gate"], rows,
                            notes + ["↓ lower is better."] + gate_notes(sub), slug("quality", dataset, task, protocol)))
    return tables


def wilcoxon_table(tests: pd.DataFrame, dataset: str, task: str, protocol: str, metric: str, alpha: float) -> Table:
    """The method-vs-none tests of one dataset/task/protocol as a table; significant Holm p in bold."""
    part = tests[(tests["dataset"] == dataset) & (tests["task"] == task) & (tests["protocol"] == protocol)]
    notes_column = bool((part["warning"] != "").any())
    columns = ["classifier", "pairs", "Δ mean", "Δ median", "W+", "p (>)", "p (≠)", "p Holm", "r rb"]
    columns += ["note"] if notes_column else []
    rows = []
    for _, r in part.iterrows():
        rows.append((r["method"], [
            Cell(r["classifier"]), Cell(str(r["n_pairs"])), Cell(f"{r['mean_diff']:+.{DIGITS}f}"),
            Cell(f"{r['median_diff']:+.{DIGITS}f}"), Cell(_g(r["statistic"])), Cell(_p(r["p_greater"])),
            Cell(_p(r["p_two_sided"])), Cell(_p(r["p_holm"]), "best" if r["significant"] else ""),
            Cell(_g(r["rank_biserial"], 2)),
        ] + ([Cell(r["warning"])] if notes_column else [])))
    notes = [f"Paired Wilcoxon signed-rank test of {metric.replace('_', ' ')} against none over matched (seed, fold) "
             "cells; H1 fixed in advance: the method beats none (p (>)); p (≠) two-sided for reference; Holm over "
             f"the methods of each classifier; bold: p Holm < {alpha:g}; r rb: matched-pairs rank-biserial "
             "correlation (+1: every pair favours the method)."]
    return Table(f"Method vs none — {dataset} / {task} / {protocol}", "method", columns, rows, notes,
                 slug("wilcoxon", dataset, task, protocol))


def ranks_table(test: RankTest) -> Table:
    """Average ranks of a :class:`reports.stats.RankTest`, best in bold, second underlined."""
    average = list(test.average_ranks)
    rank_marks = marks(average, higher_is_better=False)
    rows = [(m, [Cell(f"{r:.2f}", rank_marks[i])]) for i, (m, r) in enumerate(zip(test.methods, average))]
    return Table("Average ranks", "method", ["avg. rank"], rows, [], "ranks")


def _g(x: float, digits: int = 1) -> str:
    return "–" if pd.isna(x) else f"{x:.{digits}f}"


def _p(p: float) -> str:
    if pd.isna(p):
        return "–"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"
