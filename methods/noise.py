"""``noise``: real training windows with Gaussian noise scaled to each feature's spread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.config import ComponentConfig
from bench.errors import ConfigError
from bench.registry import METHODS
from methods.resampling import WindowPool, draw_from_classes


def feature_std(X: np.ndarray) -> np.ndarray:
    """Standard deviation of every feature (every non-sample position) over the windows.

    Parameters
    ----------
    X : ndarray, shape (n, *window_shape)

    Returns
    -------
    ndarray of float32, shape window_shape
    """
    return X.std(axis=0, dtype=np.float64).astype(np.float32)


@dataclass(frozen=True)
class NoiseConfig(ComponentConfig):
    """Parameters of :class:`GaussianNoise`.

    Parameters
    ----------
    sigma : float
        Noise standard deviation in units of each feature's training standard deviation.
    """

    sigma: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, (int, float)) or not (
            math.isfinite(self.sigma) and self.sigma > 0
        ):
            raise ConfigError(
                f"noise.sigma must be a finite number > 0 (noise std in feature stds), got {self.sigma!r}; "
                "e.g. 0.1"
            )

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``sigma`` on a log scale from 0.01 to 1 feature standard deviation."""
        return {"sigma": trial.suggest_float("sigma", 0.01, 1.0, log=True)}


@METHODS.register("noise")
class GaussianNoise(WindowPool):
    """Gaussian noise: real windows of the class plus noise of sigma x each feature's std.

    Each synthetic window is a training window of the requested class, drawn uniformly with
    replacement, plus independent Gaussian noise whose standard deviation at every feature (every
    position of the window: channel x time, channel x band, band x grid cell ...) is
    ``sigma`` times that feature's standard deviation over the whole training fold, all classes
    pooled. Noise injection is the classic augmentation baseline, used for EEG emotion recognition
    by e.g. Wang et al., "Data augmentation for EEG-based emotion recognition with deep
    convolutional neural networks", MMM 2018.

    Notes
    -----
    A feature that is constant over the training fold (the empty cells of a 9x9 grid) gets no
    noise, so synthetic windows keep the representation's structural zeros.
    """

    Config = NoiseConfig

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Keep the training windows (n, *window_shape) and each feature's standard deviation."""
        super()._fit(X, y, rng=rng)
        self.scale_ = np.float32(self.config.sigma) * feature_std(self.X_)

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Noisy copies of drawn training windows.

        Returns
        -------
        X : ndarray of float32, shape (sum of counts, *window_shape)
        y : ndarray of int64, shape (sum of counts,)
        """
        idx = draw_from_classes(self.y_, counts, rng, self.name)
        noise = rng.standard_normal((idx.size, *self.X_.shape[1:]), dtype=np.float32)
        return self.X_[idx] + self.scale_ * noise, self.y_[idx]
