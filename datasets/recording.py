"""The two data containers every reader and pipeline step passes along.

``Recording`` is what a reader returns: whole trials as they are on disk. ``Segments`` is what
segmentation returns: fixed-length windows, each carrying the ids a leakage-safe protocol needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bench.errors import DataFormatError


def _ids(values: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


@dataclass(frozen=True, eq=False)
class Recording:
    """Whole trials of one dataset, or of one of its files, as the files hold them.

    Ids follow the dataset's own 1-based numbering: DEAP ``s07.dat`` is subject 7, SEED sessions
    are ranked by recording date, trials are numbered in file order.

    Parameters
    ----------
    dataset : str
        Registered dataset name (``"deap"``, ``"seed"``, ...).
    trials : tuple of ndarray
        One float32 array of shape ``(n_channels, n_samples_i)`` per trial; lengths may differ.
    ratings : ndarray, shape (n_trials, n_ratings)
        Self-assessment or stimulus labels, float64, columns named by ``rating_names``.
    rating_names : tuple of str
        Column names of ``ratings`` (DEAP: valence, arousal, dominance, liking).
    subject, session, trial : ndarray of int64, shape (n_trials,)
        Ids of every trial.
    sfreq : float
        Sampling rate in Hz, as the dataset ships it.
    ch_names : tuple of str
        EEG channel names (upper case) in the file's order.
    baseline_s : float
        Seconds of pre-stimulus baseline at the start of every trial (DEAP 3, SEED 0).
    notes : tuple of str
        What the reader's explicit policies dropped or changed, to be recorded with results.
    """

    dataset: str
    trials: tuple[np.ndarray, ...]
    ratings: np.ndarray
    rating_names: tuple[str, ...]
    subject: np.ndarray
    session: np.ndarray
    trial: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    baseline_s: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.trials)
        object.__setattr__(self, "trials", tuple(self.trials))
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        object.__setattr__(self, "rating_names", tuple(self.rating_names))
        ratings = np.asarray(self.ratings, dtype=np.float64)
        object.__setattr__(self, "ratings", ratings.reshape(n, -1) if n else ratings.reshape(0, len(self.rating_names)))
        for name in ("subject", "session", "trial"):
            ids = _ids(getattr(self, name))
            if ids.shape != (n,):
                raise DataFormatError(
                    f"{self.dataset}: Recording.{name} has {ids.size} ids for {n} trials; "
                    "every trial needs exactly one"
                )
            object.__setattr__(self, name, ids)
        if self.ratings.shape[1] != len(self.rating_names):
            raise DataFormatError(
                f"{self.dataset}: ratings have {self.ratings.shape[1]} columns but "
                f"{len(self.rating_names)} names {self.rating_names}"
            )
        if not self.sfreq > 0:
            raise DataFormatError(f"{self.dataset}: sfreq must be positive, got {self.sfreq}")
        for i, x in enumerate(self.trials):
            if x.ndim != 2 or x.shape[0] != len(self.ch_names):
                raise DataFormatError(
                    f"{self.dataset}: trial {i} has shape {x.shape}; expected "
                    f"({len(self.ch_names)} channels, n_samples)"
                )

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return len(self.trials)

    @classmethod
    def concat(cls, parts: Sequence[Recording]) -> Recording:
        """Join recordings of the same dataset (e.g. one per subject file) trial-wise."""
        if not parts:
            raise DataFormatError("cannot concatenate zero recordings")
        first = parts[0]
        for p in parts[1:]:
            same = (p.dataset, p.sfreq, p.ch_names, p.rating_names, p.baseline_s) == (
                first.dataset, first.sfreq, first.ch_names, first.rating_names, first.baseline_s
            )
            if not same:
                raise DataFormatError(
                    f"{first.dataset}: cannot join recordings that differ in sampling rate, "
                    "channels, rating names or baseline length"
                )
        return cls(
            dataset=first.dataset,
            trials=tuple(x for p in parts for x in p.trials),
            ratings=np.concatenate([p.ratings for p in parts]),
            rating_names=first.rating_names,
            subject=np.concatenate([p.subject for p in parts]),
            session=np.concatenate([p.session for p in parts]),
            trial=np.concatenate([p.trial for p in parts]),
            sfreq=first.sfreq,
            ch_names=first.ch_names,
            baseline_s=first.baseline_s,
            notes=tuple(n for p in parts for n in p.notes),
        )


@dataclass(frozen=True, eq=False)
class Segments:
    """Fixed-length windows cut from a recording's trials, with everything needed to group them.

    Parameters
    ----------
    X : ndarray, shape (n, n_channels, n_times), float32
        Raw windows (after raw-level baseline removal, if that was asked for).
    ratings : ndarray, shape (n, n_ratings)
        The source trial's ratings, repeated for each of its windows.
    rating_names : tuple of str
        Column names of ``ratings``.
    subject, session, trial : ndarray of int64, shape (n,)
        The dataset's ids of the source trial.
    trial_id : ndarray of int64, shape (n,)
        Row of the source trial in the recording (unique over subjects and sessions); indexes
        ``baseline``. Protocols that hold out whole trials group by it.
    position : ndarray of int64, shape (n,)
        Index of the window within its trial, 0-based, in time order.
    baseline : ndarray, shape (n_trials, n_channels, n_times), float32, or None
        Mean pre-stimulus window of every trial (None when the recording has no baseline).
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        Channel names.
    dataset : str
        Registered dataset name.
    """

    X: np.ndarray
    ratings: np.ndarray
    rating_names: tuple[str, ...]
    subject: np.ndarray
    session: np.ndarray
    trial: np.ndarray
    trial_id: np.ndarray
    position: np.ndarray
    baseline: np.ndarray | None
    sfreq: float
    ch_names: tuple[str, ...]
    dataset: str

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def rating(self, name: str) -> np.ndarray:
        """The ratings column called ``name``, shape (n,)."""
        try:
            return self.ratings[:, self.rating_names.index(name)]
        except ValueError:
            raise DataFormatError(
                f"{self.dataset} has no rating {name!r}; it has {', '.join(self.rating_names)}"
            ) from None
