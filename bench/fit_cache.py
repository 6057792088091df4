"""The fit cache: a fitted augmentation method is stored on disk once and loaded by every later fit.

A generator's fit takes minutes (a paper-profile one hours on a GPU); the classifiers of a fold,
reruns, attacks, reports and ``bench tune`` trials that fit the same method on the same windows
load it instead. Only methods that set ``cache_fit`` (:class:`bench.components.Method`) are
cached.

An entry is a folder ``<cache root>/fits/<key>/`` (see :func:`datasets.paths.cache_dir`) holding
``method.pt``, the fitted object written with ``torch.save`` (a fit report such as
``fit_report_`` is part of it), and ``entry.json``: the key's inputs, for humans and for the
check on load, the seconds the original fit took and a blake2b checksum of ``method.pt``. The key
hashes everything the fitted state depends on: the method's registered name, class and resolved
config, :class:`FitInputs` (representation, data, labels, split, fit seed, any extra fields) and
:func:`code_version`. The device is not part of it: a fit made on a GPU is loaded onto the CPU and
the other way round.

Entries are written into a temporary folder and renamed into place, which is atomic: two processes
that fit the same key at once both write, the first rename wins and the other discards its copy,
so a reader sees a whole entry or none. An entry that is truncated, corrupt or written for other
inputs is removed, with a warning naming it, and fitted again; partial entries a killed process left
behind are removed on the next write (:func:`bench.integrity.clean_partials`).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.components import Method
from bench.config import config_hash, plain, to_dict
from bench.integrity import clean_partials, partial_path
from datasets.cache import CODE_VERSION
from datasets.paths import cache_dir

log = logging.getLogger(__name__)

PAYLOAD = "method.pt"
SIDECAR = "entry.json"
_SOURCE_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class FitInputs:
    """What a fit depends on besides the method's class and config.

    Parameters
    ----------
    method : str
        The method's registered name.
    representation : str
        The representation it is fitted in.
    data : str
        Key of the prepared data (:attr:`datasets.pipeline.Prepared.key`).
    labels : mapping
        The label rule and task.
    split : tuple
        Where the training windows come from (``Split.where``).
    train : str
        Hash of the training window indices.
    rng : tuple
        The key the fit's generator is derived from (:func:`bench.seeding.derive`).
    extra : mapping
        Any other setting the fit depends on (e.g. a study's time budget per fit).
    """

    method: str
    representation: str
    data: str
    labels: Mapping[str, Any]
    split: tuple[Any, ...]
    train: str
    rng: tuple[Any, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fitted:
    """A fitted method and where it came from.

    Parameters
    ----------
    method : Method
        The fitted object: the one given to :func:`load_or_fit`, or a loaded copy.
    fit_s : float
        Seconds the fit took (for a loaded entry, the original fit's).
    load_s : float or None
        Seconds loading the entry took; None when the method was fitted here.
    """

    method: Method
    fit_s: float
    load_s: float | None = None


def code_version(cls: type) -> str:
    """Hash of the code a fit of ``cls`` runs.

    The source of every ``.py`` file under ``methods/``, of ``bench/components.py`` and of the
    file that defines ``cls`` (a method registered from elsewhere), and
    :data:`datasets.cache.CODE_VERSION`.
    """
    files = [*sorted((_SOURCE_ROOT / "methods").rglob("*.py")), _SOURCE_ROOT / "bench" / "components.py"]
    own = inspect.getsourcefile(cls)
    if own is not None:
        files.append(Path(own).resolve())
    return _sources_hash(tuple(dict.fromkeys(files)))


@functools.cache
def _sources_hash(files: tuple[Path, ...]) -> str:
    digest = hashlib.blake2b(f"datasets {CODE_VERSION}".encode(), digest_size=16)
    for path in files:
        name = path.relative_to(_SOURCE_ROOT).as_posix() if path.is_relative_to(_SOURCE_ROOT) else path.name
        digest.update(f"\0{name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fit_key(method: Method, inputs: FitInputs) -> tuple[str, dict[str, Any]]:
    """The cache key of fitting ``method`` as ``inputs`` say, and the parts hashed into it.

    Returns
    -------
    key : str
    parts : dict
        Plain JSON: the method's class (``module.qualname``), resolved config and
        :func:`code_version`, and the fields of ``inputs`` (never the device).
    """
    cls = type(method)
    parts = {"class": f"{cls.__module__}.{cls.__qualname__}", "config": to_dict(method.config),
             "code": code_version(cls), **plain(inputs)}
    parts = json.loads(json.dumps(parts, default=repr))  # as entry.json holds it, to compare on load
    return config_hash(parts), parts


def fits_dir() -> Path:
    """The fit cache's folder: ``fits/`` under :func:`datasets.paths.cache_dir`."""
    return cache_dir() / "fits"


def load_or_fit(method: Method, inputs: FitInputs, fit: Callable[[], float], *, enabled: bool = True,
                root: Path | None = None) -> Fitted:
    """Load the fit of ``method`` that ``inputs`` describe from the cache, or fit and store it.

    Parameters
    ----------
    method : Method
        Constructed, not fitted, with the config and device to use.
    inputs : FitInputs
    fit : callable
        Fits ``method`` in place and returns the seconds it took.
    enabled : bool
        False fits without reading or writing the cache (``--no-fit-cache``).
    root : Path, optional
        The cache folder (default :func:`fits_dir`).

    Returns
    -------
    Fitted
        A loaded copy is moved to ``method.device``: its tensors by ``torch.load``'s
        ``map_location``, its ``device`` set.
    """
    if not (enabled and method.cache_fit):
        return Fitted(method, fit())
    key, parts = fit_key(method, inputs)
    folder = (root or fits_dir()) / key
    tic = time.perf_counter()
    hit = _load(folder, parts, method.device)
    if hit is not None:
        return Fitted(hit[0], hit[1], time.perf_counter() - tic)
    fit_s = fit()
    _store(folder, method, parts, fit_s)
    return Fitted(method, fit_s)


def recorded_fit_s(method: Method, inputs: FitInputs, root: Path | None = None) -> float | None:
    """The seconds the cached fit of ``method`` as ``inputs`` say took, None when the cache has no such entry.

    Reads only the entry's ``entry.json`` (not the fitted object): a scheduler's estimate of a fit's cost.
    """
    key, parts = fit_key(method, inputs)
    try:
        entry = json.loads(((root or fits_dir()) / key / SIDECAR).read_text())
        return float(entry["fit_s"]) if entry["inputs"] == parts else None
    except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable: loading it would refit anyway
        return None


def _checksum(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def _load(folder: Path, parts: dict[str, Any], device: str) -> tuple[Method, float] | None:
    """The entry's method (on ``device``) and original fit seconds; None when absent or unusable (then removed)."""
    import torch

    if not folder.is_dir():
        return None
    try:
        entry = json.loads((folder / SIDECAR).read_text())
        if entry["inputs"] != parts:
            raise ValueError(f"{SIDECAR} was written for other inputs")
        if _checksum(folder / PAYLOAD) != entry["checksum"]:
            raise ValueError(f"{PAYLOAD} does not match the checksum in {SIDECAR}")
        method = torch.load(folder / PAYLOAD, weights_only=False, map_location=device)
        fit_s = float(entry["fit_s"])
    except Exception as e:  # whatever makes an entry unreadable, it is rebuilt
        reason = " ".join(str(e).split())  # one line
        log.warning("fit cache entry %s is unusable (%s); removing it and fitting again", folder, reason)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    method.device = device
    return method, fit_s


def _store(folder: Path, method: Method, parts: dict[str, Any], fit_s: float) -> None:
    """Write an entry atomically; a concurrent writer's entry that is already in place wins.

    A failed write only warns: the fit is used by this run, not kept.
    """
    import torch

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        clean_partials(folder.parent)
        tmp = partial_path(folder)
        tmp.mkdir()
    except OSError as e:
        log.warning("cannot write the fit cache under %s (%s); set BENCH_CACHE_DIR to a writable folder or pass "
                    "--no-fit-cache", folder.parent, e)
        return
    try:
        torch.save(method, tmp / PAYLOAD)
        entry = {"inputs": parts, "fit_s": fit_s, "checksum": _checksum(tmp / PAYLOAD)}
        (tmp / SIDECAR).write_text(json.dumps(entry, indent=1))
        os.rename(tmp, folder)  # atomic; fails when another process's entry is already there
    except OSError as e:
        if not folder.is_dir():
            log.warning("cannot write fit cache entry %s (%s); check free space, or pass --no-fit-cache", folder, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
