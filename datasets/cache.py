"""On-disk cache of arrays as memory-mappable ``.npy`` files.

An entry is a folder ``<root>/<kind>/<key>/`` holding one ``.npy`` per array and a
``manifest.json`` that describes them. The key is a hash of everything the arrays depend on:
the source files' identity (name, size, modification time), every parameter and
:data:`CODE_VERSION`. Entries are written to a temporary folder and renamed into place, so a
reader never sees half an entry. Every array's content is checksummed when it is written (blake2b
per chunk, :mod:`bench.integrity`) and verified before an entry is used: an entry whose files
disagree with its manifest (truncated, overwritten, replaced, missing, or written before every
array carried a checksum) is deleted, with a warning, and rebuilt. Partial entries a killed writer
left behind are removed on the next write beside them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.config import plain
from bench.errors import CacheError
from bench.integrity import clean_partials, file_digests, partial_path, verify_file

log = logging.getLogger(__name__)

CODE_VERSION = 1
"""Bump whenever reading, segmentation or feature code changes its output."""

def file_identity(paths: list[Path]) -> list[tuple[str, int, int]]:
    """(name, size in bytes, modification time in ns) of each file: what a cache key sees of it."""
    out = []
    for p in paths:
        st = p.stat()
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return out


def cache_key(**parts: Any) -> str:
    """Stable hash of keyword parts (dataclasses, dicts, lists, scalars) and CODE_VERSION."""
    text = json.dumps(plain({**parts, "code_version": CODE_VERSION}, tagged=True), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _write_npy(path: Path, value: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """Write an array, or parts to join along axis 0 without joining them in memory."""
    parts = value if isinstance(value, list) else [value]
    shape = (sum(len(p) for p in parts),) + parts[0].shape[1:]
    out = np.lib.format.open_memmap(path, mode="w+", dtype=parts[0].dtype, shape=shape)
    row = 0
    for part in parts:
        out[row : row + len(part)] = part
        row += len(part)
    out.flush()
    return out


class ArrayCache:
    """Folder of cache entries, each a named set of arrays plus JSON metadata.

    Parameters
    ----------
    root : Path
        Cache root (created on first write).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        """Folder of the entry ``kind``/``key``."""
        return self.root / kind / key

    def load(self, kind: str, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """Memory-map a complete entry; None if absent. A corrupt entry is deleted and None returned.

        Returns
        -------
        arrays : dict of str to ndarray
            Read-only memory maps.
        meta : dict
            The metadata stored with the entry.
        """
        folder = self.path(kind, key)
        if not folder.is_dir():
            return None
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            arrays = {name: self._open(folder, name, spec) for name, spec in manifest["arrays"].items()}
            return arrays, manifest["meta"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("cache entry %s is incomplete or corrupt (%s); rebuilding it", folder, e)
            shutil.rmtree(folder, ignore_errors=True)
            return None

    @staticmethod
    def _open(folder: Path, name: str, spec: dict[str, Any]) -> np.ndarray:
        path = folder / f"{name}.npy"
        if path.stat().st_size != spec["file_size"]:
            raise ValueError(f"{path.name} has {path.stat().st_size} bytes, manifest says {spec['file_size']}")
        a = np.load(path, mmap_mode="r", allow_pickle=False)
        if list(a.shape) != spec["shape"] or str(a.dtype) != spec["dtype"]:
            raise ValueError(f"{path.name} is {a.dtype}{a.shape}, manifest says {spec['dtype']}{spec['shape']}")
        if "chunks" not in spec:
            raise ValueError(f"{path.name} has no checksum (written by an older bench)")
        if not verify_file(path, spec["chunks"]):
            raise ValueError(f"{path.name} content does not match its checksum")
        return a

    def store(
        self, kind: str, key: str, arrays: dict[str, np.ndarray | list[np.ndarray]], meta: dict[str, Any]
    ) -> None:
        """Write an entry atomically (a concurrent writer of the same key wins harmlessly).

        A value may be a list of arrays, written one after the other as one array (joined
        along axis 0), so large results never need to be joined in memory.
        """
        final = self.path(kind, key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            clean_partials(final.parent)
            tmp = partial_path(final)
            tmp.mkdir()
        except OSError as e:
            raise CacheError(f"cannot write the cache under {self.root} ({e}); set BENCH_CACHE_DIR to a writable folder") from e
        try:
            specs = {}
            for name, value in arrays.items():
                path = tmp / f"{name}.npy"
                a = _write_npy(path, value)
                shape, dtype = a.shape, str(a.dtype)
                del a
                specs[name] = {"shape": list(shape), "dtype": dtype, "file_size": path.stat().st_size,
                               "chunks": file_digests(path)}
            (tmp / "manifest.json").write_text(json.dumps({"arrays": specs, "meta": meta}, indent=1))
            os.rename(tmp, final)  # fails if a concurrent writer got there first
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if final.is_dir():  # another process finished the same entry first
                return
            raise CacheError(f"cannot write cache entry {final} ({e}); check free space and permissions") from e

    def get_or_build(
        self, kind: str, key: str, build: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]]
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Load ``kind``/``key``, or build, store and reload it."""
        hit = self.load(kind, key)
        if hit is not None:
            return hit
        arrays, meta = build()
        self.store(kind, key, arrays, meta)
        return self.load(kind, key) or (arrays, meta)
