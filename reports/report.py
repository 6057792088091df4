"""The report: the tidy results table in, Markdown / CSV / LaTeX / one self-contained HTML page out.

:func:`build` turns the table into an ordered list of blocks (headings, tables, figures, notes);
:func:`write_report` renders the blocks in each requested format into one folder:

- ``report.md`` (figures linked from ``figures/``), ``report.tex`` (a LaTeX fragment of ``table``
  floats and figures), ``report.html`` (inline CSS, every figure a ``data:`` URI: no file or network
  access needed to view it);
- ``summary.csv`` (the leaderboard summary with robustness and quality columns), ``wilcoxon.csv``
  and ``ranks.csv`` (the statistics as numbers).
"""

from __future__ import annotations

import base64
import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import ConfigError, DataFormatError
from bench.gate import GateRule
from bench.results import STATUSES, check_numeric, current_status, score_columns, unique_cells
from reports import plots, render
from reports.leak import leak_tables
from reports.spectra import QualityMaps, load_quality
from reports.stats import BLOCK, PAIR, RankTest, block_scores, friedman_nemenyi, wilcoxon_vs_baseline
from reports.tables import (comparison_table, extended_summary, label, leaderboard_table, quality_tables,
                            ranks_table, robust_columns, robustness_tables, sections, slug, wilcoxon_table)

FORMATS = ("md", "csv", "tex", "html")
MIN_GROUP_BLOCKS = 5
REQUIRED = ("dataset", "task", "protocol", "method", "classifier", "seed", "fold", "status")


@dataclass
class Figure:
    """A rendered figure: file-name key, caption and PNG bytes."""

    key: str
    caption: str
    png: bytes


@dataclass
class Report:
    """Everything a report shows, in order; rendered by :func:`write_report`.

    Attributes
    ----------
    title : str
    link : str
        Where the MLflow experiment is (URL or how to open it); may be empty.
    blocks : list of (kind, payload)
        ``("h2"|"h3"|"text", str)``, ``("table", Table)`` or ``("figure", Figure)``.
    warnings : list of str
        Statistical and data caveats, shown at the top.
    summary, tests : DataFrame
        The numbers behind the tables (written as CSV).
    ranks : RankTest or None
    """

    title: str
    link: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranks: RankTest | None = None


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a tidy results table (``results.csv`` or ``results.parquet``) and check its columns."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--results {path}: no such file; pass the results.csv or results.parquet that "
                          "`python -m bench run` wrote into its --out folder")
    try:
        # Only empty fields are missing: bench writes NaN as "", and keeps a status such as "n/a" (earlier versions').
        frame = (pd.read_parquet(path) if path.suffix == ".parquet"
                 else pd.read_csv(path, keep_default_na=False, na_values=[""]))
    except (OSError, ValueError) as e:
        raise DataFormatError(f"cannot read results table {path} ({e}); pass a .csv or .parquet written by bench run") from e
    return check_table(frame, str(path))


