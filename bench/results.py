"""Result rows, the per-cell record store that makes runs resumable, and the tidy table.

Every cell (dataset, task, protocol, seed, fold, method, classifier) yields one
:class:`ResultRow`. When a cell finishes, its row is written atomically to
``<out>/cells/<cell key>.json``; a re-run with the same configuration finds the record and skips
the cell, so an interrupted run loses at most the cells it was computing. A record carries a
checksum of its content: one that does not match (edited, damaged) is ignored with a warning and
its cell computed again. The rows of a study are joined into one tidy table, ``<out>/results.csv``
and ``<out>/results.parquet``; a table read back for a report holds each cell once
(:func:`unique_cells`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import CacheError, DataFormatError
from bench.integrity import clean_partials, partial_path, record_checksum

log = logging.getLogger(__name__)

OK, NOT_APPLICABLE, FAILED = "ok", "not-applicable", "failed"
STATUSES = (OK, NOT_APPLICABLE, FAILED)
"""A cell's status. ``not-applicable`` is spelt so that ``pandas.read_csv`` keeps it (it reads ``n/a`` as missing)."""
LEGACY_STATUS = {"n/a": NOT_APPLICABLE}
"""Statuses written by earlier versions -> today's (read back from cell records, tables and MLflow tags)."""


def current_status(status: str) -> str:
    """Today's name of a status read from an older record (``n/a`` -> ``not-applicable``)."""
    return LEGACY_STATUS.get(status, status)


