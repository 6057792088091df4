"""Ray's overhead: the default study with ``--executor local --jobs 2`` and ``--executor ray`` on 2 CPUs.

Run by hand on a quiet machine, never by the tests::

    PYTHONPATH=. .venv/bin/python benchmarks/executor_speed.py [--repeat 1] [extra bench run options]

Both runs compute the same cells on the same machine, one after the other, each with a fresh
output folder and MLflow database under ``benchmarks/out/executor_speed/``, a warm data cache
and ``--no-fit-cache`` (so the second run does not load the first one's generator fits). The
Ray run starts its own local instance with 2 CPUs, as ``bench run --executor ray --jobs 2`` does;
its wall time includes that start, which is also timed alone. Printed: each wall time, Ray's
overhead in total and per unit (a method's fold: the unit both executors hand out), and the
ratio to the local pool (the target is within 10 %).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "executor_speed"
EXECUTORS = {"local": ["--executor", "local", "--jobs", "2"], "ray": ["--executor", "ray", "--jobs", "2"]}


def timed_run(name: str, extra: list[str]) -> float:
    """Seconds of one ``bench run`` with executor ``name`` (a fresh output folder and MLflow database)."""
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cmd = [sys.executable, "-m", "bench", "run", *EXECUTORS[name], "--no-fit-cache", "--quiet",
           "--out", str(folder / "results"), "--tracking-uri", f"sqlite:///{folder}/mlflow.db", *extra]
    tic = time.perf_counter()
    with open(folder / "leaderboard.txt", "w") as leaderboard:
        subprocess.run(cmd, check=True, stdout=leaderboard)
    return time.perf_counter() - tic


def ray_start_s() -> float:
    """Seconds to start and stop a local Ray instance of 2 CPUs (part of the Ray run's overhead)."""
    import ray

    tic = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False)
    ray.shutdown()
    return time.perf_counter() - tic


def n_units(extra: list[str]) -> int:
    """Units of the study (a method's fold, its classifiers together) that both executors hand out."""
    from bench.cli import _parser, _STUDY_OPTIONS
    from bench.executor import units
    from bench.runner import plan
    from bench.study import build_study

    args = _parser().parse_args(["run", *extra])
    config = build_study(args.config, args.sets, {k: getattr(args, k) for k in _STUDY_OPTIONS})
    cells, _ = plan(config)  # also warms the data cache, so only the sweep is timed
    return len(units([(c, (str(i), "")) for i, c in enumerate(cells)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each executor (the fastest counts)")
    args, extra = parser.parse_known_args()
    units = n_units(extra)
    print(f"cores: {os.cpu_count()}; units: {units}; extra options: {extra or 'none'}")
    start = ray_start_s()
    wall = {name: min(timed_run(name, extra) for _ in range(args.repeat)) for name in EXECUTORS}
    overhead = wall["ray"] - wall["local"]
    print(f"--executor local --jobs 2: {wall['local']:.1f} s")
    print(f"--executor ray   --jobs 2: {wall['ray']:.1f} s   (of which starting Ray alone: {start:.1f} s)")
    print(f"Ray's overhead: {overhead:+.1f} s in total, {overhead / units:+.2f} s per unit, "
          f"{wall['ray'] / wall['local']:.3f}x the local pool (target: within 1.10x)")


if __name__ == "__main__":
    main()
