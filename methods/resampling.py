"""What the methods that perturb or mix real training windows share: keeping the windows, and
drawing them per class."""

from __future__ import annotations

import numpy as np

from bench.components import ANY, Method, check_windows
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


class WindowPool(Method):
    """Base of methods that build synthetic windows from the real training windows (noise, mixup).

    ``fit`` keeps references to the training windows (never copies or modifies them) as ``X_``
    and ``y_``; subclasses draw from them with :func:`draw_from_classes`.
    """

    representation = ANY

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Keep the training windows.

        Parameters
        ----------
        X : ndarray, shape (n, *window_shape)
            Training windows in any representation, e.g. (n, C, T) or (n, B, 9, 9).
        y : ndarray of int, shape (n,)
        rng : numpy Generator
            Unused: fitting is deterministic.
        """
        self.X_, self.y_ = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
