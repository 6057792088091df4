"""SEED ``Preprocessed_EEG``: MATLAB files of 15 film-clip trials x 62 channels at 200 Hz.

Zheng & Lu, "Investigating Critical Frequency Bands and Channels for EEG-Based Emotion
Recognition with Deep Neural Networks", IEEE Trans. Autonomous Mental Development 7(3), 2015.
Duan, Zhu & Lu, "Differential Entropy Feature for EEG-Based Emotion Classification",
6th IEEE/EMBS NER, 2013 (the ``ExtractedFeatures`` DE features).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import ConfigError, DataFormatError, DataNotFoundError
from bench.registry import DATASETS
from datasets.base import DatasetInfo, FileDataset, ReaderConfig, load_mat
from datasets.paths import locate_files
from datasets.recording import Recording

CH_NAMES = (
    "FP1", "FPZ", "FP2", "AF3", "AF4", "F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6", "F8",
    "FT7", "FC5", "FC3", "FC1", "FCZ", "FC2", "FC4", "FC6", "FT8",
    "T7", "C5", "C3", "C1", "CZ", "C2", "C4", "C6", "T8",
    "TP7", "CP5", "CP3", "CP1", "CPZ", "CP2", "CP4", "CP6", "TP8",
    "P7", "P5", "P3", "P1", "PZ", "P2", "P4", "P6", "P8",
    "PO7", "PO5", "PO3", "POZ", "PO4", "PO6", "PO8", "CB1", "O1", "OZ", "O2", "CB2",
)
SFREQ = 200.0
RATING_NAMES = ("emotion",)
LABEL_VALUES = (-1, 0, 1)  # negative, neutral, positive
RAW_DIR = "Preprocessed_EEG"
FEATURE_DIR = "ExtractedFeatures"
LABEL_FILE = "label.mat"
FEATURE_KINDS = ("de_LDS", "de_movingAve")
N_BANDS = 5  # delta, theta, alpha, beta, gamma
SESSION_FILE = re.compile(r"^(\d+|[A-Za-z][A-Za-z0-9]*)_(\d{8})\.mat$")  # 1_20131027, dujingcheng_20131027
TRIAL_KEY = re.compile(r"_eeg(\d+)$")

def number_sessions(paths: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """Subject and session ids of SEED session files, from their names alone.

    Parameters
    ----------
    paths : sequence of Path
        Files of one folder, all named ``<subject>_<YYYYMMDD>.mat`` where ``<subject>`` is an
        integer (current release) or a participant name (older release).

    Returns
    -------
    dict
        Path -> (subject, session). Subject: the integer, or the 1-based rank of the name among
        the sorted unique names. Session: the 1-based rank of the date among the subject's files.

    Raises
    ------
    DataFormatError
        The files mix both naming generations, or two files of one subject share a date.
    """
    parsed = {p: SESSION_FILE.match(p.name).groups() for p in paths}
    numbered = [p for p, (who, _) in parsed.items() if who.isdigit()]
    named = [p for p in parsed if p not in numbered]
    if numbered and named:
        raise DataFormatError(
            f"{named[0].parent}: mixes the two SEED releases' file names, e.g. {numbered[0].name} "
            f"and {named[0].name}; keep the files of one release per folder"
        )
    names = sorted({who for who, _ in parsed.values()})
    by_subject: dict[int, list[tuple[str, Path]]] = defaultdict(list)
    for p, (who, date) in parsed.items():
        by_subject[int(who) if who.isdigit() else names.index(who) + 1].append((date, p))
    ids = {}
    for subject, dated in by_subject.items():
        dated.sort()
        for (date, p), (next_date, q) in zip(dated, dated[1:]):
            if date == next_date:
                raise DataFormatError(
                    f"{p} and {q}: two files of SEED subject {subject} share the date {date}, so "
                    "their session numbers are ambiguous; remove the duplicate"
                )
        ids.update({p: (subject, rank) for rank, (_, p) in enumerate(dated, start=1)})
    return ids


def session_files(folder: Path) -> dict[Path, tuple[int, int]]:
    """SEED session files directly in ``folder`` with their (subject, session), in that order.

    ``label.mat``, ``readme.txt`` and every other name are ignored; a missing folder has none.
    """
    if not folder.is_dir():
        return {}
    paths = [p for p in folder.iterdir() if SESSION_FILE.match(p.name) and p.is_file()]
    return dict(sorted(number_sessions(paths).items(), key=lambda item: item[1]))


def read_labels(path: Path) -> np.ndarray:
    """Read SEED's ``label.mat``.

    Parameters
    ----------
    path : Path
        The ``label.mat`` file next to the session files.

    Returns
    -------
    ndarray, shape (n_trials,), int64
        Emotion of every trial: -1 negative, 0 neutral, 1 positive.
    """
    if not path.is_file():
        raise DataNotFoundError(
            f"{path} is missing: SEED ships label.mat next to the session files; copy it there "
            "from the download"
        )
    mat = load_mat(path)
    if "label" not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DataFormatError(f"{path}: no variable 'label' (found {found}); replace the file")
    label = np.asarray(mat["label"])
    if not (label.ndim == 2 and label.shape[0] == 1 and np.isin(label, LABEL_VALUES).all()):
        raise DataFormatError(
            f"{path}: 'label' must be a (1, n_trials) row of -1/0/1, got shape {label.shape} "
            f"and values {np.unique(label)[:5].tolist()}; replace the file"
        )
    return label[0].astype(np.int64)


def trial_keys(mat: dict[str, Any]) -> list[tuple[int, str]]:
    """(trial number, variable name) of every ``<prefix>_eeg<K>`` variable, sorted by K."""
    found = ((TRIAL_KEY.search(key), key) for key in mat)
    return sorted((int(m.group(1)), key) for m, key in found if m)


def _eeg_trial(x: Any, path: Path, key: str) -> np.ndarray:
    x = np.asarray(x)
    if not (x.ndim == 2 and x.shape[0] == len(CH_NAMES) and np.issubdtype(x.dtype, np.number)):
        raise DataFormatError(
            f"{path}: {key!r} must be a numeric array ({len(CH_NAMES)} channels, n_samples), "
            f"got {x.dtype} {x.shape}; replace the file"
        )
    return x.astype(np.float32)


def read_features(path: Path, kind: str, n_trials: int) -> dict[int, np.ndarray]:
    """Read one ``kind`` feature of every trial from an ``ExtractedFeatures`` file.

    Parameters
    ----------
    path : Path
        An ``ExtractedFeatures/<subject>_<YYYYMMDD>.mat`` file.
    kind : {"de_LDS", "de_movingAve"}
        Feature and smoothing; the file's variables are ``<kind>1`` ... ``<kind><n_trials>``.
    n_trials : int
        Number of trials (labels in the folder's ``label.mat``).

    Returns
    -------
    dict
        Trial number (1-based) -> array of shape (n_windows, 62, 5), float32: one row per 1-s
        window, bands delta to gamma (the file stores (62, n_windows, 5)).
    """
    mat = load_mat(path)
    out = {}
    for trial in range(1, n_trials + 1):
        key = f"{kind}{trial}"
        if key not in mat:
            raise DataFormatError(
                f"{path}: variable {key!r} is missing; SEED ExtractedFeatures files hold {kind}1 ... "
                f"{kind}{n_trials}, one per label. Replace the file with the original."
            )
        x = np.asarray(mat[key])
        if not (x.ndim == 3 and x.shape[0] == len(CH_NAMES) and x.shape[2] == N_BANDS):
            raise DataFormatError(
                f"{path}: {key!r} has shape {x.shape}; expected ({len(CH_NAMES)} channels, "
                f"n_windows, {N_BANDS} bands)"
            )
        out[trial] = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=np.float32)
    return out


def _feature_files(root: Path) -> list[Path]:
    return list(session_files(root / FEATURE_DIR))


@dataclass(frozen=True)
class SeedConfig(ReaderConfig):
    """Reader options for SEED: only the shared ``nan_policy``."""


@DATASETS.register("seed")
class Seed(FileDataset):
    """SEED: 15 subjects x 3 sessions x 15 film clips, 62 EEG channels at 200 Hz, labels -1/0/1.

    Reads ``Preprocessed_EEG/<subject>_<YYYYMMDD>.mat`` (or a folder holding those files
    directly) and the labels in ``Preprocessed_EEG/label.mat``. Trials are the variables
    ``<prefix>_eeg<K>``, sorted by K; the trial id is K. Sessions are numbered by the rank of the
    recording date among a subject's files. Labels stay -1/0/1 in the rating column
    ``"emotion"``; :mod:`datasets.labels` maps them to classes. There is no baseline.

    Notes
    -----
    Deviations from the TorchEEG reader:

    - Trial ids are the integers K, not the raw key (``djc_eeg1``); TorchEEG issue #141 makes
      cross-trial splits group by subject and trial there.
    - Sessions are the date ranks (as TorchEEG's ``SEEDFeatureDataset`` does); TorchEEG's raw
      reader keeps the date itself.
    - Only variables ending in ``_eeg<K>`` are trials (TorchEEG takes every key containing
      ``eeg``), and their numbers must be exactly 1 ... n_labels.
    - The older release's name-form files (``dujingcheng_20131027.mat``) are accepted; TorchEEG
      fails on them. Subject = rank of the name among the sorted unique names: alphabetical order
      of the full names gives the official numbering (dujingcheng 1, jianglin 2, ..., zhujiayi 15,
      matching the key prefixes djc, jl, ..., zjy). A folder mixing both releases is an error.
    - Unreadable, v7.3 or malformed files and label-count mismatches raise DataFormatError
      instead of failing deep inside the parser or mislabelling trials.
    """

    info = DatasetInfo(sfreq=SFREQ, ch_names=CH_NAMES, tasks=("emotion",), grid="seed", baseline_s=0.0,
                       rating_names=RATING_NAMES)
    layout = (
        f"  DIR/seed/{RAW_DIR}/1_20131027.mat ... 15_20131105.mat and {LABEL_FILE}\n"
        "  (the older release's names, e.g. dujingcheng_20131027.mat, work too)"
    )
    obtain = (
        "SEED is licensed and never downloaded by bench: apply for access to the BCMI lab at "
        f"https://bcmi.sjtu.edu.cn/home/seed/ and download '{RAW_DIR}' (and '{FEATURE_DIR}' for "
        "the official DE features)."
    )
    feature_layout = f"  DIR/seed/{FEATURE_DIR}/1_20131027.mat ... 15_20131105.mat and {LABEL_FILE}"

    def __init__(self, config: SeedConfig | None = None) -> None:
        self.config = config or SeedConfig()

    subfolders = (RAW_DIR,)

    def files_in(self, folder: Path) -> list[Path]:
        return list(session_files(folder))

    def read_file(self, path: Path) -> Recording:
        ids = session_files(path.parent).get(path)
        if ids is None:
            raise DataFormatError(
                f"{path}: SEED session files are named <subject>_<YYYYMMDD>.mat (e.g. 1_20131027.mat)"
            )
        label_path = path.parent / LABEL_FILE
        labels = read_labels(label_path)
        mat = load_mat(path)
        keys = trial_keys(mat)
        numbers = [k for k, _ in keys]
        if numbers != list(range(1, len(labels) + 1)):
            raise DataFormatError(
                f"{path} has {len(keys)} trial variables ({', '.join(key for _, key in keys)}) but "
                f"{label_path} has {len(labels)} labels; trial <prefix>_eeg<K> needs label K for "
                f"K = 1 ... {len(labels)}. Replace the mismatched file."
            )
        trials = [_eeg_trial(mat[key], path, key) for _, key in keys]
        return self.file_recording(path, trials, labels, numbers, subject=ids[0], session=ids[1])

    def extracted_files(self, data_dir: str | os.PathLike[str] | None) -> list[Path]:
        """The ``ExtractedFeatures`` session files, in (subject, session) order.

        Looked for in ``DIR/seed/ExtractedFeatures`` and ``DIR/ExtractedFeatures``; a
        DataNotFoundError names both when neither has any.
        """
        return locate_files(
            self.name, data_dir, _feature_files, layout=self.feature_layout, obtain=self.obtain
        )

    def load_extracted(
        self, data_dir: str | os.PathLike[str] | None, kind: str = "de_LDS"
    ) -> dict[tuple[int, int, int], np.ndarray]:
        """Load the official precomputed DE features from ``ExtractedFeatures/``.

        Parameters
        ----------
        data_dir : path or None
            The ``--data-dir`` value (None: ``$BENCH_DATA_DIR``); ``ExtractedFeatures`` is looked
            for in ``DIR/seed`` and ``DIR``, i.e. next to ``Preprocessed_EEG``.
        kind : {"de_LDS", "de_movingAve"}
            DE smoothed by a linear dynamic system or by a moving average.

        Returns
        -------
        dict
            (subject, session, trial) -> array of shape (n_windows, 62, 5), float32, numbered
            exactly as :meth:`read_file` numbers the raw trials.
        """
        if kind not in FEATURE_KINDS:
            raise ConfigError(f"SEED feature kind must be one of {FEATURE_KINDS}, got {kind!r}")
        folder = self.extracted_files(data_dir)[0].parent
        n_trials = len(read_labels(folder / LABEL_FILE))
        return {
            (subject, session, trial): x
            for path, (subject, session) in session_files(folder).items()
            for trial, x in read_features(path, kind, n_trials).items()
        }
