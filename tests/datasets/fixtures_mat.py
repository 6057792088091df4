"""Small SEED and AMIGOS files in the real on-disk formats, written with ``scipy.io.savemat``.

Every writer returns what it wrote so tests can compare the reader's output with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.io

SEED_CHANNELS = 62
SEED_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)  # the real label.mat, trials 1-15
AMIGOS_COLUMNS = 17
AMIGOS_TRIALS = 20


def _cell(elements: Sequence[np.ndarray]) -> np.ndarray:
    """A (1, n) object array, which savemat writes as a MATLAB cell."""
    cell = np.empty((1, len(elements)), dtype=object)
    for i, element in enumerate(elements):
        cell[0, i] = element
    return cell


def write_seed_session(
    path: Path, n_trials: int, n_samples: int = 401, prefix: str = "djc", seed: int = 0,
    nan_trials: Iterable[int] = (),
) -> dict[int, np.ndarray]:
    """Write one SEED session file: variables ``<prefix>_eeg1`` ... ``<prefix>_eeg<n_trials>``.

    Trial K has ``n_samples + K`` samples, so its length identifies it.

    Parameters
    ----------
    path : Path
        Destination, e.g. ``.../Preprocessed_EEG/1_20131027.mat``.
    n_trials : int
        Number of trials.
    n_samples : int
        Samples of trial 0 (trial K has K more).
    prefix : str
        Participant initials used in the variable names.
    seed : int
        Seed of the random signal.
    nan_trials : iterable of int
        Trials whose channel row 3 is NaN.

    Returns
    -------
    dict
        Trial number -> float64 array of shape (62, n_samples + K) as written.
    """
    rng = np.random.default_rng(seed)
    trials = {k: rng.standard_normal((SEED_CHANNELS, n_samples + k)) for k in range(1, n_trials + 1)}
    for k in nan_trials:
        trials[k][3] = np.nan
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {f"{prefix}_eeg{k}": x for k, x in trials.items()})
    return trials


def write_seed_labels(folder: Path, labels: Sequence[int]) -> Path:
    """Write ``folder/label.mat`` with variable ``label`` of shape (1, n), as SEED ships it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "label.mat"
    scipy.io.savemat(path, {"label": np.asarray(labels, dtype=np.int64).reshape(1, -1)})
    return path


def write_seed_folder(
    folder: Path, names: Sequence[str], n_trials: int, n_samples: int = 401
) -> dict[str, dict[int, np.ndarray]]:
    """Write session files ``names`` (e.g. "1_20131027") and a matching ``label.mat``.

    Returns
    -------
    dict
        File stem -> the trials :func:`write_seed_session` wrote, each file with its own seed.
    """
    write_seed_labels(folder, SEED_LABELS[:n_trials])
    return {
        name: write_seed_session(folder / f"{name}.mat", n_trials, n_samples, seed=i)
        for i, name in enumerate(names)
    }


def write_seed_features(
    path: Path, n_trials: int, kinds: Sequence[str] = ("de_LDS", "de_movingAve"), seed: int = 0
) -> dict[tuple[str, int], np.ndarray]:
    """Write one ``ExtractedFeatures`` file: ``<kind><K>`` of shape (62, n_windows_K, 5).

    Trial K has ``K + 2`` windows. Distinct kinds hold distinct values.

    Returns
    -------
    dict
        (kind, trial) -> float64 array of shape (62, K + 2, 5) as written.
    """
    rng = np.random.default_rng(seed)
    features = {
        (kind, k): rng.uniform(0, 30, size=(SEED_CHANNELS, k + 2, 5))
        for kind in kinds for k in range(1, n_trials + 1)
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {f"{kind}{k}": x for (kind, k), x in features.items()})
    return features


def amigos_self_assessment(trial: int) -> np.ndarray:
    """A (1, 12) self-assessment whose arousal (column 0) and valence (column 1) differ.

    Arousal = 1 + trial / 10, valence = 9 - trial / 10, dominance 5, liking 6, familiarity 3,
    then seven 0/1 basic-emotion flags.
    """
    return np.array([[1 + trial / 10, 9 - trial / 10, 5, 6, 3, 1, 0, 0, 1, 0, 0, 0]], dtype=np.float64)


def write_amigos(
    path: Path, n_samples: int = 800, seed: int = 0, empty_trials: Iterable[int] = (),
    nan_trials: Iterable[int] = (), short_trials: Iterable[int] = (),
    ratings: Mapping[int, np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Write one AMIGOS ``Data_Preprocessed_Pxx.mat`` with 20 trials.

    Parameters
    ----------
    path : Path
        Destination; parent folders are created.
    n_samples : int
        Samples per trial.
    seed : int
        Seed of the random signal.
    empty_trials : iterable of int
        1-based trials written as (0, 0) data, as for participants who skipped the long videos.
    nan_trials : iterable of int
        Trials whose EEG column 2 (F3) is NaN.
    short_trials : iterable of int
        Trials cut to 128 samples (1 s), shorter than a 5-s baseline plus 1 s.
    ratings : mapping of int to ndarray, optional
        1-based trial -> self-assessment written instead of :func:`amigos_self_assessment`
        (e.g. an empty (0, 0) array).

    Returns
    -------
    list of ndarray
        The 20 ``joined_data`` elements, each (n_samples, 17) float64 (or (0, 0)), as written.
    """
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((n_samples, AMIGOS_COLUMNS)) for _ in range(AMIGOS_TRIALS)]
    for t in nan_trials:
        data[t - 1][:, 2] = np.nan
    for t in short_trials:
        data[t - 1] = data[t - 1][:128]
    for t in empty_trials:
        data[t - 1] = np.zeros((0, 0))
    assessments = [amigos_self_assessment(t) for t in range(1, AMIGOS_TRIALS + 1)]
    for t, rating in (ratings or {}).items():
        assessments[t - 1] = rating
    video_ids = [str(v) for v in (4, 5, 9, 10, 13, 18, 19, 20, 23, 30, 31, 34, 36, 58, 80, 138)]
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {
        "joined_data": _cell(data),
        "labels_selfassessment": _cell(assessments),
        "VideoIDs": _cell([np.array(v) for v in (*video_ids, "N1", "P1", "B1", "U1")]),
    })
    return data


def write_v73_stub(path: Path) -> None:
    """Write the 128-byte header of a MATLAB v7.3 (HDF5) file, which scipy refuses to read."""
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    path.write_bytes(text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 384)


def write_garbage(path: Path, n_bytes: int = 4096, seed: int = 0) -> None:
    """Write (seeded) random bytes under a ``.mat`` name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(n_bytes))
