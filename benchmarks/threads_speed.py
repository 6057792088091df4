"""Seconds per training epoch of the torch classifiers' quick profiles on 1 and 2 torch threads.

Why ``bench run`` defaults to one worker process per core with one thread each: if a network
trains as fast on one thread as on two, a single process leaves the other cores idle. Run by
hand, never by the tests::

    PYTHONPATH=. .venv/bin/python benchmarks/threads_speed.py [--windows 2560] [--epochs 3]

Each classifier is trained on random windows of its representation's synthetic-dataset shape
(the time is what matters, not the accuracy): a 1-epoch warm-up fit, then a timed fit of
``--epochs`` epochs per thread count (its set-up, standardisation and batching, included).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import methods  # noqa: F401 - registers the components
from bench.classifiers.torch_training import TorchClassifier
from bench.components import DataInfo
from bench.registry import CLASSIFIERS
from datasets import deap

SHAPES = {"raw": (32, 128), "raw-grid": (128, 9, 9), "de-grid": (5, 9, 9), "de": (32, 5)}
"""One window of each representation on the synthetic dataset (1-s windows at 128 Hz, 5 bands)."""


def seconds_per_epoch(name: str, n_windows: int, epochs: int, threads: int) -> float:
    """Mean seconds of one epoch of ``name``'s quick profile on ``n_windows`` random windows."""
    cls = CLASSIFIERS.get(name)
    info = DataInfo(sfreq=128.0, ch_names=tuple(deap.CH_NAMES), grid="deap",
                    band_names=("delta", "theta", "alpha", "beta", "gamma"), class_names=("low", "high"))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_windows, *SHAPES[cls.representation])).astype(np.float32)
    y = rng.integers(0, 2, n_windows)
    torch.set_num_threads(threads)
    for n in (1, epochs):  # a 1-epoch warm-up fit, then the timed one
        config = cls.Config.for_profile("quick", {"epochs": n})
        tic = time.perf_counter()
        cls.from_config(config, info=info).fit(X, y, rng=np.random.default_rng(0))
    return (time.perf_counter() - tic) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, default=2560)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--classifiers", default="esc-cnn,ccnn,dgcnn,eegnet,tsception,sa-st-net")
    args = parser.parse_args()
    print(f"{'classifier':<12}{'1 thread':>10}{'2 threads':>11}   (s per epoch, {args.windows} windows)")
    for name in args.classifiers.split(","):
        if not issubclass(CLASSIFIERS.get(name), TorchClassifier):
            continue
        one, two = (seconds_per_epoch(name, args.windows, args.epochs, t) for t in (1, 2))
        print(f"{name:<12}{one:>10.2f}{two:>11.2f}")


if __name__ == "__main__":
    main()
