"""Executors: where a study's units of work are computed.

The runner plans **units** (:class:`Unit`): the cells of one method's fold, whose classifiers share
one method fit, in plan order. An executor takes the units and yields every cell's row as soon as
it is computed, in whatever order they finish::

    for row in executor_for(config).run(config, units, study):
        ...

:func:`compute_unit` is a pure function of the resolved study config and the unit: given the same
two it computes the same rows in any process on any machine (its :class:`~bench.cell.CellCaches`
only save work). Two executors are built in: :class:`LocalExecutor` (this process, all the cores
for each cell) and :class:`PoolExecutor` (``--jobs N`` spawned worker processes);
:class:`bench.executor_ray.RayExecutor` (``--executor ray``) runs them on a Ray cluster. Another
plugs in by implementing :class:`Executor`'s ``run``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.cell import Cell, CellCaches, References, compute_cell
from bench.integrity import clean_partials, partial_path
from bench.results import ResultRow
from bench.study import StudyConfig, with_runtime

Keyed = tuple[Cell, tuple[str, str]]
"""A cell and its (cell key, group key)."""


@dataclass(frozen=True)
class Unit:
    """Cells that differ only in the classifier (one method fit), in plan order, with their keys."""

    cells: tuple[Keyed, ...]


def units(cells: Sequence[Keyed]) -> list[Unit]:
    """Cells grouped by everything but the classifier (one method fit each), in plan order.

    The plan puts ``none`` first, so the references that generation quality needs (the folds'
    ``none`` classifiers) are usually written before another worker's fold asks for them.
    """
    grouped: dict[tuple, list[Keyed]] = {}
    for cell, keys in cells:
        grouped.setdefault(astuple(cell)[:-1], []).append((cell, keys))
    return [Unit(tuple(group)) for group in grouped.values()]


def compute_unit(config: StudyConfig, unit: Unit, study: str, caches: CellCaches | None = None) -> Iterator[ResultRow]:
    """The rows of a unit's cells, each yielded as soon as it is computed.

    Parameters
    ----------
    config : StudyConfig
        The resolved study config (its runtime fields set for this executor).
    unit : Unit
    study : str
        Experiment name, recorded in the rows.
    caches : CellCaches, optional
        What earlier units of this process left (prepared data, references); a fresh one if None.
    """
    caches = caches or CellCaches()
    for cell, keys in unit.cells:
        yield compute_cell(config, cell, study, keys, caches)


class Executor(Protocol):
    """Computes units and yields their rows as they finish."""

    def run(self, config: StudyConfig, units: Sequence[Unit], study: str) -> Iterator[ResultRow]: ...


class LocalExecutor:
    """Every unit in this process, one after another, with all the cores for each cell.

    Parameters
    ----------
    caches : CellCaches, optional
        The caller's (e.g. the data contexts its plan prepared); a fresh one if None.
    """

    def __init__(self, caches: CellCaches | None = None) -> None:
        self.caches = caches or CellCaches()

    def run(self, config: StudyConfig, units: Sequence[Unit], study: str) -> Iterator[ResultRow]:
        config = with_runtime(config, jobs=1)
        for unit in units:
            yield from compute_unit(config, unit, study, self.caches)


class PoolExecutor:
    """Units spread over ``workers`` spawned processes; every finished cell comes back through a queue at once.

    An interrupted study loses only the cells being computed: on Ctrl-C, SIGTERM or an error the
    workers are terminated at once. Each worker watches its parent and exits when it is gone, so a
    ``kill -9`` of the main process leaves no worker behind. The workers share the folds' reference
    classifiers through a temporary folder (:class:`~bench.cell.References`), named as a partial
    write of this process (:func:`bench.integrity.partial_path`): removed when the run ends, and
    by the next run when this process was killed.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, config: StudyConfig, units: Sequence[Unit], study: str) -> Iterator[ResultRow]:
        config = with_runtime(config, jobs=self.workers)
        spawn = multiprocessing.get_context("spawn")  # forking a process that has started torch threads can hang
        rows = spawn.Queue()
        n_cells = sum(len(unit.cells) for unit in units)
        with _references_folder() as shared:
            pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=spawn, initializer=_start_worker,
                                       initargs=(rows, str(shared), os.getpid()))
            try:
                futures = [pool.submit(_compute_unit, config, unit, study) for unit in units]
                for _ in range(n_cells):
                    while True:
                        try:
                            row = rows.get(timeout=1.0)
                            break
                        except queue.Empty:
                            broken = next((f for f in futures if f.done() and f.exception() is not None), None)
                            if broken is not None:
                                raise broken.exception()
                    yield row
            except BaseException:  # Ctrl-C, SIGTERM, an error, or the caller stopped: do not wait for the units
                for process in list((pool._processes or {}).values()):
                    process.terminate()
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)


def executor_for(config: StudyConfig, n_units: int, caches: CellCaches | None = None) -> Executor:
    """The executor ``config`` asks for: Ray (:mod:`bench.executor_ray`), or ``config.workers`` processes for
    ``n_units`` units, local (with ``caches``) for one."""
    if config.executor == "ray":
        from bench.executor_ray import RayExecutor  # the only module that imports ray

        return RayExecutor(caches)
    workers = min(config.workers, n_units)
    return PoolExecutor(workers) if workers > 1 else LocalExecutor(caches)


@contextlib.contextmanager
def _references_folder() -> Iterator[Path]:
    """A fresh folder for the workers' references, removed at the end; those left by killed runs are removed first."""
    root = Path(tempfile.gettempdir())
    clean_partials(root)
    folder = partial_path(root / "bench-references")
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_PARENT_POLL_S = 0.5
"""How often a pool worker checks that its parent still runs."""

_WORKER: tuple[Any, CellCaches] | None = None
"""A pool worker process's result queue and caches (set by :func:`_start_worker` in that process only)."""


def _start_worker(rows: Any, shared: str, parent: int) -> None:
    """Initialise a worker process: its result queue and caches (sharing references through ``shared``),
    and a thread that ends the process when ``parent`` (the main process's id) is gone."""
    global _WORKER
    threading.Thread(target=_watch_parent, args=(parent,), name="bench-watch-parent", daemon=True).start()
    _WORKER = (rows, CellCaches(references=References(Path(shared))))


def _watch_parent(parent: int) -> None:
    """Exit this process as soon as its parent is no longer ``parent`` (it died and we were adopted)."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def _compute_unit(config: StudyConfig, unit: Unit, study: str) -> None:
    """In a worker: compute a unit's cells in order, putting each row on the queue as it finishes."""
    rows, caches = _WORKER
    for row in compute_unit(config, unit, study, caches):
        rows.put(row)
