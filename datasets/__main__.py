"""``python -m datasets NAME``: prepare a dataset through the cache and print what it holds."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench.errors import BenchError
from bench.registry import DATASETS
from datasets.labels import LabelConfig, make_labels
from datasets.paths import DATA_DIR_ENV, cache_dir
from datasets.pipeline import Prepared, prepare
from datasets.segment import BASELINE_MODES, SegmentConfig


def summary(prep: Prepared, tasks: tuple[str, ...]) -> str:
    """Human-readable description of prepared data: sizes, class balance per task, DE range."""
    s = prep.segments
    lines = [
        f"dataset      {s.dataset}: {len(np.unique(s.subject))} subjects, {len(np.unique(s.trial_id))} trials, "
        f"{len(s)} windows",
        f"raw windows  {s.X.shape} {s.X.dtype} at {s.sfreq:g} Hz, channels {', '.join(s.ch_names[:6])}, ...",
    ]
    if prep.de is not None:
        means = ", ".join(f"{b} {m:.2f}" for b, m in zip(prep.band_names, prep.de.mean(axis=(0, 1))))
        lines.append(f"DE features  {prep.de.shape} {prep.de.dtype}; mean per band: {means}")
    for task in tasks:
        y = make_labels(s.ratings, s.rating_names, LabelConfig(task=task))
        counts = np.bincount(y)
        share = " / ".join(f"{c / len(y):.0%}" for c in counts)
        lines.append(f"task {task:<9}{len(counts)} classes, windows per class {counts.tolist()} ({share})")
    lines += [f"note         {n}" for n in prep.notes]
    lines.append(f"cache key    {prep.key}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m datasets", description=__doc__)
    parser.add_argument("name", nargs="?", default="synthetic", help=f"one of: {', '.join(DATASETS.names())}")
    parser.add_argument("--data-dir", help=f"folder with one subfolder per dataset (default ${DATA_DIR_ENV})")
    parser.add_argument("--cache-dir", help="cache root (default $BENCH_CACHE_DIR or ~/.cache/bench)")
    parser.add_argument("--window", type=float, default=1.0, help="window length in seconds")
    parser.add_argument("--baseline", choices=BASELINE_MODES, default="none", help="baseline handling")
    args = parser.parse_args(argv)
    try:
        start = time.perf_counter()
        prep = prepare(
            args.name, data_dir=args.data_dir, cache_root=cache_dir(args.cache_dir),
            segment_config=SegmentConfig(window_s=args.window, baseline=args.baseline),
        )
        print(summary(prep, DATASETS.get(args.name).info.tasks))
        print(f"ready in {time.perf_counter() - start:.1f} s (cache: {cache_dir(args.cache_dir)})")
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
