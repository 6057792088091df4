"""Behaviour evidence for the baseline generators on the synthetic dataset (used by their tests; the
``synthetic_fold`` fixture is in ``tests/methods/conftest.py``).

The synthetic dataset plants frontal alpha asymmetry for valence (:mod:`datasets.synthetic`: higher
valence, more right-frontal and less left-frontal alpha). After a short ``fit`` on real training
windows, a generator's samples of the high-valence class must have a larger asymmetry than its
low-valence samples (the real direction, at least :data:`MIN_EFFECT` of the real size), their
per-band power must be within :data:`BAND_TOLERANCE` of the real windows', and no sample may be
a copy of (or suspiciously close to) a training window.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from bench.seeding import torch_threads
from bench.study import DATASET_DEFAULTS
from datasets.features import DEFAULT_BANDS
from datasets.grids import positions
from datasets.synthetic import LEFT_FRONTAL, RIGHT_FRONTAL, SyntheticConfig

READER_SIZE = {name: getattr(SyntheticConfig(), name) for name in DATASET_DEFAULTS["synthetic"]}
"""The synthetic reader's own size (8 subjects x 20 trials x 20 s), which the generators' evidence was measured on,
rather than the smaller one of a default study."""

BAND_TOLERANCE = {"raw": 0.5, "de-grid": 0.35}
"""Largest allowed |mean synthetic - mean real| per band: natural-log band power (raw windows,
Welch) or DE in nats (grids; DE is half the log power plus a constant)."""
MIN_EFFECT = 0.2
"""The synthetic high-minus-low valence asymmetry must be at least this fraction of the real one."""
COPY_FACTOR = 0.5
"""The 5th percentile of sample-to-training distances must exceed this fraction of the training
windows' own 5th-percentile nearest-neighbour distance."""


def band_features(X: np.ndarray, rep: str, ch_names: tuple[str, ...], sfreq: float) -> np.ndarray:
    """Per-channel band features, shape (n, channels, bands): ln Welch band power (raw) or DE at the electrodes' cells."""
    if rep == "raw":
        freqs, psd = welch(X, fs=sfreq, nperseg=64, axis=-1)
        return np.stack([np.log(psd[..., (freqs >= lo) & (freqs < hi)].mean(axis=-1)) for _, lo, hi in DEFAULT_BANDS], -1)
    return np.stack([X[:, :, row, col] for row, col in positions(ch_names, "deap")], axis=1)


def frontal_asymmetry(features: np.ndarray, ch_names: tuple[str, ...]) -> np.ndarray:
    """Right- minus left-frontal alpha feature of every window, shape (n,)."""
    alpha = [name for name, _, _ in DEFAULT_BANDS].index("alpha")
    right = [ch_names.index(c) for c in RIGHT_FRONTAL]
    left = [ch_names.index(c) for c in LEFT_FRONTAL]
    return features[:, right, alpha].mean(axis=1) - features[:, left, alpha].mean(axis=1)


def nearest_distances(A: np.ndarray, B: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance from every window of ``A`` (n, ...) to its nearest window of ``B`` (m, ...)."""
    a, b = A.reshape(len(A), -1).astype(np.float64), B.reshape(len(B), -1).astype(np.float64)
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    return np.sqrt(np.maximum(d2.min(axis=1), 0))


SPECTRAL_VARIANT = {
    "cgan": {"epochs": 30, "lr": 1e-3, "w_spectral": 50.0, "w_spectral_grid": 5.0},
    "wgan-gp": {"epochs": 40, "lr": 1e-3, "beta1": 0.5, "n_critic": 2, "w_spectral": 50.0, "w_spectral_grid": 5.0},
    "vae": {"epochs": 60, "w_spectral": 1000.0},
    "ddpm": {"epochs": 40, "eta": 0.0, "w_spectral": 50.0},
}
"""The spectral-moment variant each generator's evidence is checked on: the opt-in algorithm change
(``cgan[w_spectral=50,w_spectral_grid=5]`` ...) at the quick sizes, with the fixed number of
epochs and the optimiser settings it was measured with (the GANs' quick profiles have since moved
to the published learning rates, chosen on the inner signal without the term), no inner
validation and no budget, so the check is deterministic."""


def check_generator(cls, rep: str, data: dict, overrides: dict, n_train: int | None = None, n_samples: int = 150) -> dict:
    """Fit ``cls`` (quick sizes, :data:`SPECTRAL_VARIANT`, ``overrides``) on ``n_train`` windows of ``rep``, sample, check.

    Returns
    -------
    dict
        The measured numbers (for the failure messages and the report).
    """
    X, y, info = data[rep], data["y"], data["info"]
    if n_train is not None:
        keep = np.random.default_rng(0).permutation(len(y))[:n_train]
        X, y = X[keep], y[keep]
    config = cls.Config.for_profile("quick", {"representation": rep, "val_fraction": 0.0, "fit_budget_s": 0.0,
                                              **SPECTRAL_VARIANT[cls.name], **overrides})
    with torch_threads(1):  # small networks: threads only add overhead on a busy machine
        method = cls.from_config(config, info=info).fit(X, y, rng=np.random.default_rng(0))
        Xs, ys = method.sample({0: n_samples, 1: n_samples}, rng=np.random.default_rng(1))
    real, syn = (band_features(v, rep, info.ch_names, info.sfreq) for v in (X, Xs))
    faa_real, faa_syn = frontal_asymmetry(real, info.ch_names), frontal_asymmetry(syn, info.ch_names)
    effect_real = faa_real[y == 1].mean() - faa_real[y == 0].mean()
    effect_syn = faa_syn[ys == 1].mean() - faa_syn[ys == 0].mean()
    band_gap = syn.mean(axis=(0, 1)) - real.mean(axis=(0, 1))
    d_syn, d_real = nearest_distances(Xs, X), nearest_distances(X, X, exclude_self=True)
    numbers = {"effect_real": effect_real, "effect_syn": effect_syn, "band_gap": band_gap.round(3).tolist(),
               "min_distance": d_syn.min(), "p5_syn": np.percentile(d_syn, 5), "p5_real": np.percentile(d_real, 5)}
    assert effect_real > 0, f"the real data lost its planted asymmetry: {numbers}"
    assert effect_syn > MIN_EFFECT * effect_real, f"{cls.name} on {rep}: class difference not reproduced: {numbers}"
    assert np.abs(band_gap).max() < BAND_TOLERANCE[rep], f"{cls.name} on {rep}: band power off: {numbers}"
    assert d_syn.min() > 0, f"{cls.name} on {rep}: returned a training window: {numbers}"
    assert numbers["p5_syn"] > COPY_FACTOR * numbers["p5_real"], f"{cls.name} on {rep}: near-copies: {numbers}"
    return numbers
