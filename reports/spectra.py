"""Real-vs-synthetic spectra and DE grids written by a run, read back for the report.

The files and their writer are :mod:`bench.quality_files`; :func:`load_quality` averages each
method's files over folds and seeds.
"""

from __future__ import annotations

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
