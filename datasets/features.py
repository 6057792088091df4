"""Differential entropy (DE) per band, vectorised over windows and channels.

For a Gaussian signal of variance sigma^2 the differential entropy is 1/2 ln(2 pi e sigma^2).
Band DE is that value for the signal band-passed with a Butterworth filter. Every convention the
literature disagrees on (bands, filter order, causal or zero-phase, variance or the ESC-GAN
reference code's standard deviation, log base, ddof) is an explicit :class:`FeatureConfig`
field, and the sampling rate always comes from the dataset.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import signal

from bench.errors import ConfigError

DEFAULT_BANDS = (("delta", 1.0, 4.0), ("theta", 4.0, 8.0), ("alpha", 8.0, 13.0), ("beta", 13.0, 30.0),
                 ("gamma", 30.0, 45.0))
FILTERINGS = ("causal", "zero-phase")
SCOPES = ("segment", "trial")
DE_OF = ("variance", "std")
LOG_BASES = ("e", "2")
SOURCES = ("computed", "de_LDS", "de_movingAve")
WINDOW_NORMS = ("none", "minmax-bands")
CHUNK = 2048  # windows filtered per task; keeps temporaries in cache-sized blocks


@dataclass(frozen=True)
class FeatureConfig:
    """How band differential entropy is computed.

    Parameters
    ----------
    bands : tuple of (name, low_hz, high_hz)
        Default delta 1-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-45 Hz.
    order : int
        Butterworth order of each band-pass.
    filtering : {"causal", "zero-phase"}
        ``causal`` (``sosfilt``, as TorchEEG and 4D-CRNN) or ``zero-phase`` (``sosfiltfilt``).
    scope : {"segment", "trial"}
        Filter each window on its own (the papers' way) or whole trials before cutting.
    de_of : {"variance", "std"}
        ``variance``: 1/2 log(2 pi e sigma^2). ``std``: 1/2 log(2 pi e sigma), the formula of the
        TorchEEG fork bundled with ESC-GAN (TorchEEG issue #71).
    log_base : {"e", "2"}
    ddof : int
        Delta degrees of freedom of the variance (4D-CRNN uses 1).
    source : {"computed", "de_LDS", "de_movingAve"}
        ``computed`` from raw windows, or SEED's official ``ExtractedFeatures``.
    window_norm : {"none", "minmax-bands"}
        Per-window normalisation after any baseline removal. ``minmax-bands`` maps each window's
        DE of every channel to [0, 1] across its bands (TorchEEG ``MinMaxNormalize(axis=-1)`` on
        (channels, bands), which ESC-GAN's reference applies to SEED, ``train_augment.py``).
    """

    bands: tuple[tuple[str, float, float], ...] = DEFAULT_BANDS
    order: int = 5
    filtering: str = "causal"
    scope: str = "segment"
    de_of: str = "variance"
    log_base: str = "e"
    ddof: int = 0
    source: str = "computed"
    window_norm: str = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple((str(n), float(lo), float(hi)) for n, lo, hi in self.bands))
        for field, value, allowed in (("filtering", self.filtering, FILTERINGS), ("scope", self.scope, SCOPES),
                                      ("de_of", self.de_of, DE_OF), ("log_base", self.log_base, LOG_BASES),
                                      ("source", self.source, SOURCES),
                                      ("window_norm", self.window_norm, WINDOW_NORMS)):
            if value not in allowed:
                raise ConfigError(f"features.{field} must be one of {allowed}, got {value!r}")
        if not self.bands:
            raise ConfigError("features.bands must name at least one band")
        for name, lo, hi in self.bands:
            if not 0 < lo < hi:
                raise ConfigError(f"features.bands: band {name!r} needs 0 < low < high Hz, got {lo}-{hi}")
        if not 1 <= self.order <= 10:
            raise ConfigError(f"features.order must be 1..10, got {self.order}")
        if self.ddof not in (0, 1):
            raise ConfigError(f"features.ddof must be 0 or 1, got {self.ddof}")

    @property
    def band_names(self) -> tuple[str, ...]:
        """Names of the bands, in order."""
        return tuple(name for name, _, _ in self.bands)


def band_filters(sfreq: float, bands: tuple[tuple[str, float, float], ...], order: int) -> list[np.ndarray]:
    """Butterworth band-pass filters in second-order sections, one per band.

    Returns
    -------
    list of ndarray, each (order, 6)
    """
    nyquist = sfreq / 2
    for name, lo, hi in bands:
        if hi >= nyquist:
            raise ConfigError(
                f"features.bands: band {name!r} ({lo:g}-{hi:g} Hz) reaches the Nyquist frequency "
                f"{nyquist:g} Hz of {sfreq:g}-Hz data; lower its upper edge"
            )
    return [signal.butter(order, [lo, hi], btype="bandpass", fs=sfreq, output="sos") for _, lo, hi in bands]


def de_from_filtered(x: np.ndarray, de_of: str = "variance", log_base: str = "e", ddof: int = 0) -> np.ndarray:
    """Differential entropy of band-passed signals along the last axis.

    Parameters
    ----------
    x : ndarray, shape (..., n_times)

    Returns
    -------
    ndarray, shape (...), float64
    """
    var = x.var(axis=-1, ddof=ddof, dtype=np.float64)
    spread = var if de_of == "variance" else np.sqrt(var)
    de = 0.5 * np.log(2 * np.pi * np.e * spread)
    return de / np.log(2) if log_base == "2" else de


def window_normalise(de: np.ndarray, mode: str) -> np.ndarray:
    """Per-window normalisation of band DE (see :attr:`FeatureConfig.window_norm`).

    Parameters
    ----------
    de : ndarray, shape (n, n_channels, n_bands)
    mode : {"none", "minmax-bands"}
        ``minmax-bands``: ``(x - min) / (max - min)`` over the bands of each window and channel,
        as TorchEEG's ``MinMaxNormalize(axis=-1)``; a channel whose bands are all equal maps to 0
        (TorchEEG would divide by zero).

    Returns
    -------
    ndarray, shape (n, n_channels, n_bands), float32
    """
    if mode == "none":
        return np.asarray(de, dtype=np.float32)
    if mode != "minmax-bands":
        raise ConfigError(f"features.window_norm must be one of {WINDOW_NORMS}, got {mode!r}")
    de = np.asarray(de, dtype=np.float32)
    low = de.min(axis=-1, keepdims=True)
    span = de.max(axis=-1, keepdims=True) - low
    return np.divide(de - low, span, out=np.zeros_like(de), where=span > 0)


def _filter(config: FeatureConfig):
    """``sosfiltfilt`` for zero-phase filtering, ``sosfilt`` for causal."""
    return signal.sosfiltfilt if config.filtering == "zero-phase" else signal.sosfilt


def _de_block(x: np.ndarray, sos: list[np.ndarray], config: FeatureConfig) -> np.ndarray:
    out = np.empty(x.shape[:-1] + (len(sos),), dtype=np.float32)
    filt = _filter(config)
    for b, s in enumerate(sos):
        filtered = filt(s, x, axis=-1)
        out[..., b] = de_from_filtered(filtered, config.de_of, config.log_base, config.ddof)
    return out


def differential_entropy(x: np.ndarray, sfreq: float, config: FeatureConfig, n_threads: int | None = None) -> np.ndarray:
    """Band differential entropy of every window and channel, each window filtered on its own.

    Parameters
    ----------
    x : ndarray, shape (n, n_channels, n_times)
        Raw windows (float32 or float64).
    sfreq : float
        The data's sampling rate in Hz.
    config : FeatureConfig
    n_threads : int or None
        Worker threads (scipy's filters release the GIL); None uses every core.

    Returns
    -------
    ndarray, shape (n, n_channels, n_bands), float32
    """
    sos = band_filters(sfreq, config.bands, config.order)
    blocks = [x[i : i + CHUNK] for i in range(0, len(x), CHUNK)]
    with ThreadPoolExecutor(max_workers=n_threads or os.cpu_count() or 1) as pool:
        parts = list(pool.map(lambda block: _de_block(np.asarray(block), sos, config), blocks))
    return np.concatenate(parts) if parts else np.empty(x.shape[:2] + (len(sos),), dtype=np.float32)


def bandpass_trial(x: np.ndarray, sfreq: float, config: FeatureConfig) -> np.ndarray:
    """Band-pass one whole trial in every band (for ``scope="trial"``).

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)

    Returns
    -------
    ndarray, shape (n_bands, n_channels, n_samples), float32
    """
    sos = band_filters(sfreq, config.bands, config.order)
    return np.stack([_filter(config)(s, x, axis=-1) for s in sos]).astype(np.float32)


DE3DGAN_FEATURES = FeatureConfig(bands=(("theta", 4.0, 8.0), ("alpha", 8.0, 14.0), ("beta", 14.0, 31.0),
                                        ("gamma", 31.0, 45.0)), order=3, ddof=1)
"""DE-3DGAN's DE recipe (the 4D-CRNN recipe the DE-3DGAN reference's DE files follow): 4 bands, 3rd-order causal Butterworth, ln, ddof 1."""


def de_video(frames: np.ndarray, sfreq: float, config: FeatureConfig, windows_per_frame: int = 2) -> np.ndarray:
    """Band DE of one trial's grid frames on sub-second windows, in the frames' time order.

    The frames are joined into one continuous signal per grid cell, band-passed as a whole (so
    window edges carry no filter start-up), cut into ``windows_per_frame`` windows per frame and
    turned into DE; windows ``k * windows_per_frame ...`` fall inside frame ``k``. Cells whose
    signal is identically zero (off-electrode cells of the grid) stay exactly 0.

    Parameters
    ----------
    frames : ndarray, shape (n_frames, n_times, H, W)
        Consecutive ``raw-grid`` frames of one trial (DE-3DGAN: 1-s frames, (T, 128, 9, 9)).
    sfreq : float
        Sampling rate in Hz.
    config : FeatureConfig
        Bands, filter order and causality, DE formula (:data:`DE3DGAN_FEATURES` for DE-3DGAN).
    windows_per_frame : int
        Windows per frame; must divide ``n_times`` (2: half-second windows of 1-s frames).

    Returns
    -------
    ndarray, shape (n_bands, windows_per_frame * n_frames, H, W), float32
    """
    n_frames, n_times, height, width = frames.shape
    if windows_per_frame < 1 or n_times % windows_per_frame:
        raise ConfigError(f"de_video: {windows_per_frame} windows per frame must divide the {n_times} samples of a frame")
    signal_ = np.asarray(frames, dtype=np.float64).transpose(2, 3, 0, 1).reshape(height * width, n_frames * n_times)
    live = np.any(signal_ != 0, axis=1)
    out = np.zeros((len(config.bands), windows_per_frame * n_frames, height * width), dtype=np.float32)
    filt = _filter(config)
    for b, sos in enumerate(band_filters(sfreq, config.bands, config.order)):
        windows = filt(sos, signal_[live], axis=-1).reshape(int(live.sum()), windows_per_frame * n_frames, -1)
        out[b][:, live] = de_from_filtered(windows, config.de_of, config.log_base, config.ddof).T
    return out.reshape(len(config.bands), windows_per_frame * n_frames, height, width)
