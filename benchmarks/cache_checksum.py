"""Cost of verifying a DEAP-size cache entry's checksums on a warm read (run by hand, never by the tests).

Writes one cache entry holding DEAP's segmented windows at their real size (32 subjects x 2,400
one-second windows x 32 channels x 128 samples, float32: 1.26 GB, plus the small label arrays),
through :class:`datasets.cache.ArrayCache` (so with the checksums a run writes), then times, with
the files in the page cache (warm):

* ``map_only``: memory-mapping the arrays as before checksums (``np.load(mmap_mode="r")``);
* ``verified``: :meth:`ArrayCache.load` in a process that has not verified the entry yet (every
  chunk hashed, on :data:`bench.integrity._THREADS` threads) - the cost each ``bench run`` pays once;
* ``again``: a second :meth:`ArrayCache.load` in the same process (remembered, not hashed again).

The target is ``verified`` under 2 s. Usage::

    python benchmarks/cache_checksum.py [--subjects 32] [--threads N] [--repeats 3] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import integrity
from datasets.cache import ArrayCache

WINDOWS_PER_SUBJECT = 40 * 60  # 40 trials x 60 one-second windows
CHANNELS, SAMPLES = 32, 128


def write_entry(cache: ArrayCache, subjects: int) -> int:
    """Store a DEAP-size entry, one subject's windows at a time; return its bytes."""
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((WINDOWS_PER_SUBJECT, CHANNELS, SAMPLES), dtype=np.float32) for _ in range(subjects)]
    n = subjects * WINDOWS_PER_SUBJECT
    cache.store("segments", "deap-size", {"X": parts, "trial_id": np.repeat(np.arange(n // 60), 60),
                                          "ratings": rng.uniform(1, 9, (n, 4))}, {})
    return sum(p.stat().st_size for p in cache.path("segments", "deap-size").glob("*.npy"))


def timed(fn) -> float:
    tic = time.perf_counter()
    fn()
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=32)
    parser.add_argument("--threads", type=int, default=integrity._THREADS, help="hashing threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args()
    integrity._THREADS = args.threads
    root = Path(tempfile.mkdtemp(prefix="bench-checksum-"))
    try:
        cache = ArrayCache(root)
        size = write_entry(cache, args.subjects)
        folder = cache.path("segments", "deap-size")
        for path in folder.glob("*.npy"):  # warm the page cache
            np.load(path, mmap_mode="r").sum()
        results = {"map_only": [], "verified": [], "again": []}
        for _ in range(args.repeats):
            results["map_only"].append(timed(lambda: [np.load(p, mmap_mode="r") for p in folder.glob("*.npy")]))
            integrity._VERIFIED.clear()  # as in a fresh process
            results["verified"].append(timed(lambda: cache.load("segments", "deap-size")))
            results["again"].append(timed(lambda: cache.load("segments", "deap-size")))
        summary = {"bytes": size, "gb": round(size / 1e9, 3), "threads": args.threads, "cores": os.cpu_count(),
                   "chunk_mib": integrity.CHUNK // 2**20,
                   **{f"{k}_s": round(min(v), 3) for k, v in results.items()},
                   "verified_gb_per_s": round(size / 1e9 / min(results["verified"]), 2),
                   "target_s": 2.0, "within_target": min(results["verified"]) < 2.0}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cache_checksum.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
