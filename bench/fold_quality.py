"""Generation quality of one method on one fold, as the runner measures it.

:mod:`bench.quality` holds the metrics; this module decides what they compare:

* **sample metrics** (:func:`sample_metrics`), once per method and fold, in the method's own
  representation: synthetic windows against the real training windows the method was fitted
  on (per-class power-spectrum distance on raw signals, MMD) and against held-out real windows
  (the memorisation ratio);
* **classifier metrics** (:func:`classifier_metrics`), once per cell: the Frechet distance between
  synthetic and real training windows in the penultimate-layer features of the fold's
  no-augmentation classifier, train-on-synthetic-test-on-real balanced accuracy with the
  cell's classifier, and the no-augmentation classifier's own balanced accuracy on the test fold,
  which :mod:`bench.gate` holds TSTR to;
* **class profiles** (:func:`class_profiles`): per-class mean spectra and DE grids of real and
  synthetic windows, which the runner saves next to the results for the report's plots
  (:func:`bench.quality_files.write_quality`).

Nothing here sees the test fold except the memorisation ratio's held-out reference and the
scoring of the TSTR and no-augmentation classifiers, which by definition compare with unseen real
data; nothing is fitted on it, selected or stopped on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench import quality
from bench.components import Classifier
from bench.gate import tstr_ratio
from bench.metrics import classification_metrics

def raw_channels(X: np.ndarray, representation: str, cells: np.ndarray | None = None) -> np.ndarray | None:
    """Windows as (n, channels, times) signals, or None for a representation without a time axis.

    Parameters
    ----------
    X : ndarray, shape (n, *window shape)
    representation : str
        ``raw`` windows are returned as they are; ``raw-grid`` frames (n, n_times, 9, 9) become
        (n, n_cells, n_times) over the electrode ``cells``.
    cells : ndarray of bool, shape (9, 9), optional
        The grid cells holding an electrode (required for ``raw-grid``).
    """
    if representation == "raw":
        return X
    if representation == "raw-grid":
        return np.moveaxis(X[:, :, cells], 1, 2)
    return None


def grid_cells(X: np.ndarray) -> np.ndarray:
    """Cells of raw-grid frames (n, n_times, 9, 9) that are non-zero in any frame, shape (9, 9)."""
    return np.any(X != 0, axis=(0, 1))


def sample_metrics(x_syn: np.ndarray, y_syn: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
                   x_holdout: np.ndarray, representation: str, n_classes: int, sfreq: float,
                   rng: np.random.Generator) -> dict[str, float]:
    """Classifier-free quality of synthetic windows, in the method's representation.

    Parameters
    ----------
    x_syn : ndarray, shape (n_syn, *window shape)
    y_syn : ndarray of int, shape (n_syn,)
    x_train : ndarray, shape (n_train, *window shape)
        The real windows the method was fitted on.
    y_train : ndarray of int, shape (n_train,)
    x_holdout : ndarray, shape (n_holdout, *window shape)
        Real windows the method never saw (the test fold).
    representation : str
    n_classes : int
    sfreq : float
    rng : numpy Generator
        Subsampling of the kernel and nearest-neighbour metrics.

    Returns
    -------
    dict
        ``psd_distance`` (dB; NaN for DE representations), ``mmd`` (RBF kernel, bandwidth: the
        median heuristic on the training windows) and ``memorisation_ratio``.
    """
    cells = grid_cells(x_train) if representation == "raw-grid" else None
    real, syn = raw_channels(x_train, representation, cells), raw_channels(x_syn, representation, cells)
    psd = np.nan if real is None else quality.psd_distance(real, syn, y_train, y_syn, n_classes, sfreq)
    bandwidth = quality.median_bandwidth(x_train, rng=rng)
    return {
        "psd_distance": float(psd),
        "mmd": quality.mmd(x_syn, x_train, bandwidth=bandwidth, rng=rng),
        "memorisation_ratio": quality.memorisation_ratio(x_syn, x_train, x_holdout, rng=rng),
    }


def class_profiles(x_syn: np.ndarray, y_syn: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
                   representation: str, class_names: tuple[str, ...], band_names: tuple[str, ...], sfreq: float,
                   de_grids: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, object]:
    """Per-class mean spectra and DE grids of real training and synthetic windows.

    Parameters
    ----------
    x_syn, y_syn, x_train, y_train : see :func:`sample_metrics`
    representation : str
        Spectra are computed for ``raw`` and ``raw-grid``; DE grids come from ``de-grid``
        windows or from ``de_grids``.
    class_names, band_names : tuple of str
    sfreq : float
    de_grids : (real, synthetic), optional
        The same windows as DE grids, shapes (n_train, bands, 9, 9) and (n_syn, bands, 9, 9),
        when the representation is not ``de-grid`` but can be converted.

    Returns
    -------
    dict
        The keyword arguments of :func:`bench.quality_files.write_quality`: ``class_names`` (C,);
        with spectra ``freqs`` (F,), ``psd_real`` and ``psd_synthetic``
        (C, F), mean Welch power over windows and channels; with DE ``band_names`` (B,),
        ``de_real`` and ``de_synthetic`` (C, B, 9, 9). Rows of absent classes are NaN.
    """
    n_classes = len(class_names)
    out: dict[str, object] = {"class_names": list(class_names)}
    cells = grid_cells(x_train) if representation == "raw-grid" else None
    real = raw_channels(x_train, representation, cells)
    if real is not None:
        out["freqs"], out["psd_real"] = quality.class_psd(real, y_train, n_classes, sfreq)
        out["psd_synthetic"] = quality.class_psd(raw_channels(x_syn, representation, cells), y_syn, n_classes, sfreq)[1]
    if representation == "de-grid":
        de_grids = (x_train, x_syn)
    if de_grids is not None:
        out["band_names"] = list(band_names)
        out["de_real"] = quality.class_grid_means(de_grids[0], y_train, n_classes)
        out["de_synthetic"] = quality.class_grid_means(de_grids[1], y_syn, n_classes)
    return out


def classifier_metrics(reference: Classifier | None, make_classifier: Callable[[], Classifier], x_syn: np.ndarray,
                       y_syn: np.ndarray, x_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, n_classes: int,
                       rng: np.random.Generator, vs_test: bool = False) -> dict[str, float]:
    """Quality of synthetic windows as classifiers see them, in the classifier's representation.

    Parameters
    ----------
    reference : Classifier or None
        The fold's fitted no-augmentation classifier (trained on ``x_train`` only): its
        penultimate-layer features give the Frechet distance (NaN for a classifier without
        ``features``, the SVM), its balanced accuracy on the test fold the real-data score. None
        gives NaN for both.
    make_classifier : callable
        A new unfitted classifier of the cell's kind, for TSTR.
    x_syn : ndarray, shape (n_syn, *window shape)
    y_syn : ndarray of int, shape (n_syn,)
    x_train : ndarray, shape (n_train, *window shape)
        Real training windows of the fold.
    x_test, y_test : ndarray
        The real test fold.
    n_classes : int
    rng : numpy Generator
        Seeds the TSTR classifier's fit and the kernel distance's subsets.
    vs_test : bool
        Also compare with the test fold's features (``frechet_test``, ``kid_test``), as ESC-GAN's
        reference computes FID and KID (``train_gan.py``): a report, never a selection signal.

    Returns
    -------
    dict
        ``frechet`` and ``kid`` (synthetic vs real training windows; NaN without features),
        ``tstr_balanced_accuracy``, ``real_balanced_accuracy`` (the reference's), ``tstr_ratio``
        (:func:`bench.gate.tstr_ratio`) and, with ``vs_test``, ``frechet_test`` and ``kid_test``.
    """
    out = {"frechet": np.nan, "kid": np.nan}
    real = np.nan
    if reference is not None:
        real = classification_metrics(y_test, reference.predict_proba(x_test), n_classes)["balanced_accuracy"]
    if reference is not None and hasattr(reference, "features"):
        f_syn = reference.features(x_syn)
        for suffix, x_real in (("", x_train), ("_test", x_test))[: 1 + vs_test]:
            f_real = reference.features(x_real)
            out[f"frechet{suffix}"] = quality.frechet_distance(f_syn, f_real)
            out[f"kid{suffix}"] = quality.kernel_distance(f_syn, f_real, rng=rng)
    elif vs_test:
        out.update(frechet_test=np.nan, kid_test=np.nan)
    tstr = quality.tstr_score(make_classifier, x_syn, y_syn, x_test, y_test, n_classes, rng=rng)
    return {**{k: float(v) for k, v in out.items()}, "tstr_balanced_accuracy": float(tstr),
            "real_balanced_accuracy": float(real), "tstr_ratio": float(tstr_ratio(tstr, real))}
