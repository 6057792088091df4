"""Per-feature standardisation statistics, computed on training windows only.

Torch classifiers standardise their input with them, generators their training windows, and
attacks measure their budgets in their units (standard deviations of the real training windows).
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1024


def moments(X: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) standard deviation of ``X`` over ``axes``, constant features included.

    Parameters
    ----------
    X : ndarray, shape (n, *window shape)
    axes : tuple of int
        Must include 0; computed in float64, a chunk of windows at a time.

    Returns
    -------
    mean, std : ndarray of float64, shape of ``X`` with ``axes`` reduced to 1 (broadcastable)
    """
    chunks = [X[i : i + _CHUNK] for i in range(0, len(X), _CHUNK)]  # float64 temporaries stay small
    count = int(np.prod([X.shape[a] for a in axes]))
    mean = sum(c.sum(axis=axes, keepdims=True, dtype=np.float64) for c in chunks) / count
    std = np.sqrt(sum(np.square(c - mean).sum(axis=axes, keepdims=True) for c in chunks) / count)
    return mean, std


def varies(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Whether each feature varies: a standard deviation above float32 resolution of its mean."""
    return std > np.finfo(np.float32).eps * np.abs(mean)


def standardisation(X: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ``X`` over ``axes`` (which include the sample axis 0).

    A (numerically) constant feature, such as a grid cell outside the electrode hull, gets a
    standard deviation of 1 so that it maps to 0 instead of dividing by zero.

    Parameters
    ----------
    X : ndarray, shape (n, *window shape)
    axes : tuple of int
        Must include 0; see :func:`moments`.

    Returns
    -------
    mean, std : ndarray of float32, shape of ``X`` with ``axes`` reduced to 1 (broadcastable)
    """
    mean, std = moments(X, axes)
    std = np.where(varies(mean, std), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)
