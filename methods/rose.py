"""``rose``: Random Over-Sampling Examples, a smoothed bootstrap of each class, through imbalanced-learn."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.components import ANY, Method, check_windows
from bench.config import ComponentConfig
from bench.errors import ConfigError, MethodError
from bench.registry import METHODS
from bench.seeding import sklearn_seed


@dataclass(frozen=True)
class RoseConfig(ComponentConfig):
    """Parameters of :class:`Rose`.

    Parameters
    ----------
    shrinkage : float
        Width of the Gaussian kernel around each drawn window, as a multiple of the rule-of-thumb
        bandwidth of its class (imbalanced-learn's ``shrinkage``); 0 duplicates windows exactly.
    """

    shrinkage: float = 1.0

    def __post_init__(self) -> None:
        value = self.shrinkage
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"rose.shrinkage must be a finite number >= 0, got {value!r}; e.g. 1.0")

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``shrinkage`` from 0 to 3."""
        return {"shrinkage": trial.suggest_float("shrinkage", 0.0, 3.0)}


@METHODS.register("rose")
class Rose(Method):
    """ROSE: new windows of a class drawn from a Gaussian kernel around randomly chosen windows of that class.

    A smoothed bootstrap (Menardi and Torelli, "Training and assessing classification rules with
    imbalanced data", Data Mining and Knowledge Discovery 28, 2014), computed by imbalanced-learn's
    ``RandomOverSampler(shrinkage=...)`` on the flattened windows of the training fold. Works in
    whatever representation the classifier consumes.
    """

    Config = RoseConfig
    representation = ANY
    config: RoseConfig

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Keep the training windows ``X`` (n, *window shape), flattened, and their labels ``y`` (n,)."""
        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        self.window_shape_ = X.shape[1:]
        self.X_ = X.reshape(len(X), -1).astype(np.float64)
        self.y_ = y.copy()

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        from imblearn.over_sampling import RandomOverSampler

        parts = [np.empty((0, self.X_.shape[1]))]
        labels = [np.empty(0, dtype=np.int64)]
        for label, n in sorted(counts.items()):
            have = int((self.y_ == label).sum())
            if n and not have:
                raise MethodError(f"{self.name}: asked for {n} windows of class {label}, which the training fold lacks")
            if not n:
                continue
            sampler = RandomOverSampler(sampling_strategy={label: have + n}, shrinkage=self.config.shrinkage,
                                        random_state=sklearn_seed(rng))
            X_all, _ = sampler.fit_resample(self.X_, self.y_)
            parts.append(X_all[len(self.X_):])  # imbalanced-learn appends the new windows after the originals
            labels.append(np.full(n, label, dtype=np.int64))
        return np.concatenate(parts).reshape(-1, *self.window_shape_), np.concatenate(labels)
