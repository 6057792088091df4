"""AMIGOS preprocessed MATLAB data: 20 video trials x 14 Emotiv EEG channels at 128 Hz per participant.

Miranda-Correa, Abadi, Sebe & Patras, "AMIGOS: A Dataset for Affect, Personality and Mood
Research on Individuals and Groups", IEEE Trans. Affective Computing 12(2), 2021.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import ConfigError, DataFormatError, DataNotFoundError
from bench.registry import DATASETS
from datasets.base import DatasetInfo, FileDataset, ReaderConfig, load_mat
from datasets.recording import Recording

log = logging.getLogger(__name__)

CH_NAMES = ("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4")
N_COLUMNS = 17  # the 14 EEG channels, ECG right, ECG left, GSR
N_TRIALS = 20  # 16 short videos, then 4 long ones
N_SHORT = 16
TRIAL_SETS = ("short", "all")
N_SELF_ASSESSMENT = 12  # arousal, valence, dominance, liking, familiarity, 7 basic emotions
RATING_NAMES = ("valence", "arousal", "dominance", "liking")
RATING_COLUMNS = (1, 0, 2, 3)  # the file stores arousal first, valence second (unlike DEAP)
SFREQ = 128.0
BASELINE_S = 5.0
SKIP_SUBJECTS = (9, 12, 21, 22, 23, 24, 33)  # TorchEEG's default "invalid data" list
FILE_NAME = re.compile(r"^Data_Preprocessed_P(\d\d)\.mat$")
SUBFOLDER = "data_preprocessed"


def subject_files(folder: Path) -> dict[int, Path]:
    """AMIGOS files in ``folder``, flat or one per same-named subfolder, by subject.

    Parameters
    ----------
    folder : Path
        Holds ``Data_Preprocessed_P01.mat`` or ``Data_Preprocessed_P01/Data_Preprocessed_P01.mat``.

    Returns
    -------
    dict
        Subject number -> file, sorted by subject; empty when the folder has none or is missing.
    """
    if not folder.is_dir():
        return {}
    found: dict[int, Path] = {}
    for entry in sorted(folder.iterdir()):
        path = entry / f"{entry.name}.mat" if entry.is_dir() else entry
        match = FILE_NAME.match(path.name)
        if not (match and path.is_file()):
            continue
        subject = int(match.group(1))
        if subject in found:
            raise DataFormatError(
                f"AMIGOS subject {subject} has two files, {found[subject]} and {path}; keep one"
            )
        found[subject] = path
    return dict(sorted(found.items()))


def cells(mat: dict[str, Any], key: str, path: Path) -> list[np.ndarray]:
    """The 20 elements of the cell-array variable ``key``, in trial (video-number) order."""
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DataFormatError(f"{path}: no variable {key!r} (found {found}); replace the file")
    cell = np.asarray(mat[key])
    if cell.dtype != object or cell.size != N_TRIALS:
        raise DataFormatError(
            f"{path}: {key!r} must be a 1x{N_TRIALS} cell array (one element per video), got "
            f"{cell.dtype} {cell.shape}; replace the file"
        )
    return [np.asarray(c) for c in cell.reshape(-1)]


def drop_reason(data: np.ndarray, rating: np.ndarray, min_samples: int, where: str) -> str | None:
    """Why one AMIGOS trial cannot be used, or None when it can.

    Parameters
    ----------
    data : ndarray, shape (n_samples, 17)
        The trial's ``joined_data`` element; (0, 0) when the participant did not watch the video.
    rating : ndarray, shape (1, 12)
        The trial's ``labels_selfassessment`` element; empty when it was not given.
    min_samples : int
        Fewest samples a usable trial has (baseline plus one 1-s window).
    where : str
        File and trial, used in messages.

    Returns
    -------
    str or None
        The reason, to be noted with the dropped trial.

    Raises
    ------
    DataFormatError
        The element is not numeric or has the wrong number of columns or ratings.
    """
    if data.size == 0:
        return "has no samples (the video was not watched)"
    if not (data.ndim == 2 and data.shape[1] == N_COLUMNS and np.issubdtype(data.dtype, np.number)):
        raise DataFormatError(
            f"{where}: joined_data element is {data.dtype} {data.shape}; expected numeric "
            f"(n_samples, {N_COLUMNS}): 14 EEG columns, ECG right, ECG left, GSR"
        )
    if rating.size == 0:
        return "has no self-assessment"
    if not (rating.size == N_SELF_ASSESSMENT and np.issubdtype(rating.dtype, np.number)):
        raise DataFormatError(
            f"{where}: labels_selfassessment element is {rating.dtype} {rating.shape}; expected "
            f"{N_SELF_ASSESSMENT} numbers (arousal, valence, dominance, liking, ...)"
        )
    arousal_valence = rating.reshape(-1)[:2]
    if not np.isfinite(arousal_valence).all():
        return f"has non-finite arousal/valence self-assessment {arousal_valence.tolist()}"
    if data.shape[0] < min_samples:
        return f"has {data.shape[0]} samples, fewer than the baseline plus one second ({min_samples})"
    return None


@dataclass(frozen=True)
class AmigosConfig(ReaderConfig):
    """Reader options for AMIGOS.

    Parameters
    ----------
    trials : {"short", "all"}
        "short": the first 16 trials, the short videos watched alone (TorchEEG, EEGain);
        "all": all 20, adding the 4 long videos.
    skip_subjects : tuple of int
        Participants whose files are not read (default: TorchEEG's list, used by ESC-GAN).
    nan_policy : {"drop-trial", "error"}
        What to do with a trial whose EEG holds NaN or inf (dropped trials are logged and noted).
    baseline_s : float
        Seconds of pre-stimulus baseline assumed at the start of every trial (TorchEEG's 5 s;
        whether the files really hold one is uncertain).
    """

    trials: str = "short"
    skip_subjects: tuple[int, ...] = SKIP_SUBJECTS
    baseline_s: float = BASELINE_S

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.trials not in TRIAL_SETS:
            raise ConfigError(f"trials must be one of {TRIAL_SETS}, got {self.trials!r}")
        skip = tuple(self.skip_subjects)
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in skip):
            raise ConfigError(
                f"skip_subjects must be participant numbers >= 1 (e.g. (9, 12)), got {self.skip_subjects!r}"
            )
        object.__setattr__(self, "skip_subjects", skip)
        if not (isinstance(self.baseline_s, (int, float)) and math.isfinite(self.baseline_s)
                and self.baseline_s >= 0):
            raise ConfigError(f"baseline_s must be a finite number of seconds >= 0, got {self.baseline_s!r}")


@DATASETS.register("amigos")
class Amigos(FileDataset):
    """AMIGOS: 40 participants x 20 videos, 14 EEG channels at 128 Hz, 1-9 self-assessments.

    Reads ``Data_Preprocessed_Pxx.mat`` (flat or in a same-named subfolder, under the dataset
    folder or its ``data_preprocessed/``), keeps the 14 EEG columns of ``joined_data`` as
    (14, n_samples) trials and valence, arousal, dominance, liking from
    ``labels_selfassessment`` (stored arousal first; reordered so rating names match DEAP).
    Trial id = 1-based position in the cell array (video-number order); one session.

    Notes
    -----
    Deviations from the TorchEEG reader:

    - Flat and nested (``Data_Preprocessed_P01/Data_Preprocessed_P01.mat``) layouts are read;
      TorchEEG reads a flat folder only.
    - Every dropped trial is logged and recorded in ``Recording.notes``: no samples, no or
      non-finite valence/arousal self-assessment, fewer samples than ``baseline_s`` + 1 s, or
      (``nan_policy="drop-trial"``) non-finite EEG. TorchEEG drops the first two kinds too, but a
      NaN channel passes through and a NaN rating later becomes a random binary label.
    - A file in which no trial survives is an error naming the reasons (add the participant to
      ``skip_subjects``).
    - ``baseline_s = 5`` follows TorchEEG's assumption that each trial starts with a 5-s
      baseline; the dataset documentation does not confirm it.
    """

    info = DatasetInfo(
        sfreq=SFREQ, ch_names=CH_NAMES, tasks=("valence", "arousal", "quadrant"), grid="amigos",
        baseline_s=BASELINE_S, rating_names=RATING_NAMES,
    )
    layout = (
        "  DIR/amigos/Data_Preprocessed_P01.mat ... Data_Preprocessed_P40.mat\n"
        "  (or DIR/amigos/Data_Preprocessed_P01/Data_Preprocessed_P01.mat ..., "
        f"also under DIR/amigos/{SUBFOLDER}/)"
    )
    obtain = (
        "AMIGOS is licensed and never downloaded by bench: sign the EULA at "
        "https://www.eecs.qmul.ac.uk/mmv/datasets/amigos/ and download the preprocessed MATLAB data."
    )

    def __init__(self, config: AmigosConfig | None = None) -> None:
        self.config = config or AmigosConfig()

    subfolders = (SUBFOLDER,)

    def files_in(self, folder: Path) -> list[Path]:
        return list(subject_files(folder).values())

    def files(self, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
        """The dataset's files, without those of ``skip_subjects``."""
        found = super().files(data_dir)
        kept = [p for p in found if int(FILE_NAME.match(p.name).group(1)) not in self.config.skip_subjects]
        if not kept:
            raise DataNotFoundError(
                f"every AMIGOS file in {found[0].parent} belongs to a participant in "
                f"skip_subjects={self.config.skip_subjects}; add other participants' files or "
                "shorten skip_subjects"
            )
        return kept

    def dataset_notes(self) -> tuple[str, ...]:
        if not self.config.skip_subjects:
            return ()
        return (
            f"amigos: participants {list(self.config.skip_subjects)} excluded by skip_subjects; "
            "their files, where present, were not read",
        )

    def read_file(self, path: Path) -> Recording:
        match = FILE_NAME.match(path.name)
        if not match:
            raise DataFormatError(f"{path}: AMIGOS files are named Data_Preprocessed_Pxx.mat (e.g. P01)")
        mat = load_mat(path)
        data = cells(mat, "joined_data", path)
        ratings = cells(mat, "labels_selfassessment", path)
        if "VideoIDs" in mat:
            cells(mat, "VideoIDs", path)
        n_used = N_SHORT if self.config.trials == "short" else N_TRIALS
        min_samples = math.ceil((self.config.baseline_s + 1.0) * SFREQ)
        trials, rows, ids, notes = [], [], [], []
        for tid, (x, r) in enumerate(zip(data[:n_used], ratings[:n_used]), start=1):
            reason = drop_reason(x, r, min_samples, f"{path}: trial {tid}")
            if reason:
                notes.append(f"{path}: trial {tid} {reason}; dropped")
                log.warning(notes[-1])
                continue
            trials.append(np.ascontiguousarray(x[:, : len(CH_NAMES)].T, dtype=np.float32))
            rows.append(r.reshape(-1)[list(RATING_COLUMNS)])
            ids.append(tid)
        recording = self.file_recording(
            path, trials, np.asarray(rows), ids, int(match.group(1)), notes=tuple(notes),
            baseline_s=float(self.config.baseline_s),
        )
        if recording.n_trials == 0:
            raise DataFormatError(
                f"{path}: no usable trial among the first {n_used}: " + " | ".join(recording.notes)
                + f". Add participant {int(match.group(1))} to skip_subjects."
            )
        return recording
