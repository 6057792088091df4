"""The Ray executor (``--executor ray``): a study's units on a Ray cluster, from a laptop to many GPU nodes.

Each unit (:class:`~bench.executor.Unit`) is one Ray task running the same
:func:`~bench.executor.compute_unit` as the local executors, in a worker that keeps its
:class:`~bench.cell.CellCaches` from unit to unit. What a unit asks for, and the order the units
are submitted in (longest first), come from :mod:`bench.schedule`.

The driver (the ``bench run`` process) alone writes: a task returns its rows and the files its
cells wrote under ``--out`` (the quality profiles, written into a temporary folder on the worker),
and the driver saves the cell records, logs the MLflow runs and writes the files. Nothing on a
worker's disk is needed afterwards. A worker reads the dataset through ``--data-dir`` when that
folder exists on its node (and its own data cache); otherwise it takes the arrays the driver put
in Ray's object store once per study. The log says which, per node.

Failures: a unit whose worker died (killed, out of memory, its node lost) is run again by Ray, at
most :data:`MAX_RETRIES` times; each run computes the same rows. Ctrl-C or SIGTERM on the driver
cancels the pending units and kills the running ones; the finished cells are saved, and the next
run resumes from them. Ray is imported here only (``pip install -e .[ray]``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cell import CellCaches
from bench.errors import ConfigError, ExecutorError
from bench.executor import Unit, compute_unit
from bench.results import ResultRow
from bench.schedule import MEMORY_BASE, MEMORY_FACTOR, data_bytes, longest_first, unit_resources, unit_seconds
from bench.study import StudyConfig, with_runtime

log = logging.getLogger(__name__)

MAX_RETRIES = 2
"""Times Ray runs a unit again after its worker died."""
POLL_S = 0.5
"""How long the driver waits for a finished unit at a time (Ctrl-C is handled between waits)."""
OBJECT_STORE = "Ray's object store"


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray, which is not installed: pip install -e '.[ray]' "
                          "(make setup installs it), or pass --executor local") from None
    return ray


@dataclass
class UnitResult:
    """What a Ray task returns: the unit's rows, the files its cells wrote under ``--out``, and where it ran.

    ``files`` maps paths relative to ``--out`` to their bytes; ``data`` says where the worker read the data.
    """

    rows: list[ResultRow]
    files: dict[str, bytes]
    node: str
    data: str


class RayExecutor:
    """Units as Ray tasks, submitted longest-first, their rows yielded as each unit finishes.

    Parameters
    ----------
    caches : CellCaches, optional
        The driver's (its plan prepared the data contexts that go into the object store); fresh if None.
    """

    def __init__(self, caches: CellCaches | None = None) -> None:
        self.caches = caches or CellCaches()

    def run(self, config: StudyConfig, units: Sequence[Unit], study: str) -> Iterator[ResultRow]:
        ray = import_ray()
        started = _connect(ray, config)
        try:
            yield from self._run(ray, config, units, study)
        finally:
            if started:
                ray.shutdown()

    def _run(self, ray: Any, config: StudyConfig, units: Sequence[Unit], study: str) -> Iterator[ResultRow]:
        gpus = ray.cluster_resources().get("GPU", 0.0)
        _check_device(config.device, gpus)
        threads = config.threads or 1
        config = with_runtime(config, jobs=1, threads=threads)
        contexts = {name: self.caches.contexts.get(config, name) for name in config.datasets}
        sizes = {name: data_bytes(ctx) for name, ctx in contexts.items()}
        requests = [unit_resources(config, u, threads, gpus, sizes[u.cells[0][0].dataset]) for u in units]
        _check_fits(ray, requests)
        data = [ray.put(contexts)]  # in a list: a worker fetches it only when it has no --data-dir
        order = longest_first(range(len(units)), [unit_seconds(config, u, contexts) for u in units])
        task = ray.remote(bench_unit)
        pending: dict[Any, Unit] = {}
        seen: set[tuple[str, str]] = set()
        try:
            for i in order:
                pending[task.options(max_retries=MAX_RETRIES, retry_exceptions=False, **requests[i])
                        .remote(config, units[i], study, data)] = units[i]
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
                for ref in done:
                    unit = pending.pop(ref)
                    result = _result(ray, ref, unit)
                    if (result.node, result.data) not in seen:
                        seen.add((result.node, result.data))
                        log.info("node %s reads the data from %s", result.node, result.data)
                    _write_files(Path(config.out), result.files)
                    yield from result.rows
        except BaseException:  # Ctrl-C, SIGTERM, an error, or the caller stopped: stop every unit now
            for ref in pending:
                ray.cancel(ref, force=True)
            raise


def _connect(ray: Any, config: StudyConfig) -> bool:
    """Join ``config.ray_address``, or start a local Ray instance; False when this process had joined one already."""
    if ray.is_initialized():
        return False
    if config.ray_address is None:
        cpus = config.workers if config.jobs != 1 else os.cpu_count()
        where, options = "a local Ray instance", {"num_cpus": cpus}
    else:
        where, options = f"the Ray cluster at {config.ray_address}", {"address": config.ray_address}
    try:
        with _signals_deferred():
            ray.init(include_dashboard=False, logging_level=logging.WARNING, **options)
    except ConnectionError as e:
        raise ExecutorError(f"--ray-address {config.ray_address}: cannot join a Ray cluster ({' '.join(str(e).split())});"
                            " start one with `ray start --head`, or leave --ray-address out to start a local one") from None
    except BaseException:  # Ctrl-C or SIGTERM while it started: stop the instance
        ray.shutdown()
        raise
    resources = ray.cluster_resources()
    log.info("running on %s: %g CPUs, %g GPUs", where, resources.get("CPU", 0), resources.get("GPU", 0))
    return True


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block ends, then act on them.

    Interrupted half-way, ``ray.init`` leaves Ray's agent processes running with no parent and
    may crash the interpreter at exit; a started instance is shut down cleanly (a few seconds).
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: not set from Python
    for signum in caught[:1]:
        handler = previous[signum]
        if callable(handler):
            handler(signum, None)  # e.g. raises KeyboardInterrupt
        elif handler == signal.SIG_DFL:
            signal.raise_signal(signum)


def _check_device(device: str, gpus: float) -> None:
    """Raise ConfigError unless the cluster can give units ``device``: Ray assigns each unit its GPU."""
    if not device.startswith("cuda"):
        return
    if device != "cuda":
        raise ConfigError(f"--device {device}: with --executor ray, Ray gives each unit its GPU; pass --device cuda")
    if gpus <= 0:
        raise ConfigError("--device cuda: the Ray cluster has no GPU; add GPU nodes (`ray start --num-gpus N` on "
                          "them), or pass --device cpu")


def _check_fits(ray: Any, requests: list[dict[str, Any]]) -> None:
    """Raise ConfigError when some unit asks for more CPUs or memory than any node has (it would wait forever)."""
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    cpus, memory = (max((n.get(key, 0) for n in nodes), default=0) for key in ("CPU", "memory"))
    need_cpus, need_memory = (max((r[key] for r in requests), default=0) for key in ("num_cpus", "memory"))
    if need_cpus > cpus:
        raise ConfigError(f"--threads {need_cpus}: each unit asks Ray for {need_cpus} CPUs, more than any node has "
                          f"({cpus:g}); pass --threads {max(1, int(cpus))}")
    if need_memory > memory:
        raise ConfigError(f"a unit asks Ray for {need_memory / 2**30:.1f} GiB of memory ({MEMORY_FACTOR} x its "
                          f"dataset's arrays + {MEMORY_BASE / 2**30:.1f} GiB), more than any node offers "
                          f"({memory / 2**30:.1f} GiB); give the nodes more (`ray start --memory`), or study fewer "
                          "subjects")


def _result(ray: Any, ref: Any, unit: Unit) -> UnitResult:
    """The finished task's result; a unit whose worker kept dying is an ExecutorError naming it."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as e:
        cell = unit.cells[0][0]
        raise ExecutorError(f"unit {cell.method} on {cell.dataset}/{cell.task}/{cell.protocol} seed {cell.seed} "
                            f"{cell.fold_name} failed on Ray after {MAX_RETRIES} retries ({type(e).__name__}); the "
                            "finished cells are saved: run the same command again to resume") from None