def check_table(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table with defaults filled in (``leaky``, ``recipe``, ``reason``), earlier versions' statuses renamed
    (``n/a`` -> ``not-applicable``), numeric scores and each cell once.

    Raises
    ------
    DataFormatError
        For a missing column, an empty status, a score that is not a number, or a cell repeated with
        other values (:func:`bench.results.unique_cells`), naming it.
    """
    missing = [c for c in REQUIRED if c not in frame]
    if frame.empty or missing:
        raise DataFormatError(f"{where}: a results table needs one row per cell and the columns {', '.join(REQUIRED)}"
                              + (f"; missing: {', '.join(missing)}" if missing else "; it has no rows")
                              + " (is it the results.csv of a bench run?)")
    lost = frame["status"].isna()
    if lost.any():
        raise DataFormatError(
            f"{where}: column status is empty in {int(lost.sum())} of {len(frame)} rows, but every cell has one "
            f"({', '.join(STATUSES)}); a table whose status was 'n/a' read with pandas' default missing values "
            "loses it: read the file with bench report --results, or pandas.read_csv(path, keep_default_na=False, "
            "na_values=[''])")
    frame = frame.copy()
    frame["status"] = frame["status"].map(current_status)
    frame["reason"] = frame["reason"].astype(object).fillna("").astype(str) if "reason" in frame else ""
    frame["recipe"] = frame["recipe"].fillna("default").astype(str) if "recipe" in frame else "default"
    frame["leaky"] = frame["leaky"].astype(bool) if "leaky" in frame else False
    frame["fold"] = frame["fold"].astype(str)
    return unique_cells(check_numeric(frame, score_columns(frame), where), where)


def rank_test(frame: pd.DataFrame, metric: str, alpha: float) -> RankTest:
    """Friedman + Nemenyi over blocks = (dataset, task, protocol, classifier) groups when there are at least
    :data:`MIN_GROUP_BLOCKS` of them, else over the matched test folds (each (group, seed, fold) is a block)."""
    scores = block_scores(frame, metric, BLOCK)
    if len(scores.dropna(axis=1, how="any")) >= MIN_GROUP_BLOCKS:
        return friedman_nemenyi(scores, alpha, "dataset x task x protocol x classifier")
    return friedman_nemenyi(block_scores(frame, metric, BLOCK + PAIR), alpha,
                            "test folds: dataset x task x protocol x classifier x seed x fold")


def _figure(key: str, caption: str, fig: Any) -> tuple[str, Figure]:
    return "figure", Figure(key, caption, plots.png_bytes(fig))


def build(frame: pd.DataFrame, title: str = "bench report", link: str = "", quality_dir: str | Path | None = None,
          metric: str = "balanced_accuracy", alpha: float = 0.05, gate: GateRule | None = None) -> Report:
    """Tables, statistics and figures of a results table.

    Parameters
    ----------
    frame : DataFrame
        The tidy results table (one row per cell).
    title, link : str
        Page title; the MLflow experiment's URL or how to open it.
    quality_dir : path, optional
        The run's output folder, searched for ``quality/**.npz`` (:mod:`reports.spectra`).
    metric : str
        The score compared in the comparison tables, tests and rank diagram.
    alpha : float
    gate : GateRule, optional
        The quality gate the rows are held to (default: ``GateRule()``); stated at the top of the
        report when any row was judged.

    Returns
    -------
    Report
    """
    frame = check_table(frame, "results table")
    if metric not in frame:
        raise ConfigError(f"metric {metric!r} is not a column of the results table; use one of "
                          f"{', '.join(c for c in ('balanced_accuracy', 'accuracy', 'macro_f1', 'auroc') if c in frame)}")
    frame = check_numeric(frame, [metric], "results table")
    report = Report(title, link)
    rule = gate or GateRule()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = extended_summary(frame, rule)
        tests = wilcoxon_vs_baseline(frame, metric, alpha=alpha)
        ranks = rank_test(frame, metric, alpha) if frame["method"].nunique() >= 2 else None
    report.warnings = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning)))
    for message in report.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    report.summary, report.tests, report.ranks = summary, tests, ranks
    quality = load_quality(quality_dir) if quality_dir is not None else []
    robust = robust_columns(frame)
    blocks = report.blocks
    if (summary["gate"] != "").any():
        blocks.append(("text", f"Quality gate on every augmenting row: {rule}, where TSTR is the balanced accuracy of "
                               "the cell's classifier trained on synthetic windows only and real that of the fold's "
                               "no-augmentation classifier, both on the test fold, and the inner signal is a probe "
                               "trained on the generator's samples, scored on held-out training trials, against the "
                               "same probe trained on real windows; a generator that produced fewer windows than "
                               "asked for fails too. Failing rows are marked FAIL, never dropped."))
    for (dataset, task, protocol), part in sections(summary):
        blocks.append(("h2", f"{dataset} / {task} / {protocol}"))
        blocks.append(("table", leaderboard_table(part)))
        compare = comparison_table(part, metric)
        blocks.append(("table", compare))
        blocks.append(("table", compare.transpose("classifier \\ method", f"{compare.title} (transposed)",
                                                  slug("compare-t", metric, dataset, task, protocol))))
        if len(tests):
            blocks.append(("table", wilcoxon_table(tests, dataset, task, protocol, metric, alpha)))
        if (part["status"] == "ok").any():
            blocks.append(_figure(slug("bars", dataset, task, protocol), f"{metric.replace('_', ' ')}: mean ± std "
                                  "over folds and seeds", plots.bar_chart(part, metric, f"{dataset} / {task} / {protocol}")))
        _robustness(blocks, part, frame, robust)
        _quality(blocks, part, frame, [q for q in quality if (q.dataset, q.task, q.protocol) == (dataset, task, protocol)])
    leaks = leak_tables(summary, metric)
    if leaks:
        blocks.append(("h2", "The leak: paper protocols against safe ones"))
        blocks.extend(("table", table) for table in leaks)
    if ranks is not None and len(ranks.methods) >= 2:
        blocks.append(("h2", "Across datasets and classifiers: Friedman and Nemenyi"))
        p = "not run" if np.isnan(ranks.pvalue) else f"χ² = {ranks.statistic:.3f}, p = {ranks.pvalue:.3g}"
        blocks.append(("text", f"Blocks: {ranks.blocks} (N = {ranks.n_blocks}); methods ranked by "
                               f"{metric.replace('_', ' ')} within each block, 1 = best. Friedman test: {p}. Nemenyi "
                               f"critical difference at α = {alpha:g}: CD = {ranks.cd:.3f}; methods joined by a bar "
                               "are not significantly different."))
        blocks.append(("table", ranks_table(ranks)))
        blocks.append(_figure("critical-difference", "Critical-difference diagram (Demšar 2006)", plots.cd_diagram(ranks)))
    return report


def _robustness(blocks: list[tuple[str, Any]], part: pd.DataFrame, frame: pd.DataFrame, robust: pd.DataFrame) -> None:
    """Robustness tables and accuracy-vs-eps curves of one dataset/task/protocol (nothing without robust columns)."""
    if robust.empty:
        return
    for table in robustness_tables(part, frame):
        blocks.append(("table", table))
    (dataset, task, protocol) = part[["dataset", "task", "protocol"]].iloc[0]
    ok = part[part["status"] == "ok"]
    acc = robust[robust["metric"] == "accuracy"]
    for classifier, sub in ok.groupby("classifier", sort=False):
        for attack, cols in acc.groupby("attack", sort=False):
            curves = {}
            for _, r in sub.iterrows():
                points = [(0.0, r["accuracy_mean"], r["accuracy_std"])] + [
                    (e, r[f"{c}_mean"], r[f"{c}_std"]) for e, c in zip(cols["eps"], cols["column"])
                    if f"{c}_mean" in r and not pd.isna(r[f"{c}_mean"])]
                if len(points) > 1:
                    curves[label(r)] = tuple(np.array(v, dtype=np.float64) for v in zip(*points))
            if curves:
                blocks.append(_figure(slug("robust", attack, dataset, task, protocol, classifier),
                                      f"accuracy under {attack} against eps — {classifier}",
                                      plots.robustness_curves(curves, "accuracy", f"{attack} — {classifier}")))


def _quality(blocks: list[tuple[str, Any]], part: pd.DataFrame, frame: pd.DataFrame, maps: list[QualityMaps]) -> None:
    """Generation-quality table, spectra and DE topomaps of one dataset/task/protocol."""
    for table in quality_tables(part, frame):
        blocks.append(("table", table))
    for q in maps:
        where = f"{q.method} — {q.dataset} / {q.task} / {q.protocol}"
        if q.psd_real is not None:
            blocks.append(_figure(slug("psd", q.dataset, q.task, q.protocol, q.method),
                                  f"power spectra, real vs synthetic, per class: {where} (mean of {q.n_files} folds x seeds)",
                                  plots.spectra(q.freqs, q.psd_real, q.psd_synthetic, q.class_names, where)))
        if q.de_real is not None:
            blocks.append(_figure(slug("de", q.dataset, q.task, q.protocol, q.method),
                                  f"differential-entropy topomaps, real vs synthetic, per class and band: {where}",
                                  plots.topomaps(q.de_real, q.de_synthetic, q.class_names, q.band_names or [], where)))


# ----------------------------------------------------------------------------------------------
# Rendering


def to_markdown(report: Report) -> str:
    """The report as GitHub Markdown; figures linked as ``figures/<key>.png``."""
    out = [f"# {report.title}", ""]
    if report.link:
        out += [f"MLflow experiment: {report.link if report.link.startswith('http') else f'`{report.link}`'}", ""]
    if report.warnings:
        out += ["> **Warnings**", ">"] + [f"> - {w}" for w in report.warnings] + [""]
    for kind, payload in report.blocks:
        if kind == "h2":
            out += [f"## {payload}", ""]
        elif kind == "text":
            out += [str(payload), ""]
        elif kind == "table":
            out += [render.markdown(payload), ""]
        elif kind == "figure":
            out += [f"![{payload.caption}](figures/{payload.key}.png)", ""]
    return "\n".join(out)


def to_latex(report: Report) -> str:
    r"""A LaTeX fragment (``\input`` it): sections, booktabs tables, figures from ``figures/``."""
    out = [f"% {report.title}: needs \\usepackage{{booktabs,graphicx}}"]
    for kind, payload in report.blocks:
        if kind == "h2":
            out.append(rf"\subsection*{{{render.tex_escape(str(payload))}}}")
        elif kind == "text":
            out.append(render.tex_escape(str(payload)) + "\n")
        elif kind == "table":
            out.append(render.latex(payload))
        elif kind == "figure":
            out += [r"\begin{figure}[ht]", r"\centering",
                    rf"\includegraphics[width=\linewidth]{{figures/{payload.key}.png}}",
                    rf"\caption{{{render.tex_escape(payload.caption)}}}", r"\end{figure}"]
    return "\n".join(out) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1150px;color:#222;
padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;border-bottom:2px solid #334;padding-bottom:.3rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:1.2rem 0 .3rem;font-size:.86rem}caption{text-align:left;font-weight:600;
padding:.3rem 0;caption-side:top;white-space:nowrap}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e3e3ea;text-align:right;white-space:nowrap}
th[scope=row],thead th:first-child{text-align:left}td:last-child{white-space:normal}
thead th{border-bottom:2px solid #556;background:#f4f5f9}
tbody tr:hover{background:#fafae8}strong{color:#000}u{text-decoration-thickness:2px}
.note{font-size:.78rem;color:#555;margin:.1rem 0}.warnings{background:#fff6e0;border-left:4px solid #e0a000;
padding:.5rem 1rem;font-size:.88rem}.link{font-family:ui-monospace,monospace;font-size:.85rem;background:#f4f4f4;
padding:.1rem .3rem}figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.8rem;color:#555}
"""


def to_html(report: Report) -> str:
    """One self-contained HTML page: inline CSS, figures as base64 ``data:`` URIs, no external resources."""
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{e(report.title)}</title><style>{CSS}</style></head><body>", f"<h1>{e(report.title)}</h1>"]
    if report.link:
        target = (f"<a href=\"{e(report.link)}\">{e(report.link)}</a>" if report.link.startswith(("http://", "https://"))
                  else f"<span class=\"link\">{e(report.link)}</span>")
        out.append(f"<p id=\"mlflow\">MLflow experiment: {target}</p>")
    if report.warnings:
        out.append("<div class=\"warnings\"><strong>Warnings</strong><ul>"
                   + "".join(f"<li>{e(w)}</li>" for w in report.warnings) + "</ul></div>")
    for kind, payload in report.blocks:
        if kind == "h2":
            out.append(f"<h2>{e(str(payload))}</h2>")
        elif kind == "text":
            out.append(f"<p>{e(str(payload))}</p>")
        elif kind == "table":
            out.append(render.html_table(payload))
        elif kind == "figure":
            data = base64.b64encode(payload.png).decode("ascii")
            out.append(f"<figure id=\"fig-{e(payload.key)}\"><img alt=\"{e(payload.caption)}\" "
                       f"src=\"data:image/png;base64,{data}\"><figcaption>{e(payload.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def parse_formats(text: str | Sequence[str]) -> list[str]:
    """``md,csv,tex,html`` (or a list) checked against :data:`FORMATS`."""
    names = [t.strip().lower() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ConfigError(f"--format {text!r}: unknown format(s) {', '.join(unknown) or '(none given)'}; "
                          f"use a comma-separated subset of {','.join(FORMATS)}")
    return list(dict.fromkeys(names))


def write_report(report: Report, out: str | Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Render ``report`` into folder ``out`` in each format; return the written files."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if {"md", "tex"} & set(formats):
        figures = folder / "figures"
        figures.mkdir(exist_ok=True)
        for kind, payload in report.blocks:
            if kind == "figure":
                path = figures / f"{payload.key}.png"
                path.write_bytes(payload.png)
                written.append(path)
    if "md" in formats:
        written.append(folder / "report.md")
        written[-1].write_text(to_markdown(report), encoding="utf-8")
    if "tex" in formats:
        written.append(folder / "report.tex")
        written[-1].write_text(to_latex(report), encoding="utf-8")
    if "html" in formats:
        written.append(folder / "report.html")
        written[-1].write_text(to_html(report), encoding="utf-8")
    if "csv" in formats:
        for name, table in (("summary.csv", report.summary), ("wilcoxon.csv", report.tests),
                            ("ranks.csv", _ranks_frame(report.ranks))):
            written.append(folder / name)
            table.to_csv(written[-1], index=False)
    return written


def _ranks_frame(test: RankTest | None) -> pd.DataFrame:
    if test is None:
        return pd.DataFrame(columns=["method", "average_rank"])
    return pd.DataFrame({"method": test.methods, "average_rank": test.average_ranks, "n_blocks": test.n_blocks,
                         "blocks": test.blocks, "friedman_chi2": test.statistic, "friedman_p": test.pvalue,
                         "nemenyi_cd": test.cd, "alpha": test.alpha})

