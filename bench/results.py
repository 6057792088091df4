"""Result rows, the per-cell record store that makes runs resumable, and the tidy table.

Every cell (dataset, task, protocol, seed, fold, method, classifier) yields one
:class:`ResultRow`. When a cell finishes, its row is written atomically to
``<out>/cells/<cell key>.json``; a re-run with the same configuration finds the record and skips
the cell, so an interrupted run loses at most the cells it was computing. The rows of a study are
joined into one tidy table, ``<out>/results.csv`` and ``<out>/results.parquet``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import CacheError

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
        # NaN is not JSON; store it as null and restore it on load.
        data = asdict(self)
        for name in ("metrics", "robust", "quality", "method_stats"):
            data[name] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data[name].items()}
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ResultRow:
        data = json.loads(text)
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
        """The stored row of cell ``key``, or None (also for an unreadable record, which is redone)."""
        try:
            return ResultRow.from_json(self.path(key).read_text())
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def save(self, row: ResultRow) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{row.cell_key}.", dir=self.folder)
            with os.fdopen(fd, "w") as f:
                f.write(row.to_json())
            os.replace(tmp, self.path(row.cell_key))
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