@dataclass
class ResultRow:
    """One cell's outcome.

    Parameters
    ----------
    study : str
        Experiment name.
    dataset, task, protocol, method, classifier : str
    seed : int
    fold : str
        Fold name (``fold-0``, ``s03``, ``s03-fold-1``).
    leaky : bool
        Whether the protocol lets test windows share trials with training windows.
    recipe : {"default", "paper"}
        How the method's output reached the classifier (see :class:`bench.study.StudyConfig`).
    status : {"ok", "not-applicable", "failed"}
        ``not-applicable``: the information the classifier needs is not in the method's output (DE
        cannot become a waveform), or the recipe does not apply to the pair; ``reason`` says why.
    reason : str
        Why a cell is ``not-applicable`` or ``failed``; empty for ``ok``.
    cell_key, group_key : str
        Hash of everything the cell depends on, and of its (dataset, task, protocol, method,
        classifier) group without fold and seed.
    n_train, n_synthetic, n_test : int
        Real training windows, synthetic windows added, real test windows.
    minority_class : int
        Rarest class of the training fold (-1 when not computed).
    metrics : dict of str to float
        :func:`bench.metrics.classification_metrics` on the test fold.
    times : dict of str to float
        Seconds: ``fit_s`` (method), ``sample_s``, ``train_s`` (classifier), ``predict_s``. When
        the method's fit came from the fit cache, ``fit_load_s`` is the seconds loading it took and
        ``fit_s`` the original fit's (:mod:`bench.fit_cache`); fitted here, there is no ``fit_load_s``.
    method_stats : dict of str to float
        What the method reported about its sampling (``Method.stats_``, e.g. ESC-GAN's filter
        acceptance); table columns ``method.<name>``.
    confusion : list of list of int
        Confusion matrix (rows true, columns predicted).
    robust : dict of str to float
        Scores under attack, ``<attack>@<eps>.<metric>`` (see :mod:`bench.robustness`); table
        columns ``robust.<attack>@<eps>.<metric>``. Empty when no attack was requested.
    robust_reasons : dict of str to str
        Attack -> why its robust scores are NaN (a classifier that is not differentiable, an attack
        that does not fit the task); the table's ``robust_reason`` column joins them.
    attacks : dict of str to str
        Attack -> hash of the settings that produced its scores (what a resumed run checks).
    quality : dict of str to float
        Generation quality of the method's synthetic windows (:mod:`bench.fold_quality`); table
        columns ``quality.<metric>``. Empty for ``none``, the ``paper`` recipe, or ``quality`` off.
    profile : str
        The study's profile (``quick``, ``paper``): sizes and time of every component.
    fit_stop : str
        Why a generator's training stopped (``plateau``, ``budget``, ``epochs``); empty for
        methods without one. Its numbers are the ``method.fit.*`` columns.
    fit_curve : list of dict
        The generator's inner-validation signal per evaluation (``epoch``, ``step``, ``seconds``,
        ``signal``); logged to MLflow as the history of ``fit.signal``, not a table column.
    """

    study: str
    dataset: str
    task: str
    protocol: str
    method: str
    classifier: str
    seed: int
    fold: str
    leaky: bool
    status: str
    recipe: str = "default"
    reason: str = ""
    cell_key: str = ""
    group_key: str = ""
    n_train: int = 0
    n_synthetic: int = 0
    n_test: int = 0
    minority_class: int = -1
    metrics: dict[str, float] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    method_stats: dict[str, float] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    robust: dict[str, float] = field(default_factory=dict)
    robust_reasons: dict[str, str] = field(default_factory=dict)
    attacks: dict[str, str] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    profile: str = ""
    fit_stop: str = ""
    fit_curve: list[dict[str, float]] = field(default_factory=list)

    def flat(self) -> dict[str, Any]:
        """One table row: ids, counts, every metric and time as its own column."""
        out = asdict(self)
        out.update(out.pop("metrics"))
        out.update(out.pop("times"))
        out.update({f"method.{k}": v for k, v in out.pop("method_stats").items()})
        out.pop("confusion")
        out.pop("attacks")
        out.pop("fit_curve")
        out["robust_reason"] = "; ".join(dict.fromkeys(out.pop("robust_reasons").values()))
        out.update({f"robust.{k}": v for k, v in out.pop("robust").items()})
        out.update({f"quality.{k}": v for k, v in out.pop("quality").items()})
        return out

    def to_json(self) -> str:
        """The row as JSON, with ``checksum``: :func:`bench.integrity.record_checksum` of the rest."""
        # NaN is not JSON; store it as null and restore it on load.
        data = asdict(self)
        for name in ("metrics", "robust", "quality", "method_stats"):
            data[name] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data[name].items()}
        return json.dumps({**data, "checksum": record_checksum(data)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ResultRow:
        """The row of :meth:`to_json`'s text.

        Raises
        ------
        ValueError
            When the text has no checksum or its content does not match it.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or "checksum" not in data:
            raise ValueError("it has no checksum (written by an older bench, or not a cell record)")
        if data.pop("checksum") != record_checksum(data):
            raise ValueError("its content does not match its checksum (edited or damaged)")
        for name in ("metrics", "robust", "quality", "method_stats"):  # records written before attacks existed have no "robust"
            data[name] = {k: (math.nan if v is None else v) for k, v in data.get(name, {}).items()}
        data["status"] = current_status(data["status"])
        return cls(**data)


class CellStore:
    """Finished cells as JSON files under ``<out>/cells/``, written atomically.

    Only ``ok`` and ``not-applicable`` rows are stored: a failed cell is computed again on the next run.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.folder = Path(out) / "cells"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> ResultRow | None:
        """The stored row of cell ``key``, or None: absent, or unreadable or failing its checksum (warned; redone)."""
        path = self.path(key)
        try:
            text = path.read_text()
        except OSError:
            return None
        try:
            return ResultRow.from_json(text)
        except (ValueError, TypeError, KeyError) as e:
            log.warning("cell record %s is unusable (%s); computing the cell again", path, " ".join(str(e).split()))
            return None

    def save(self, row: ResultRow) -> None:
        """Write ``row``'s record atomically (partial records a killed run left are removed first)."""
        final = self.path(row.cell_key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            clean_partials(self.folder)
            tmp = partial_path(final)
            tmp.write_text(row.to_json())
            os.replace(tmp, final)
        except OSError as e:
            raise CacheError(f"cannot write the cell record under {self.folder} ({e}); pass a writable --out") from e


def results_table(rows: list[ResultRow]) -> pd.DataFrame:
    """The tidy table: one row per cell, columns in a stable order."""
    frame = pd.DataFrame([r.flat() for r in rows])
    if frame.empty:
        return frame
    return frame.sort_values(["dataset", "task", "protocol", "method", "classifier", "seed", "fold"], kind="stable").reset_index(drop=True)


def write_table(frame: pd.DataFrame, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``results.csv`` and ``results.parquet`` into ``out``; return their paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "results.csv", folder / "results.parquet"]
    frame.to_csv(paths[0], index=False)
    frame.to_parquet(paths[1], index=False)
    return paths


CELL_IDS = ("dataset", "task", "protocol", "method", "classifier", "recipe", "seed", "fold")
"""The columns that name a cell in a results table: a report counts each once."""
_SCORES = re.compile(r"(accuracy|balanced_accuracy|macro_f1|minority_recall|auroc|recall_\d+|(robust|quality)\..+)")


def score_columns(frame: pd.DataFrame) -> list[str]:
    """The table's score columns: classification metrics, ``robust.*`` and ``quality.*`` (never times)."""
    return [c for c in frame.columns if _SCORES.fullmatch(str(c))]


def check_numeric(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """The table with ``columns`` as floats; a value that is not a number (empty is NaN) is an error.

    Raises
    ------
    DataFormatError
        Naming the column, the row (1-based, after the header) and the value.
    """
    frame = frame.copy()
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
        numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = numbers.isna() & (text != "")
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataFormatError(f"{where}: column {column!r} must hold numbers, but row {i + 1} holds "
                                  f"{values.iloc[i]!r}; fix or remove that row (or pass the results.csv bench run wrote)")
        frame[column] = numbers.astype(float)
    return frame


def unique_cells(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table with each cell (:data:`CELL_IDS`) once: exact repeats dropped, conflicting ones refused.

    Two rows of one cell (two runs of a study that both logged it, a table with its rows repeated)
    count once when their ``status``, ``cell_key`` and :func:`score_columns` agree (times may differ).

    Raises
    ------
    DataFormatError
        For a cell whose rows disagree, naming the cell and the first differing column.
    """
    ids = [c for c in CELL_IDS if c in frame]
    repeated = frame.duplicated(ids, keep=False)
    if not repeated.any():
        return frame
    compared = [c for c in ("status", "cell_key", *score_columns(frame)) if c in frame]
    for _, rows in frame[repeated].groupby(ids, sort=False, dropna=False):
        first = rows.iloc[0]
        for _, other in rows.iloc[1:].iterrows():
            for column in compared:
                a, b = first[column], other[column]
                if not (a == b or (pd.isna(a) and pd.isna(b))):
                    cell = "/".join(str(first[c]) for c in ids)
                    raise DataFormatError(f"{where}: cell {cell} appears {len(rows)} times with different {column} "
                                          f"({a!r} vs {b!r}); keep one row per cell (two studies or runs wrote it), "
                                          "e.g. rerun the study into a fresh --out or experiment")
    return frame[~frame.duplicated(ids, keep="first")].reset_index(drop=True)
