"""Checksums written with every stored thing, and the clean-up of what a killed writer left behind.

Everything bench keeps on disk for later use (cache arrays, fitted methods, synthetic data files,
cell records) carries a blake2b checksum of its content, written when it is created and checked
before it is used; a mismatch means the thing is rebuilt, with a warning naming it.

Large content is hashed in chunks of :data:`CHUNK` bytes, one digest per chunk, on several threads
(hashlib releases the GIL while it hashes), so a warm read of a DEAP-size cache (about 1.3 GB) is
verified in well under two seconds (``benchmarks/cache_checksum.py`` measures it). A file verified
once is not hashed again by the same process while its size, modification time and inode stay
the same.

Writers build a thing under a *partial* name (:func:`partial_path`: the final name, the host and
the writer's process id) and rename it into place. :func:`clean_partials` removes the partial
files and folders whose writer is gone: a process of this host that no longer runs, or anything
older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CHUNK = 16 * 2**20
"""Bytes per checksummed chunk."""
STALE_AFTER_S = 24 * 3600.0
"""A partial file of another host (or of a process id reused since) is removed after this long."""
_THREADS = min(8, os.cpu_count() or 1)
_VERIFIED: dict[tuple[str, int, int, int], tuple[str, ...]] = {}


def _digest(data: Any) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def buffer_digests(data: np.ndarray) -> list[str]:
    """blake2b digest of each :data:`CHUNK`-byte chunk of a contiguous array's bytes, hashed in parallel.

    Parameters
    ----------
    data : ndarray
        Any C-contiguous array (a memory map too); its raw bytes are hashed.

    Returns
    -------
    list of str
        One 32-hex-digit digest per chunk (one for an empty array).
    """
    raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    chunks = [raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK)] or [raw]
    if len(chunks) == 1:
        return [_digest(chunks[0])]
    with ThreadPoolExecutor(max_workers=min(_THREADS, len(chunks))) as pool:
        return list(pool.map(_digest, chunks))


def file_digests(path: Path) -> list[str]:
    """:func:`buffer_digests` of a file's bytes (memory-mapped, not read into memory)."""
    if Path(path).stat().st_size == 0:
        return [_digest(b"")]
    return buffer_digests(np.memmap(path, dtype=np.uint8, mode="r"))


def verify_file(path: Path, digests: list[str] | tuple[str, ...]) -> bool:
    """Whether the file's :func:`file_digests` equal ``digests`` (remembered per process while the file is unchanged)."""
    st = Path(path).stat()
    stamp = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    expected = tuple(digests)
    if _VERIFIED.get(stamp) == expected:
        return True
    ok = tuple(file_digests(path)) == expected
    if ok:
        _VERIFIED[stamp] = expected
    return ok


def record_checksum(data: Any) -> str:
    """blake2b of a JSON-able record in canonical form (sorted keys): what a stored record is checked by."""
    return _digest(json.dumps(data, sort_keys=True, allow_nan=True).encode())


# ----------------------------------------------------------------------------------------------
# Partial writes


HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
_PARTIAL = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[0-9a-f]{8}\.partial$")


def partial_path(final: Path) -> Path:
    """A unique name beside ``final`` to build it under, then rename into place.

    ``.<name>.<host>-<pid>.<random>.partial``: :func:`clean_partials` tells from it whether the
    writer still runs.
    """
    final = Path(final)
    return final.parent / f".{final.name}.{HOST}-{os.getpid()}.{secrets.token_hex(4)}.partial"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (another user's process counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_partials(folder: Path) -> list[Path]:
    """Remove the partial files and folders in ``folder`` whose writer is gone; return what was removed.

    A partial is stale when it was written on this host by a process that no longer runs, or is
    older than :data:`STALE_AFTER_S` (another host's writer, or a process id used again since).
    """
    folder = Path(folder)
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _PARTIAL.match(entry.name)
        if m is None:
            continue
        try:
            old = now - entry.lstat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if (m["host"] == HOST and not pid_alive(int(m["pid"]))) or old:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    if removed:
        log.warning("removed %d partial write(s) left in %s by a process that was stopped: %s", len(removed),
                    folder, ", ".join(p.name for p in removed))
    return removed
