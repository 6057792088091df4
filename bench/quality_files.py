"""The quality files a run writes: real-vs-synthetic spectra and DE grids of every method fit.

A run writes one file per (method, fold, seed) fit, named with its representation when given::

    <out>/quality/<dataset>/<task>/<protocol>/<method>/seed-<seed>_<fold>[_<representation>].npz

holding ``class_names (C,)``, ``freqs (F,)``, ``psd_real (C, F)``, ``psd_synthetic (C, F)`` (mean
power per class, averaged over channels, µV²/Hz), ``band_names (B,)``, ``de_real (C, B, 9, 9)`` and
``de_synthetic (C, B, 9, 9)`` (per-class mean differential-entropy grids, NaN or 0 outside the
electrode grid). Either pair (``psd_*`` or ``de_*``) may be absent. :func:`reports.spectra.load_quality`
reads them back, averaged over folds and seeds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def quality_path(out: str | Path, dataset: str, task: str, protocol: str, method: str, seed: int, fold: str,
                 representation: str = "") -> Path:
    """Where a run keeps the spectra and grids of one (method, fold, seed) fit in ``representation``.

    A method that works in its classifier's representation (SMOTE, noise) is fitted once per
    representation, so the file name carries it: ``seed-0_fold-1_raw.npz``.
    """
    suffix = f"_{representation}" if representation else ""
    return Path(out) / "quality" / dataset / task / protocol / method / f"seed-{seed}_{fold}{suffix}.npz"


def write_quality(path: str | Path, class_names: list[str], freqs: np.ndarray | None = None,
                  psd_real: np.ndarray | None = None, psd_synthetic: np.ndarray | None = None,
                  band_names: list[str] | None = None, de_real: np.ndarray | None = None,
                  de_synthetic: np.ndarray | None = None) -> Path:
    """Write one quality file (shapes as in the module docstring); pairs given as None are left out."""
    arrays: dict[str, np.ndarray] = {"class_names": np.asarray(class_names, dtype=str)}
    if psd_real is not None and psd_synthetic is not None:
        arrays.update(freqs=np.asarray(freqs, dtype=np.float64), psd_real=np.asarray(psd_real, dtype=np.float64),
                      psd_synthetic=np.asarray(psd_synthetic, dtype=np.float64))
    if de_real is not None and de_synthetic is not None:
        arrays.update(band_names=np.asarray(band_names, dtype=str), de_real=np.asarray(de_real, dtype=np.float64),
                      de_synthetic=np.asarray(de_synthetic, dtype=np.float64))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)  # atomic: no half-written file
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return path
