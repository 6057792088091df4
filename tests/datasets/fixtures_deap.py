"""Small DEAP files in the real on-disk format (Python-2 pickles), written by the tests."""

from pathlib import Path

import numpy as np

from datasets.deap import write_dat


def write_deap(folder: Path, subjects=(1, 2), n_trials=3, n_samples=384 + 3 * 128, seed=0) -> list[Path]:
    """Write ``sNN.dat`` files into ``folder``; returns their paths.

    EEG channel c of trial t holds ``100 * subject + 10 * t + c`` plus small noise, so tests can
    tell where every value came from.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in subjects:
        data = rng.normal(0, 0.01, (n_trials, 40, n_samples))
        data += (100 * s + 10 * np.arange(n_trials))[:, None, None] + np.arange(40)[None, :, None]
        labels = rng.uniform(1, 9, (n_trials, 4))
        path = folder / f"s{s:02d}.dat"
        write_dat(path, data, labels)
        paths.append(path)
    return paths
