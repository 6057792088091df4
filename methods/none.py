"""``none``: the no-augmentation baseline every method is compared against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.components import ANY, Method, check_windows
from bench.config import ComponentConfig
from bench.registry import METHODS


@dataclass(frozen=True)
class NoneConfig(ComponentConfig):
    """``none`` has nothing to configure."""


@METHODS.register("none")
class NoAugmentation(Method):
    """No augmentation: the classifier trains on the real training windows only.

    :meth:`sample` returns no windows whatever it is asked for, so a ``none`` cell measures the
    classifier on real data alone at the same protocol, folds and seeds as every other method.
    """

    Config = NoneConfig
    representation = ANY
    augments = False
    estimator_xfail = {"check_samplers_fit_resample": "the no-augmentation baseline adds no windows, whatever it is "
                                                      "asked for: it is the reference every method is compared with"}

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Check the windows (n, *window_shape) and labels (n,) and remember the window shape."""
        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        self.window_shape_ = X.shape[1:]

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """No windows: X of shape (0, *window_shape) float32 and y of shape (0,) int64."""
        return np.empty((0, *self.window_shape_), dtype=np.float32), np.empty(0, dtype=np.int64)
