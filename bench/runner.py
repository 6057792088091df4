"""The runner: plan a study's cells, skip those already recorded (resume), compute the rest, log, summarise.

A study expands into cells (:mod:`bench.cell`), planned so that one method's folds, and a fold's
classifiers, stay together; the cells not yet recorded are grouped into units and handed to an
executor (:mod:`bench.executor`: this process, or ``--jobs N`` worker processes;
:mod:`bench.executor_ray`: a Ray cluster). Every row is
saved and logged from this process as it arrives (:mod:`bench.tracking`), so an interrupted study
resumes where it stopped. One process at a time writes a study's output folder
(:mod:`bench.study_lock`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.cell import Cell, CellCaches, cell_key, group_key
from bench.config import to_yaml
from bench.context import Contexts, DataContext
from bench.executor import Keyed, executor_for, units
from bench.results import FAILED, CellStore, ResultRow, results_table, write_table
from bench.robustness import covers, restrict
from bench.study import StudyConfig
from bench.study_lock import StudyLock
from bench.summary import summarize


@dataclass
class StudyResult:
    """What ``run_study`` returns: the tidy table, the leaderboard and counts of what happened."""

    table: pd.DataFrame
    summary: pd.DataFrame
    computed: int
    skipped: int
    failed: int
    paths: list[Path]
    tracking_hint: str


def plan(config: StudyConfig, contexts: Contexts | None = None) -> tuple[list[Cell], dict[str, DataContext]]:
    """Every cell of the study, in an order that keeps one method's folds, and a fold's classifiers, together.

    ``none`` comes first: its classifiers are the references of the other methods' generation quality.
    """
    contexts = contexts or Contexts()
    prepared = {name: contexts.get(config, name) for name in config.datasets}
    cells = []
    for dataset in config.datasets:
        for task in config.tasks:
            for protocol in config.protocols:
                for seed in config.seeds:
                    folds = prepared[dataset].folds(task, protocol, seed)
                    for method in sorted(config.methods, key=lambda m: m != "none"):  # references first
                        for i, f in enumerate(folds):  # a fold's classifiers in a row share one method fit
                            cells.extend(Cell(dataset, task, protocol, seed, i, f.name, method, classifier)
                                         for classifier in config.classifiers)
    return cells, prepared


def run_study(config: StudyConfig, progress: Callable[[int], Any] | None = None) -> StudyResult:
    """Run (or resume) a study: every cell of the grid, logged to MLflow and the output folder.

    Parameters
    ----------
    config : StudyConfig
    progress : callable, optional
        ``progress(total)`` returns an object with ``update(n)`` and ``close()`` (e.g. tqdm).

    Returns
    -------
    StudyResult

    Raises
    ------
    StudyLockedError
        Another process is running a study into ``config.out`` (:class:`bench.study_lock.StudyLock`).
    """
    Path(config.out).mkdir(parents=True, exist_ok=True)
    with StudyLock(config.out):
        return _run_locked(config, progress)


def _run_locked(config: StudyConfig, progress: Callable[[int], Any] | None) -> StudyResult:
    """:func:`run_study` while holding the study's lock."""
    from bench.tracking import StudyLog  # mlflow is imported by the main process only

    caches = CellCaches()
    cells, contexts = plan(config, caches.contexts)
    store = CellStore(config.out)
    study_log = StudyLog(config, contexts)
    groups = [group_key(config, c, contexts[c.dataset].prepared.key) for c in cells]
    keyed = [(c, (cell_key(g, c), g)) for c, g in zip(cells, groups)]

    rows: dict[str, ResultRow] = {}
    todo = _resume(config, keyed, store, rows, study_log)

    bar = progress(len(todo)) if progress else None
    failed = 0
    cells_by_key = {keys[0]: cell for cell, keys in todo}
    work = units(todo)
    # closing: on Ctrl-C the executor stops its workers now, not when the traceback is freed
    with contextlib.closing(executor_for(config, len(work), caches).run(config, work, config.experiment)) as computed:
        for row in computed:
            rows[row.cell_key] = row
            if row.status == FAILED:
                failed += 1
            else:
                store.save(row)
                study_log.cell(cells_by_key[row.cell_key], row)
            if bar:
                bar.update(1)
    if bar:
        bar.close()

    table = results_table([rows[keys[0]] for _, keys in keyed])
    summary = summarize(table, extra=[c for c in table.columns if c.startswith(("robust.", "quality."))],
                        gate=config.gate)
    study_log.finish(summary, table)
    paths = write_table(table, config.out)
    Path(config.out, "study.yaml").write_text(to_yaml(config))
    return StudyResult(table=table, summary=summary, computed=len(todo), skipped=len(keyed) - len(todo),
                       failed=failed, paths=paths, tracking_hint=study_log.tracker.experiment_url_hint())


def _resume(config: StudyConfig, keyed: list[Keyed], store: CellStore, rows: dict[str, ResultRow],
            study_log: Any) -> list[Keyed]:
    """The cells still to compute; those recorded in ``store`` go into ``rows`` (and the tracking store, if missing)."""
    attack_keys = config.attack_keys()
    todo = []
    for cell, keys in keyed:
        stored = None if config.force else store.load(keys[0])
        if stored is None or not covers(stored, attack_keys, config.eps):  # e.g. attacks added to a clean study
            todo.append((cell, keys))
            continue
        stored = restrict(stored, attack_keys, config.eps)
        rows[keys[0]] = stored
        study_log.recorded(cell, stored)
    return todo
