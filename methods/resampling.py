"""Drawing real training windows per class, shared by the methods that perturb or mix them."""

from __future__ import annotations

import numpy as np

from bench.errors import MethodError


def draw_from_classes(y: np.ndarray, counts: dict[int, int], rng: np.random.Generator, where: str) -> np.ndarray:
    """Indices of training windows drawn with replacement, ``counts[c]`` of each class ``c``.

    Parameters
    ----------
    y : ndarray of int64, shape (n,)
        Training labels.
    counts : dict of int to int
        Windows wanted per class; zero counts are allowed.
    rng : numpy Generator
    where : str
        Method name used in error messages.

    Returns
    -------
    ndarray of intp, shape (sum of counts,)
        Indices into ``y``, grouped by class in ascending class order.

    Raises
    ------
    MethodError
        When a positive count asks for a class with no training window.
    """
    parts = [np.empty(0, dtype=np.intp)]
    for label, count in sorted(counts.items()):
        if count == 0:
            continue
        pool = np.flatnonzero(y == label)
        if pool.size == 0:
            raise MethodError(
                f"{where}: asked for {count} windows of class {label}, but the training fold given to "
                f"fit has no window of class {label}; ask only for classes present in the training fold"
            )
        parts.append(pool[rng.integers(0, pool.size, size=count)])
    return np.concatenate(parts)
