"""Cut trials into fixed-length windows, with explicit baseline handling.

Windows start after the pre-stimulus baseline. The baseline itself is summarised per trial as
the mean of its non-overlapping windows (DEAP: three 1-s windows), which is what both reference
pipelines subtract: DE-3DGAN from the raw windows (``baseline="raw"``), ESC-GAN from the DE
features (``baseline="de"``, applied in :mod:`datasets.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bench.errors import ConfigError, DataFormatError
from datasets.recording import Recording, Segments

BASELINE_MODES = ("none", "raw", "de")


@dataclass(frozen=True)
class SegmentConfig:
    """How trials become windows.

    Parameters
    ----------
    window_s : float
        Window length in seconds (default 1 s).
    stride_s : float or None
        Step between window starts in seconds; None means ``window_s`` (no overlap).
    baseline : {"none", "raw", "de"}
        ``none``: windows as recorded. ``raw``: subtract the trial's mean baseline window from
        every window, sample by sample (DE-3DGAN). ``de``: keep raw windows, subtract the DE of
        the mean baseline window from every window's DE (ESC-GAN).
    """

    window_s: float = 1.0
    stride_s: float | None = None
    baseline: str = "none"

    def __post_init__(self) -> None:
        if not self.window_s > 0:
            raise ConfigError(f"segment.window_s must be > 0 seconds, got {self.window_s}")
        if self.stride_s is not None and not self.stride_s > 0:
            raise ConfigError(f"segment.stride_s must be > 0 seconds or None, got {self.stride_s}")
        if self.baseline not in BASELINE_MODES:
            raise ConfigError(f"segment.baseline must be one of {BASELINE_MODES}, got {self.baseline!r}")

    def samples(self, sfreq: float) -> tuple[int, int]:
        """Window and stride in samples at ``sfreq``; both must be whole numbers."""
        stride_s = self.window_s if self.stride_s is None else self.stride_s
        out = []
        for field, seconds in (("window_s", self.window_s), ("stride_s", stride_s)):
            n = seconds * sfreq
            if abs(n - round(n)) > 1e-6:
                raise ConfigError(
                    f"segment.{field}={seconds} s is {n:g} samples at {sfreq:g} Hz; choose a length "
                    "that is a whole number of samples"
                )
            out.append(int(round(n)))
        return out[0], out[1]


def cut_windows(x: np.ndarray, start: int, window: int, stride: int) -> np.ndarray:
    """Windows of ``x[:, start:]``, as a strided view.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
    start, window, stride : int
        In samples.

    Returns
    -------
    ndarray, shape (n_windows, n_channels, window)
        A read-only view; ``n_windows`` is 0 when not even one window fits.
    """
    tail = x[:, start:]
    if tail.shape[1] < window:
        return np.empty((0, x.shape[0], window), dtype=x.dtype)
    return sliding_window_view(tail, window, axis=1)[:, ::stride].transpose(1, 0, 2)


def baseline_window(x: np.ndarray, n_baseline: int, window: int) -> np.ndarray:
    """Mean of the first ``n_baseline // window`` non-overlapping windows of ``x``.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
    n_baseline, window : int
        Baseline length and window length in samples.

    Returns
    -------
    ndarray, shape (n_channels, window), float32
    """
    k = n_baseline // window
    return x[:, : k * window].reshape(x.shape[0], k, window).mean(axis=1, dtype=np.float64).astype(np.float32)


def baseline_layout(recording: Recording, config: SegmentConfig) -> tuple[int, int, int, int]:
    """Window, stride, baseline length (samples) and number of baseline windows, validated."""
    window, stride = config.samples(recording.sfreq)
    n_baseline = int(round(recording.baseline_s * recording.sfreq))
    n_windows = n_baseline // window
    if config.baseline != "none" and n_baseline == 0:
        raise ConfigError(
            f"segment.baseline={config.baseline!r}, but {recording.dataset} trials have no "
            "pre-stimulus baseline; use segment.baseline='none'"
        )
    if config.baseline != "none" and n_windows == 0:
        raise ConfigError(
            f"segment.baseline={config.baseline!r} needs at least one window in the "
            f"{recording.baseline_s:g}-s baseline, but segment.window_s={config.window_s} is longer"
        )
    return window, stride, n_baseline, n_windows


def count_windows(recording: Recording, config: SegmentConfig) -> np.ndarray:
    """Number of windows per trial, shape (n_trials,); a trial with none is an error."""
    window, stride, n_baseline, _ = baseline_layout(recording, config)
    lengths = np.array([x.shape[1] for x in recording.trials]) - n_baseline
    counts = np.where(lengths >= window, (lengths - window) // stride + 1, 0)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        i = empty[0]
        raise DataFormatError(
            f"{recording.dataset}: subject {recording.subject[i]} session {recording.session[i]} "
            f"trial {recording.trial[i]} has {recording.trials[i].shape[1]} samples, too short for "
            f"the {recording.baseline_s:g}-s baseline plus one {config.window_s:g}-s window"
        )
    return counts


def segment(recording: Recording, config: SegmentConfig, trial_offset: int = 0) -> Segments:
    """Cut every trial of ``recording`` into windows.

    Parameters
    ----------
    recording : Recording
    config : SegmentConfig
    trial_offset : int
        Added to ``trial_id`` (used when a dataset is segmented file by file).

    Returns
    -------
    Segments
        ``X`` has shape (n, n_channels, window) and float32 dtype; windows are ordered by trial,
        then time.
    """
    window, stride, n_baseline, n_base_windows = baseline_layout(recording, config)
    counts = count_windows(recording, config)
    n, n_ch = int(counts.sum()), len(recording.ch_names)
    X = np.empty((n, n_ch, window), dtype=np.float32)
    baseline = (
        np.empty((recording.n_trials, n_ch, window), dtype=np.float32) if n_base_windows else None
    )
    row = 0
    for i, trial in enumerate(recording.trials):
        block = X[row : row + counts[i]]
        block[:] = cut_windows(trial, n_baseline, window, stride)
        if baseline is not None:
            baseline[i] = baseline_window(trial, n_baseline, window)
            if config.baseline == "raw":
                block -= baseline[i]
        row += counts[i]
    per_trial = np.repeat(np.arange(recording.n_trials), counts)
    return Segments(
        X=X,
        ratings=recording.ratings[per_trial],
        rating_names=recording.rating_names,
        subject=recording.subject[per_trial],
        session=recording.session[per_trial],
        trial=recording.trial[per_trial],
        trial_id=per_trial + trial_offset,
        position=np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts),
        baseline=baseline,
        sfreq=recording.sfreq,
        ch_names=recording.ch_names,
        dataset=recording.dataset,
    )
