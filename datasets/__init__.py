"""bench's data layer: readers for DEAP, SEED, AMIGOS and the synthetic dataset, segmentation,
labels, differential-entropy features, electrode grids and the on-disk cache.

This package is bench's own ``datasets``; it shadows Hugging Face's package of the same name,
which nothing in bench's stack uses (a test checks which one is imported).

Typical use::

    import datasets
    rec = datasets.load("synthetic")                     # Recording: whole trials
    prep = datasets.prepare("deap", data_dir="/data")    # cached 1-s windows + 5-band DE
"""

from __future__ import annotations

import os
from typing import Any

from bench.registry import DATASETS
from datasets import amigos, deap, seed, synthetic  # noqa: F401  (registers the readers)
from datasets.features import FeatureConfig, differential_entropy
from datasets.labels import LabelConfig, make_labels
from datasets.pipeline import Prepared, prepare
from datasets.recording import Recording, Segments
from datasets.segment import SegmentConfig, segment


def load(name: str, data_dir: str | os.PathLike[str] | None = None, config: Any = None) -> Recording:
    """Read a registered dataset into one Recording.

    Parameters
    ----------
    name : str
        ``synthetic``, ``deap``, ``seed`` or ``amigos``.
    data_dir : path, optional
        ``--data-dir``; defaults to ``$BENCH_DATA_DIR`` (ignored by ``synthetic``).
    config : dataclass, optional
        The dataset's reader config; None uses its defaults.
    """
    return DATASETS.get(name)(config).load(data_dir)


__all__ = [
    "DATASETS", "FeatureConfig", "LabelConfig", "Prepared", "Recording", "SegmentConfig", "Segments",
    "differential_entropy", "load", "make_labels", "prepare", "segment",
]
