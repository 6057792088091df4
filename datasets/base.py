"""What every dataset reader shares: its description, file discovery and the NaN policy."""

from __future__ import annotations

import dataclasses
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

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
    rating_names : tuple of str
        Names of the rating columns the reader returns.
    """

    sfreq: float
    ch_names: tuple[str, ...]
    tasks: tuple[str, ...]
    grid: str
    baseline_s: float
    rating_names: tuple[str, ...]


@dataclass(frozen=True)
class ReaderConfig:
    """Reader options every dataset has.

    Parameters
    ----------
    nan_policy : {"drop-trial", "error"}
        What to do with a trial whose EEG holds NaN or inf (dropped trials are logged and noted).
    """

    nan_policy: str = "drop-trial"

    def __post_init__(self) -> None:
        if self.nan_policy not in NAN_POLICIES:
            raise ConfigError(f"nan_policy must be one of {NAN_POLICIES}, got {self.nan_policy!r}")


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


# What scipy's MAT parser raises on truncated or corrupt bytes (OSError: "could not read bytes").
_UNREADABLE = (MatReadError, ValueError, TypeError, IndexError, KeyError, OSError, EOFError,
               OverflowError, struct.error, zlib.error)


def load_mat(path: Path) -> dict[str, Any]:
    """Read a MATLAB v4/v5/v7 file as the reference loaders do.

    Parameters
    ----------
    path : Path
        The ``.mat`` file.

    Returns
    -------
    dict
        Variable name -> array, as :func:`scipy.io.loadmat` returns them (cells are object arrays).

    Raises
    ------
    DataFormatError
        The file is MATLAB v7.3 (HDF5), which scipy cannot read, or it is truncated or corrupt.
    """
    try:
        return scipy.io.loadmat(path, verify_compressed_data_integrity=False)
    except NotImplementedError as e:
        raise DataFormatError(
            f"{path}: MATLAB v7.3 (HDF5) file, which scipy.io cannot read. Load it in MATLAB and save "
            "it again with the '-v7' option, or replace it with the original from the download."
        ) from e
    except _UNREADABLE as e:
        raise DataFormatError(
            f"{path}: not a readable MATLAB file ({type(e).__name__}: {e}); it is truncated or "
            "corrupt. Replace it with the original from the download."
        ) from e


class FileDataset:
    """A dataset stored as one file per subject (or per subject and session).

    Subclasses set ``info``, ``layout``, ``obtain`` and ``subfolders``, and implement
    ``files_in`` and ``read_file``.
    """

    name: ClassVar[str]
    info: ClassVar[DatasetInfo]
    layout: ClassVar[str]
    obtain: ClassVar[str]

    subfolders: ClassVar[tuple[str, ...]] = ()
    """Folders below the dataset root that may hold the files, tried before the root itself."""

    def files_in(self, folder: Path) -> list[Path]:
        """The dataset's files in ``folder``, sorted; empty when there are none."""
        raise NotImplementedError

    def find_files(self, root: Path) -> list[Path]:
        """The files of the first of ``root/<subfolder>``, ..., ``root`` that has any."""
        for folder in (*(root / s for s in self.subfolders), root):
            files = self.files_in(folder) if folder.is_dir() else []
            if files:
                return files
        return []

    def read_file(self, path: Path) -> Recording:
        """Read one file into a Recording."""
        raise NotImplementedError

    def file_recording(
        self, path: Path, trials: list[np.ndarray], ratings: np.ndarray, trial_ids: list[int], subject: int,
        session: int = 1, notes: tuple[str, ...] = (), baseline_s: float | None = None,
    ) -> Recording:
        """The Recording of one file, after the NaN policy.

        Parameters
        ----------
        path : Path
            The file, named in notes and errors.
        trials : list of ndarray, each (n_channels, n_samples) float32
        ratings : ndarray, shape (n_trials, n_ratings)
        trial_ids : list of int
        subject, session : int
        notes : tuple of str
            What the reader already dropped.
        baseline_s : float, optional
            Defaults to ``info.baseline_s``.
        """
        keep, nan_notes = nan_trials(trials, self.config.nan_policy, str(path), trial_ids)
        n = sum(keep)
        return Recording(
            dataset=self.name,
            trials=tuple(x for x, k in zip(trials, keep) if k),
            ratings=np.asarray(ratings, dtype=np.float64).reshape(len(trials), -1)[keep] if trials else [],
            rating_names=self.info.rating_names,
            subject=np.full(n, subject),
            session=np.full(n, session),
            trial=np.asarray(trial_ids, dtype=np.int64)[keep],
            sfreq=self.info.sfreq,
            ch_names=self.info.ch_names,
            baseline_s=self.info.baseline_s if baseline_s is None else baseline_s,
            notes=tuple(notes) + tuple(nan_notes),
        )

    def dataset_notes(self) -> tuple[str, ...]:
        """Notes about the dataset as a whole (e.g. excluded participants), recorded with results."""
        return ()

    def files(self, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
        """Locate the dataset's files, or raise an error naming where it looked."""
        return locate_files(self.name, data_dir, self.find_files, layout=self.layout, obtain=self.obtain)

    def load(self, data_dir: str | os.PathLike[str] | None = None) -> Recording:
        """Read every file of the dataset into one Recording."""
        recording = Recording.concat([self.read_file(p) for p in self.files(data_dir)])
        return dataclasses.replace(recording, notes=self.dataset_notes() + recording.notes)
