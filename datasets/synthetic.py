"""The embedded default dataset: emotional EEG simulated and written in DEAP's on-disk format.

Each subject becomes a real ``sNN.dat`` (Python-2 pickle, 40 channels, float64, 3-s baseline,
four 1-9 ratings), read back through the DEAP reader, so the default run exercises the real path.

The signal follows what the affective-EEG literature reports, so that augmentation and
classifiers have something real, but not trivial, to find:

* background: spatially correlated 1/f ("pink") noise plus white sensor noise;
* rhythms: theta (fronto-central), alpha (posterior, also frontal) and beta (central), as
  band-limited noise with per-trial amplitude variability;
* valence: frontal alpha asymmetry (Davidson): higher valence, less left-frontal and more
  right-frontal alpha;
* arousal: a beta/alpha shift: higher arousal, more beta and less alpha everywhere;
* subjects differ in overall gain, rhythm strength and noise level.

Emotional effects act only after the 3-s baseline, and scale with the rating's distance from
the scale midpoint, so trials rated near 5 are hard.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.errors import ConfigError
from bench.integrity import clean_partials, file_digests, partial_path, verify_file
from bench.registry import DATASETS
from datasets import deap
from datasets.base import ReaderConfig
from datasets.cache import cache_key
from datasets.grids import positions
from datasets.paths import cache_dir

BASELINE_S = deap.BASELINE_S
SFREQ = deap.SFREQ
log = logging.getLogger(__name__)
LEFT_FRONTAL = ("FP1", "AF3", "F3", "F7", "FC5", "FC1")
RIGHT_FRONTAL = ("FP2", "AF4", "F4", "F8", "FC6", "FC2")


@dataclass(frozen=True)
class SyntheticConfig(ReaderConfig):
    """Size, balance and effect strength of the simulated dataset.

    Parameters
    ----------
    n_subjects, n_trials : int
        Subjects (files) and trials per subject.
    trial_s : float
        Stimulus seconds per trial (the 3-s baseline comes on top).
    valence_high, arousal_high : float
        Expected fraction of trials rated high (>= 5): class balance of the binary tasks.
    effect_size : float
        Strength of the emotional effects; 0 gives labels unrelated to the signal.
    seed : int
        Everything is a deterministic function of the config, seed included.
    nan_policy : str
        Passed to the DEAP reader; simulated data has no NaN, so "error" by default.
    """

    n_subjects: int = 8
    n_trials: int = 20
    trial_s: float = 20.0
    valence_high: float = 0.7
    arousal_high: float = 0.5
    effect_size: float = 1.0
    seed: int = 0
    nan_policy: str = "error"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.n_subjects <= 99:
            raise ConfigError(f"synthetic.n_subjects must be 1..99 (files are sNN.dat), got {self.n_subjects}")
        if self.n_trials < 1 or self.trial_s < 1:
            raise ConfigError("synthetic.n_trials and synthetic.trial_s must be at least 1")
        for name in ("valence_high", "arousal_high"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"synthetic.{name} must be a fraction in (0, 1), got {getattr(self, name)}")
        if self.effect_size < 0:
            raise ConfigError(f"synthetic.effect_size must be >= 0, got {self.effect_size}")


def _spectral_noise(rng: np.random.Generator, shape: tuple[int, ...], gain: np.ndarray) -> np.ndarray:
    """White noise shaped in frequency by ``gain`` (n_freqs,), normalised to unit variance."""
    spectrum = np.fft.rfft(rng.standard_normal(shape), axis=-1) * gain
    x = np.fft.irfft(spectrum, n=shape[-1], axis=-1)
    return x / x.std(axis=-1, keepdims=True)


def _topography(pos: np.ndarray, centre: tuple[float, float], width: float, floor: float) -> np.ndarray:
    """Gaussian scalp weight around a grid cell, shape (n_channels,), in [floor, 1]."""
    d2 = ((pos - np.asarray(centre)) ** 2).sum(axis=1)
    return floor + (1 - floor) * np.exp(-d2 / (2 * width**2))


def _ratings(rng: np.random.Generator, n: int, config: SyntheticConfig) -> np.ndarray:
    """(n, 4) ratings on 1-9: valence, arousal by the class balance, dominance, liking."""
    def rating(p_high: float) -> np.ndarray:
        high = rng.random(n) < p_high
        return np.where(high, rng.uniform(5.0, 9.0, n), rng.uniform(1.0, 5.0, n))

    valence, arousal = rating(config.valence_high), rating(config.arousal_high)
    dominance = rng.uniform(1.0, 9.0, n)
    liking = np.clip(valence + rng.normal(0.0, 1.5, n), 1.0, 9.0)
    return np.stack([valence, arousal, dominance, liking], axis=1)


def simulate_subject(config: SyntheticConfig, subject: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one subject.

    Parameters
    ----------
    config : SyntheticConfig
    subject : int
        1-based subject number; seeds the subject's generator together with ``config.seed``.

    Returns
    -------
    data : ndarray, shape (n_trials, 40, n_samples), float64
        32 EEG channels in DEAP order (microvolts), then 8 peripheral channels.
    labels : ndarray, shape (n_trials, 4), float64
    """
    rng = np.random.default_rng([config.seed, subject])
    n_trials, n_ch = config.n_trials, len(deap.CH_NAMES)
    n_samples = int(round((BASELINE_S + config.trial_s) * SFREQ))
    freqs = np.fft.rfftfreq(n_samples, 1 / SFREQ)
    pos = positions(deap.CH_NAMES, "deap").astype(float)
    labels = _ratings(rng, n_trials, config)
    valence = (labels[:, 0] - 5.0) / 4.0  # in [-1, 1]
    arousal = (labels[:, 1] - 5.0) / 4.0

    # Background: 1/f noise, spatially smoothed over the scalp, plus white sensor noise.
    dist2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    mixing = np.exp(-dist2 / 4.0)
    mixing /= np.linalg.norm(mixing, axis=1, keepdims=True)
    pink = _spectral_noise(rng, (n_trials, n_ch, n_samples), 1 / np.sqrt(np.maximum(freqs, 1.0)))
    background = 8.0 * np.einsum("ij,tjs->tis", mixing, pink)
    sensor = rng.uniform(1.0, 3.0) * rng.standard_normal((n_trials, n_ch, n_samples))

    # Rhythms: band-limited noise with a topography and per-trial, per-channel amplitude jitter.
    stim = (np.arange(n_samples) >= BASELINE_S * SFREQ).astype(float)  # effects after the baseline
    left = np.isin(deap.CH_NAMES, LEFT_FRONTAL).astype(float)
    right = np.isin(deap.CH_NAMES, RIGHT_FRONTAL).astype(float)
    k = 0.45 * config.effect_size
    rhythms = {  # name: (centre Hz, width Hz, topography, amplitude uV, emotional gain (trials, channels))
        "theta": (6.0, 1.0, _topography(pos, (2.5, 4), 2.0, 0.3), 5.0, np.zeros((n_trials, n_ch))),
        "alpha": (10.0, 1.2, _topography(pos, (7.5, 4), 2.5, 0.45), 10.0,
                  k * valence[:, None] * (right - left) - 0.3 * k * arousal[:, None]),
        "beta": (20.0, 4.0, _topography(pos, (4, 4), 3.0, 0.5), 4.0, 0.6 * k * arousal[:, None] * np.ones(n_ch)),
    }
    eeg = background + sensor
    subject_gain = rng.lognormal(0.0, 0.25)
    for centre, width, topo, amplitude, emotion in rhythms.values():
        wave = _spectral_noise(rng, (n_trials, n_ch, n_samples), np.exp(-0.5 * ((freqs - centre) / width) ** 2))
        jitter = rng.lognormal(0.0, 0.2, (n_trials, 1)) * rng.lognormal(0.0, 0.1, (n_trials, n_ch))
        strength = amplitude * rng.lognormal(0.0, 0.2) * topo * jitter  # (trials, channels)
        modulation = 1.0 + emotion[:, :, None] * stim  # (trials, channels, samples)
        eeg += strength[:, :, None] * np.clip(modulation, 0.1, None) * wave
    eeg *= subject_gain
    return np.concatenate([eeg, _peripheral(rng, n_trials, n_samples)], axis=1), labels


