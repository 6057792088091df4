"""Scheduling a distributed study: how long each unit will take, and what it asks the cluster for.

A cluster runs the units it is given in any order, as resources free up; a long generator fit that
starts last keeps every other machine idle while it runs. :func:`longest_first` orders the units
by :func:`unit_seconds`, an estimate from each component's ``cost_s`` (rough seconds on 2,560
training windows, scaled by the fold's size) or, for a generator whose fit the fit cache already
holds, the seconds that fit took. :func:`unit_resources` is what a unit asks for: CPUs for its
torch threads, a GPU for a generator fit on ``--device cuda`` (a share of one for the other units,
whose classifiers run there too) and memory for its data. Estimates change the order, never a
result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from bench.cell import Cell, fit_inputs
from bench.context import DataContext
from bench.executor import Unit
from bench.fit_cache import recorded_fit_s
from bench.registry import CLASSIFIERS, METHODS
from bench.study import StudyConfig

COST_WINDOWS = 2560
"""The training-fold size that ``cost_s`` is given for."""
GPU_SHARE = 0.25
"""The GPU fraction a unit without a generator fit asks for on ``--device cuda``: four share one GPU."""
MEMORY_FACTOR = 4
"""A unit's memory: this many times the bytes of its dataset's arrays (views, synthetic windows, models) ..."""
MEMORY_BASE = 512 * 2**20
"""... plus this (the interpreter, torch and the models' code)."""
T = TypeVar("T")


def unit_seconds(config: StudyConfig, unit: Unit, contexts: Mapping[str, DataContext]) -> float:
    """Estimated seconds of a unit: its method's fits and its classifiers' fits.

    Parameters
    ----------
    config : StudyConfig
    unit : Unit
    contexts : mapping of dataset name -> DataContext
        The study's prepared data (the fold sizes, and the fit cache keys).

    Returns
    -------
    float
        The fit cache's recorded seconds for a generator fit it holds (the driver's cache: a worker
        that holds it too loads it instead, which only makes the unit shorter), else ``cost_s``
        scaled by the training fold's size.
    """
    cell = unit.cells[0][0]
    ctx = contexts[cell.dataset]
    split = ctx.fold(cell.task, cell.protocol, cell.seed, cell.fold)
    scale = len(split.train) / COST_WINDOWS
    method_cls = METHODS.get(cell.method)
    reps = {method_cls.representation_for(config.method_config(cell.method), CLASSIFIERS.get(c.classifier).representation)
            for c, _ in unit.cells}
    fits = sum(_fit_seconds(config, cell, ctx, rep, scale) for rep in sorted(reps))
    return fits + scale * sum(CLASSIFIERS.get(c.classifier).cost_s for c, _ in unit.cells)


def _fit_seconds(config: StudyConfig, cell: Cell, ctx: DataContext, rep: str, scale: float) -> float:
    """Seconds of the method's fit of ``cell``'s fold in ``rep``: recorded in the fit cache, else estimated."""
    method_cls = METHODS.get(cell.method)
    if method_cls.cache_fit and config.fit_cache:
        _, info = ctx.labels(cell.task)
        method = method_cls.from_config(config.method_config(cell.method), info=info, device=config.device)
        split = ctx.fold(cell.task, cell.protocol, cell.seed, cell.fold)
        recorded = recorded_fit_s(method, fit_inputs(config, cell, ctx, split, rep))
        if recorded is not None:
            return recorded
    return scale * method_cls.cost_s


def longest_first(items: Sequence[T], seconds: Sequence[float]) -> list[T]:
    """``items`` (units, or their indices) by decreasing ``seconds``, one estimate each; ties keep their order."""
    order = sorted(range(len(items)), key=lambda i: -seconds[i])  # sorted is stable
    return [items[i] for i in order]


def data_bytes(ctx: DataContext) -> int:
    """Bytes of a prepared dataset's arrays (windows, DE features, ratings, ids)."""
    parts = [*vars(ctx.prepared.segments).values(), ctx.prepared.de]
    return int(sum(part.nbytes for part in parts if isinstance(part, np.ndarray)))


def unit_resources(config: StudyConfig, unit: Unit, threads: int, gpus: float, memory: int) -> dict[str, Any]:
    """What a unit asks the cluster for (Ray's ``num_cpus``, ``num_gpus``, ``memory``).

    Parameters
    ----------
    config : StudyConfig
    unit : Unit
    threads : int
        Torch threads of each of its cells: its CPUs.
    gpus : float
        GPUs in the cluster; with ``--device cuda`` a generator fit asks for one, any other unit for
        :data:`GPU_SHARE` of one (its classifiers run on the GPU too); none otherwise.
    memory : int
        Bytes of the unit's dataset (:func:`data_bytes`).
    """
    gpu = 0.0
    if config.device.startswith("cuda") and gpus > 0:
        gpu = 1.0 if METHODS.get(unit.cells[0][0].method).cache_fit else GPU_SHARE
    return {"num_cpus": threads, "num_gpus": gpu, "memory": MEMORY_FACTOR * memory + MEMORY_BASE}
