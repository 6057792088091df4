"""Real-vs-synthetic spectra and DE grids written by a run: the file format, its writer and its reader.

A run writes one file per (method, fold, seed) fit, named with its representation when given::

    <out>/quality/<dataset>/<task>/<protocol>/<method>/seed-<seed>_<fold>[_<representation>].npz

holding ``class_names (C,)``, ``freqs (F,)``, ``psd_real (C, F)``, ``psd_synthetic (C, F)`` (mean
power per class, averaged over channels, µV²/Hz), ``band_names (B,)``, ``de_real (C, B, 9, 9)`` and
``de_synthetic (C, B, 9, 9)`` (per-class mean differential-entropy grids, NaN or 0 outside the
electrode grid). Either pair (``psd_*`` or ``de_*``) may be absent. :func:`load_quality` averages
each method's files over folds and seeds.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import DataFormatError


@dataclass
class QualityMaps:
    """One method's spectra and DE grids, averaged over its folds and seeds.

    Attributes
    ----------
    dataset, task, protocol, method : str
    n_files : int
    class_names : list of str
    freqs : ndarray, shape (F,) or None
    psd_real, psd_synthetic : ndarray, shape (C, F) or None
    band_names : list of str
    de_real, de_synthetic : ndarray, shape (C, B, 9, 9) or None
    """

    dataset: str
    task: str
    protocol: str
    method: str
    n_files: int
    class_names: list[str]
    freqs: np.ndarray | None = None
    psd_real: np.ndarray | None = None
    psd_synthetic: np.ndarray | None = None
    band_names: list[str] | None = None
    de_real: np.ndarray | None = None
    de_synthetic: np.ndarray | None = None


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


def _mean(stack: list[np.ndarray], name: str, folder: Path) -> np.ndarray | None:
    if not stack:
        return None
    shapes = {a.shape for a in stack}
    if len(shapes) > 1:
        raise DataFormatError(f"{folder}: the files' {name} arrays differ in shape ({sorted(shapes)}); every fold and seed "
                         "of a method must use the same classes, frequencies and bands (delete the folder and re-run)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells outside the electrode grid
        return np.nanmean(np.stack(stack), axis=0)


def load_quality(out: str | Path) -> list[QualityMaps]:
    """Every method's quality files under ``<out>/quality``, averaged over folds and seeds.

    Parameters
    ----------
    out : path
        The run's output folder.

    Returns
    -------
    list of QualityMaps
        Sorted by dataset, task, protocol, method; empty when there is no ``quality`` folder.
    """
    root = Path(out) / "quality"
    found = []
    for folder in sorted({p.parent for p in root.glob("*/*/*/*/*.npz")}):
        dataset, task, protocol, method = folder.relative_to(root).parts
        psd: dict[str, list[np.ndarray]] = {"psd_real": [], "psd_synthetic": []}
        de: dict[str, list[np.ndarray]] = {"de_real": [], "de_synthetic": []}
        files = sorted(folder.glob("*.npz"))
        classes = freqs = bands = None
        for file in files:
            try:
                with np.load(file, allow_pickle=False) as data:
                    classes = [str(c) for c in data["class_names"]]
                    if "psd_real" in data and "psd_synthetic" in data:
                        freqs = data["freqs"]
                        psd["psd_real"].append(data["psd_real"])
                        psd["psd_synthetic"].append(data["psd_synthetic"])
                    if "de_real" in data and "de_synthetic" in data:
                        bands = [str(b) for b in data["band_names"]]
                        de["de_real"].append(data["de_real"])
                        de["de_synthetic"].append(data["de_synthetic"])
            except (OSError, ValueError, KeyError) as e:
                raise DataFormatError(f"cannot read quality file {file} ({e}); it needs class_names and the psd_*/de_* "
                                 "pairs described in reports.spectra; delete it and re-run the cell") from e
        found.append(QualityMaps(dataset, task, protocol, method, len(files), classes or [], freqs,
                                 *(_mean(v, k, folder) for k, v in psd.items()), bands,
                                 *(_mean(v, k, folder) for k, v in de.items())))
    return found
