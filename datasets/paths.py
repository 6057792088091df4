"""Where datasets live on disk, and the error a newcomer sees when they are not there.

``--data-dir DIR`` (or ``BENCH_DATA_DIR``) is a folder with one subfolder per dataset, as the
datasets ship them (``DIR/deap/data_preprocessed_python/s01.dat`` ...). Pointing it straight at
one dataset's own folder works too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bench.errors import DataNotFoundError

DATA_DIR_ENV = "BENCH_DATA_DIR"
CACHE_DIR_ENV = "BENCH_CACHE_DIR"


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``explicit``, else ``$BENCH_CACHE_DIR``, else ``~/.cache/bench``."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "bench"


def locate_files(
    dataset: str,
    data_dir: str | os.PathLike[str] | None,
    find: Callable[[Path], list[Path]],
    *,
    layout: str,
    obtain: str,
) -> list[Path]:
    """Find a dataset's files under ``data_dir`` or fail with an error one can act on.

    Parameters
    ----------
    dataset : str
        Dataset name; ``DIR/<dataset>`` (any letter case) is tried before ``DIR`` itself.
    data_dir : path or None
        The ``--data-dir`` value; None falls back to ``$BENCH_DATA_DIR``.
    find : callable
        Returns the dataset's files below a candidate root (empty list when none).
    layout : str
        The expected layout, shown in the error.
    obtain : str
        How the dataset is obtained, shown in the error.

    Returns
    -------
    list of Path
        The files ``find`` returned for the first candidate root that has any.
    """
    given = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if not given:
        raise DataNotFoundError(
            f"no data folder for dataset {dataset!r}: pass --data-dir DIR or set {DATA_DIR_ENV}=DIR.\n"
            f"Expected layout:\n{layout}\n{obtain}"
        )
    base = Path(given).expanduser()
    candidates = []
    if base.is_dir():
        candidates = [c for c in sorted(base.iterdir()) if c.is_dir() and c.name.lower() == dataset]
    candidates.append(base)
    for root in candidates:
        files = find(root)
        if files:
            return files
    looked = "\n".join(f"  {c}" + ("" if c.is_dir() else "  (does not exist)") for c in candidates)
    raise DataNotFoundError(
        f"dataset {dataset!r}: no data files found. Looked in:\n{looked}\n"
        f"Expected layout (under --data-dir / {DATA_DIR_ENV}):\n{layout}\n{obtain}"
    )
