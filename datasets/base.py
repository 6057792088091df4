"""What every dataset reader shares: its description, file discovery and the NaN policy."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.errors import ConfigError, DataFormatError
from datasets.paths import locate_files
from datasets.recording import Recording

log = logging.getLogger(__name__)

NAN_POLICIES = ("drop-trial", "error")


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        EEG channels in file order, upper case.
    tasks : tuple of str
        Label tasks the dataset supports (see :mod:`datasets.labels`).
    grid : str
        Key of the dataset's 9x9 electrode map in :data:`datasets.grids.LAYOUTS`.
    baseline_s : float
        Seconds of pre-stimulus baseline at the start of each trial.
    """

    sfreq: float
    ch_names: tuple[str, ...]
    tasks: tuple[str, ...]
    grid: str
    baseline_s: float


def check_nan_policy(policy: str) -> None:
    """Raise a ConfigError unless ``policy`` is one of :data:`NAN_POLICIES`."""
    if policy not in NAN_POLICIES:
        raise ConfigError(f"nan_policy must be one of {NAN_POLICIES}, got {policy!r}")


def nan_trials(trials: list[np.ndarray], policy: str, source: str, ids: list[int]) -> tuple[list[bool], list[str]]:
    """Apply the NaN policy to trials of one file.

    Parameters
    ----------
    trials : list of ndarray, each (n_channels, n_samples)
    policy : {"drop-trial", "error"}
    source : str
        File name used in messages.
    ids : list of int
        Trial ids used in messages.

    Returns
    -------
    keep : list of bool
        Whether each trial survives.
    notes : list of str
        One line per dropped trial, also logged at WARNING level.
    """
    keep, notes = [], []
    for x, tid in zip(trials, ids):
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
        if bad.size == 0:
            keep.append(True)
            continue
        what = f"{source}: trial {tid} has non-finite values in channel rows {bad.tolist()}"
        if policy == "error":
            raise DataFormatError(f"{what}; set nan_policy='drop-trial' to drop such trials")
        keep.append(False)
        notes.append(f"{what}; dropped (nan_policy='drop-trial')")
        log.warning(notes[-1])
    return keep, notes


class FileDataset:
    """A dataset stored as one file per subject (or per subject and session).

    Subclasses set ``info``, ``layout`` and ``obtain``, and implement ``find_files`` and
    ``read_file``.
    """

    name: ClassVar[str]
    info: ClassVar[DatasetInfo]
    layout: ClassVar[str]
    obtain: ClassVar[str]

    def find_files(self, root: Path) -> list[Path]:
        """The dataset's files below ``root``, sorted; empty when there are none."""
        raise NotImplementedError

    def read_file(self, path: Path) -> Recording:
        """Read one file into a Recording."""
        raise NotImplementedError

    def files(self, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
        """Locate the dataset's files, or raise an error naming where it looked."""
        return locate_files(self.name, data_dir, self.find_files, layout=self.layout, obtain=self.obtain)

    def load(self, data_dir: str | os.PathLike[str] | None = None) -> Recording:
        """Read every file of the dataset into one Recording."""
        return Recording.concat([self.read_file(p) for p in self.files(data_dir)])
