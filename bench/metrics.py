"""Scores of a classifier's predictions on one test fold, and their aggregation over folds.

Pure functions over arrays, built on :mod:`sklearn.metrics`. A metric that is undefined on a
fold (the recall of a class the fold does not contain, AUROC of a fold with a missing class) is
NaN rather than an exception, and :func:`aggregate` ignores NaN when it averages over folds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm

from bench.errors import ConfigError


def _check(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if n_classes < 2:
        raise ConfigError(f"n_classes must be at least 2, got {n_classes}")
    if y_true.ndim != 1 or y_true.size == 0 or not np.issubdtype(y_true.dtype, np.integer):
        raise ConfigError(f"y_true must be a non-empty 1-D integer array, got {y_true.dtype} of shape {y_true.shape}")
    if y_true.min() < 0 or y_true.max() >= n_classes:
        raise ConfigError(f"y_true must hold labels 0..{n_classes - 1}, got {np.unique(y_true).tolist()}")
    if proba.shape != (y_true.size, n_classes):
        raise ConfigError(
            f"proba must have shape (n_samples, n_classes) = ({y_true.size}, {n_classes}), got {proba.shape}"
        )
    return y_true.astype(np.int64, copy=False), proba


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of true class (rows) against predicted class (columns).

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (n,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
        Rows and columns are always ``0 .. n_classes - 1``, so a class absent from both
        ``y_true`` and ``y_pred`` gets a zero row and column.
    """
    return skm.confusion_matrix(y_true, y_pred, labels=np.arange(n_classes)).astype(np.int64)


def _auroc(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    """Binary AUROC of class 1, or one-vs-rest macro AUROC; NaN unless every class occurs."""
    if np.unique(y_true).size < n_classes:
        return float("nan")
    if n_classes == 2:
        return float(skm.roc_auc_score(y_true, proba[:, 1]))
    return float(skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=np.arange(n_classes)))


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, n_classes: int, minority: int | None = None
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1, per-class recall and AUROC of one test fold.

    Parameters
    ----------
    y_true : ndarray of int, shape (n,)
        True labels in ``0 .. n_classes - 1``.
    proba : ndarray of float, shape (n, n_classes)
        Predicted class probabilities (rows sum to 1); the prediction is the arg-max.
    n_classes : int
        Number of classes of the task (at least 2).
    minority : int, optional
        The class whose recall is reported again as ``minority_recall``; the runner passes the
        rarest class of the training fold.

    Returns
    -------
    dict of str to float
        ``accuracy``; ``balanced_accuracy`` (mean recall over the classes present in
        ``y_true``, as :func:`sklearn.metrics.balanced_accuracy_score`); ``macro_f1`` (over the
        classes present in ``y_true`` or predicted); ``recall_<k>`` for every class ``k``, NaN
        when ``k`` is absent from ``y_true``; ``minority_recall`` (only when ``minority`` is
        given); ``f1``: for two classes the binary F1 of class 1 (as DE-3DGAN's reference reports,
        ``sklearn.metrics.f1_score`` with its defaults), NaN for more classes; ``auroc``: for two classes the AUROC of ``proba[:, 1]``, otherwise the
        one-vs-rest macro AUROC, NaN when a class is absent from ``y_true`` (one of its
        one-vs-rest terms is then undefined); ``n``: the number of samples.

    Raises
    ------
    ConfigError
        For labels outside ``0 .. n_classes - 1``, a shape mismatch, an empty fold or a
        ``minority`` that is not a class.
    """
    y_true, proba = _check(y_true, proba, n_classes)
    y_pred = proba.argmax(axis=1)
    recall = skm.recall_score(y_true, y_pred, labels=np.arange(n_classes), average=None, zero_division=np.nan)
    out = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(np.nanmean(recall)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, average="macro")),
    }
    out.update({f"recall_{k}": float(r) for k, r in enumerate(recall)})
    if minority is not None:
        if not 0 <= minority < n_classes:
            raise ConfigError(f"minority must be a class in 0..{n_classes - 1}, got {minority}")
        out["minority_recall"] = float(recall[minority])
    out["f1"] = float(skm.f1_score(y_true, y_pred, pos_label=1, zero_division=0.0)) if n_classes == 2 else float("nan")
    out["auroc"] = _auroc(y_true, proba, n_classes)
    out["n"] = float(y_true.size)
    return out


def aggregate(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard deviation of per-fold values, ignoring NaN.

    Parameters
    ----------
    values : sequence of float, length n_folds

    Returns
    -------
    mean, std : float
        Over the non-NaN values; ``std`` uses ``ddof=1`` when there are at least two of them
        and is 0.0 for one. Both are NaN when every value is NaN (or there are none).
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    kept = values[~np.isnan(values)]
    if kept.size == 0:
        return float("nan"), float("nan")
    std = float(kept.std(ddof=1)) if kept.size >= 2 else 0.0
    return float(kept.mean()), std
