"""Wall time of the default benchmark (``python -m bench run``) with ``--jobs 1`` and ``--jobs 2``.

Run by hand, never by the tests::

    PYTHONPATH=. .venv/bin/python benchmarks/run_speed.py [--jobs 1,2] [extra bench run options]

Each measurement uses a fresh output folder and MLflow database under ``benchmarks/out/`` and a
warm data cache (the synthetic dataset is prepared once before timing), so the numbers are the
sweep itself: fitting methods, training classifiers, scoring and logging.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "run_speed"


def timed_run(jobs: int, extra: list[str]) -> float:
    folder = OUT / f"jobs-{jobs}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cmd = [sys.executable, "-m", "bench", "run", "--jobs", str(jobs), "--quiet", "--out", str(folder / "results"),
           "--tracking-uri", f"sqlite:///{folder}/mlflow.db", *extra]
    tic = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=open(folder / "leaderboard.txt", "w"))
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", default="1,2")
    args, extra = parser.parse_known_args()
    print(f"cores: {os.cpu_count()}; extra options: {extra or 'none'}")
    import datasets  # warm the data cache of the default study's dataset so that only the sweep is timed
    from bench.study import build_study

    datasets.prepare("synthetic", reader=build_study().reader_config("synthetic"))
    for jobs in (int(j) for j in args.jobs.split(",")):
        seconds = timed_run(jobs, extra)
        print(f"--jobs {jobs}: {seconds:.1f} s   (leaderboard in {OUT / f'jobs-{jobs}' / 'leaderboard.txt'})")


if __name__ == "__main__":
    main()