def _peripheral(rng: np.random.Generator, n_trials: int, n_samples: int) -> np.ndarray:
    """Plausible stand-ins for DEAP's 8 peripheral channels, shape (n_trials, 8, n_samples)."""
    t = np.arange(n_samples) / SFREQ
    walk = np.cumsum(rng.standard_normal((n_trials, 2, n_samples)), axis=-1) / np.sqrt(SFREQ)
    eog = 40.0 * walk
    emg = 5.0 * rng.standard_normal((n_trials, 2, n_samples))
    gsr = 2.0e5 + 5.0e3 * walk[:, :1] + 1.0e3 * rng.standard_normal((n_trials, 1, 1))
    resp = np.sin(2 * np.pi * rng.uniform(0.2, 0.35, (n_trials, 1, 1)) * t)
    pleth = np.sin(2 * np.pi * rng.uniform(1.0, 1.5, (n_trials, 1, 1)) * t) ** 8
    temp = 33.0 + 0.01 * walk[:, 1:]
    return np.concatenate([eog, emg, gsr, resp, pleth, temp], axis=1)


@DATASETS.register("synthetic")
class Synthetic(deap.Deap):
    """Simulated emotional EEG in DEAP's exact format (the embedded default; no licence needed).

    ``files()`` writes ``sNN.dat`` files under ``<cache>/synthetic/<config hash>/`` once, with their
    checksums in ``complete.json``, then every read goes through the DEAP reader; a file that is
    missing or fails its checksum (truncated, overwritten) is generated again, with a warning. Defaults: 8 subjects x 20 trials x 20 s, 70/30
    valence balance, an effect size that leaves a classifier clearly above chance and below
    perfect.
    """

    layout = "  (generated under the cache folder; nothing to download)"
    obtain = "The synthetic dataset is generated on first use."

    def __init__(self, config: SyntheticConfig | None = None, root: Path | None = None) -> None:
        self.config = config or SyntheticConfig()
        self.root = root

    def folder(self) -> Path:
        """Where this config's files live."""
        return (self.root or cache_dir()) / "synthetic" / cache_key(synthetic=self.config)

    def files(self, data_dir: object = None) -> list[Path]:
        """Write the dataset's files (atomically, file by file) where missing or damaged, then return them.

        ``data_dir`` is ignored: the synthetic dataset lives in the cache. Each file's checksum is
        recorded in ``complete.json`` and verified (once per process while the file is unchanged).
        """
        folder = self.folder() / "data_preprocessed_python"
        done = self.folder() / "complete.json"
        paths = [folder / f"s{s:02d}.dat" for s in range(1, self.config.n_subjects + 1)]
        recorded = _recorded(done)
        damaged = [p for p in paths if not (p.name in recorded and p.is_file() and verify_file(p, recorded[p.name]))]
        if not damaged:
            return paths
        if recorded:
            log.warning("synthetic data file(s) %s missing or damaged (checksum); generating them again",
                        ", ".join(str(p) for p in damaged))
        folder.mkdir(parents=True, exist_ok=True)
        clean_partials(folder)
        for path in damaged:
            data, labels = simulate_subject(self.config, int(path.stem[1:]))
            tmp = partial_path(path)
            deap.write_dat(tmp, data, labels)
            tmp.replace(path)
            recorded[path.name] = file_digests(path)
        tmp = partial_path(done)
        tmp.write_text(json.dumps({"config": asdict(self.config), "files": recorded}, indent=1))
        tmp.replace(done)
        return paths


def _recorded(done: Path) -> dict[str, list[str]]:
    """File name -> chunk checksums recorded in ``complete.json`` (empty when absent, unreadable or older)."""
    try:
        files = json.loads(done.read_text())["files"]
        return {str(k): list(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
