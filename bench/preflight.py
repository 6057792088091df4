"""Checks made before anything is computed, so a run that cannot finish fails in seconds, not after its cells.

Each failure is one :class:`~bench.errors.ConfigError` line (exit code 2) naming the option, what
is wrong and the fix: an output folder that cannot be written, a tracking store that cannot be
opened (an unreachable server fails within seconds: MLflow's retries are shortened for this first
request only), ``--device cuda`` where torch sees no CUDA device, ``--executor ray`` without Ray, and an Optuna storage that is the
MLflow store (compared by the database they name, :func:`bench.urls.same_store`, and by the schema
an existing SQLite file already holds).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.errors import ConfigError
from bench.urls import mask_url, same_store, sqlite_holds

_FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
              "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def check_writable(folder: str | os.PathLike[str], option: str) -> None:
    """Create ``folder`` if needed and write (then remove) a probe file in it.

    Raises
    ------
    ConfigError
        ``<option> <folder> is not writable (<reason>)`` and the fix.
    """
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".bench-write-check."):
            pass
    except OSError as e:
        raise ConfigError(f"{option} {folder} is not writable ({e.strerror or e}); pass a folder you can write to, "
                          f"e.g. {option} results") from None


def check_device(device: str) -> None:
    """Raise ConfigError unless torch can use ``device`` (``cpu`` always; ``cuda``/``cuda:N`` needs that GPU)."""
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: torch {torch.__version__} sees no CUDA device on this machine; pass "
                          "--device cpu, or run where a CUDA GPU and a CUDA build of torch are installed")
    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise ConfigError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s) "
                          f"(cuda:0 to cuda:{torch.cuda.device_count() - 1}); pass one of them")


@contextlib.contextmanager
def _fail_fast() -> Iterator[None]:
    """Shorten MLflow's HTTP retries (unless the user set them) for the first request to a store."""
    added = {k: v for k, v in _FAIL_FAST.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def check_tracking(uri: str, experiment: str) -> Any:
    """Open the tracking store and the experiment (creating them when missing); return the :class:`Tracker`.

    Raises
    ------
    ConfigError
        For a store that cannot be opened (unreachable, missing driver, an Optuna database).
    """
    from bench.tracking import Tracker

    with _fail_fast():
        return Tracker(uri, experiment)


def check_stores_distinct(storage: str, tracking_uri: str) -> None:
    """Raise ConfigError when the Optuna ``storage`` and the MLflow tracking store are one database.

    Compared by what the URLs name (``sqlite:///x.db?timeout=30`` is ``sqlite+pysqlite:///./x.db``),
    and by content: an existing SQLite storage that already holds MLflow's tables.
    """
    if same_store(storage, tracking_uri) or sqlite_holds(storage) == "mlflow":
        raise ConfigError(f"--storage {mask_url(storage)} is the MLflow tracking store; Optuna and MLflow cannot "
                          "share one database (each keeps its own schema): pass another --storage, e.g. "
                          "sqlite:///optuna.db, or another --tracking-uri")


def check_run(config: Any) -> None:
    """Everything ``bench run`` checks before it computes a cell (see the module docstring).

    With ``--executor ray`` Ray must be installed; the device is checked against the cluster's GPUs
    once it is joined (:mod:`bench.executor_ray`), not against this machine's.
    """
    check_writable(config.out, "--out")
    if config.executor == "ray":
        from bench.executor_ray import import_ray

        import_ray()
    else:
        check_device(config.device)
    check_tracking(config.resolved_tracking_uri, config.experiment)


def check_tune(config: Any) -> None:
    """Everything ``bench tune`` checks before its first trial (the stores' distinctness: :class:`TuneConfig`)."""
    check_writable(Path(config.best_out).resolve().parent, "--out")
    check_device(config.study.device)
    check_tracking(config.study.resolved_tracking_uri, config.study.experiment)