def _write_files(out: Path, files: dict[str, bytes]) -> None:
    """Write a unit's files under ``out``, each atomically (a partial file never takes a real name)."""
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(content)
        partial.replace(path)


_CACHES: CellCaches | None = None
"""A Ray worker process's caches, kept from one unit to the next (set in that process only)."""


def bench_unit(config: StudyConfig, unit: Unit, study: str, data: list[Any]) -> UnitResult:
    """In a Ray worker: compute a unit's rows (the task's process title is ``ray::bench_unit``).

    Parameters
    ----------
    config : StudyConfig
    unit : Unit
    study : str
    data : list of one ObjectRef
        The driver's prepared data contexts (dataset name -> DataContext), fetched only when
        ``config.data_dir`` does not exist on this node.
    """
    global _CACHES
    caches = _CACHES = _CACHES or CellCaches()
    if config.data_dir and Path(config.data_dir).is_dir():
        source = f"--data-dir {config.data_dir}"
    else:
        source = OBJECT_STORE
        if not caches.contexts.holds(config):
            caches.contexts.adopt(config, import_ray().get(data[0]))
    with tempfile.TemporaryDirectory(prefix="bench-unit-") as out:
        rows = list(compute_unit(with_runtime(config, out=out), unit, study, caches))
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()}
    return UnitResult(rows, files, platform.node(), source)
