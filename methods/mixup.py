"""``mixup``: convex combinations of pairs of real training windows (Zhang et al. 2018)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.config import ComponentConfig
from bench.errors import ConfigError
from bench.registry import METHODS
from methods.resampling import WindowPool, draw_from_classes

MODES = ("within-class", "label-mixing")


def mixing_weights(alpha: float, n: int, rng: np.random.Generator, *, dominant: bool) -> np.ndarray:
    """Mixing weights ``lam ~ Beta(alpha, alpha)``, folded to ``max(lam, 1 - lam)`` when ``dominant``.

    Returns
    -------
    ndarray of float32, shape (n,)
        Weight of the first window of each pair, in [0, 1] (in [0.5, 1] when ``dominant``).
    """
    lam = rng.beta(alpha, alpha, size=n)
    if dominant:
        lam = np.maximum(lam, 1.0 - lam)
    return lam.astype(np.float32)


def mix(X_a: np.ndarray, X_b: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``lam * X_a + (1 - lam) * X_b`` window by window.

    Parameters
    ----------
    X_a, X_b : ndarray, shape (n, *window_shape)
    lam : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n, *window_shape)
    """
    w = lam.reshape(-1, *([1] * (X_a.ndim - 1)))
    return w * X_a + (1 - w) * X_b


@dataclass(frozen=True)
class MixupConfig(ComponentConfig):
    """Parameters of :class:`Mixup`.

    Parameters
    ----------
    alpha : float
        Shape of the symmetric Beta(alpha, alpha) the mixing weight is drawn from; small values
        keep synthetic windows close to one of the two real ones.
    mode : {"within-class", "label-mixing"}
        Where the second window of a pair comes from: the requested class, or any class.
    """

    alpha: float = 0.2
    mode: str = "within-class"

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not (
            math.isfinite(self.alpha) and self.alpha > 0
        ):
            raise ConfigError(f"mixup.alpha must be a finite number > 0 (Beta shape), got {self.alpha!r}; e.g. 0.2")
        if self.mode not in MODES:
            raise ConfigError(f"mixup.mode must be one of {MODES}, got {self.mode!r}")

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``alpha`` on a log scale from 0.05 to 2, and the mode."""
        return {
            "alpha": trial.suggest_float("alpha", 0.05, 2.0, log=True),
            "mode": trial.suggest_categorical("mode", list(MODES)),
        }


@METHODS.register("mixup")
class Mixup(WindowPool):
    """mixup: convex combinations of two real windows (Zhang et al. 2018, ICLR).

    H. Zhang, M. Cisse, Y. N. Dauphin and D. Lopez-Paz, "mixup: Beyond Empirical Risk
    Minimization", ICLR 2018. Each synthetic window is ``lam * x_i + (1 - lam) * x_j`` with
    ``lam ~ Beta(alpha, alpha)``, ``x_i`` a training window of the requested class and ``x_j``
    a second training window, both drawn uniformly with replacement. With ``mode="within-class"``
    ``x_j`` is of the requested class too; with ``mode="label-mixing"`` it is of any class.

    Notes
    -----
    Deviations from the paper:

    - The paper mixes the pairs of each minibatch on the fly during training; here mixed windows
      are generated once, up front, at the budget the runner's augmentation policy asks for, like
      every other method.
    - The paper mixes the one-hot labels as well (``lam * y_i + (1 - lam) * y_j``). The harness
      trains classifiers on hard labels, so ``label-mixing`` folds the weight to
      ``max(lam, 1 - lam)``: the window of the requested class always weighs at least 0.5, and
      the synthetic window carries the requested class as its hard label.
    """

    Config = MixupConfig

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Mixed pairs of training windows.

        Returns
        -------
        X : ndarray of float32, shape (sum of counts, *window_shape)
        y : ndarray of int64, shape (sum of counts,)
        """
        first = draw_from_classes(self.y_, counts, rng, self.name)
        label_mixing = self.config.mode == "label-mixing"
        if label_mixing:
            second = rng.integers(0, len(self.y_), size=first.size)
        else:
            second = draw_from_classes(self.y_, counts, rng, self.name)
        lam = mixing_weights(self.config.alpha, first.size, rng, dominant=label_mixing)
        return mix(self.X_[first], self.X_[second], lam), self.y_[first]
