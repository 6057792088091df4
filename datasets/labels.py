"""Class labels from ratings, with the threshold and comparison always explicit.

The literature binarises 1-9 ratings in incompatible ways (TorchEEG and ESC-GAN: ``>= 5`` is
high; DE-3DGAN: ``> 5``; EEGain: ``> 4.5``), so both numbers are config values, recorded with
every result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.errors import ConfigError, DataFormatError

TASKS = ("valence", "arousal", "quadrant", "emotion")
COMPARISONS = (">=", ">")
QUADRANT_NAMES = ("LV-LA", "HV-LA", "LV-HA", "HV-HA")
EMOTION_NAMES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class LabelConfig:
    """How a task turns ratings into class labels.

    Parameters
    ----------
    task : {"valence", "arousal", "quadrant", "emotion"}
        ``valence`` / ``arousal``: binary, 1 = high. ``quadrant``: 4 classes,
        ``1*[valence high] + 2*[arousal high]`` (0 LV-LA, 1 HV-LA, 2 LV-HA, 3 HV-HA).
        ``emotion``: SEED's film labels -1/0/1 mapped to 0/1/2.
    threshold : float
        Rating that separates low from high.
    comparison : {">=", ">"}
        ``">="``: a rating equal to the threshold is high (TorchEEG, ESC-GAN);
        ``">"``: it is low (DE-3DGAN).
    """

    task: str = "valence"
    threshold: float = 5.0
    comparison: str = ">="

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"labels.task must be one of {TASKS}, got {self.task!r}")
        if self.comparison not in COMPARISONS:
            raise ConfigError(f"labels.comparison must be '>=' or '>', got {self.comparison!r}")
        if not np.isfinite(self.threshold):
            raise ConfigError(f"labels.threshold must be a finite number, got {self.threshold!r}")

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the classes, indexed by label."""
        if self.task == "quadrant":
            return QUADRANT_NAMES
        if self.task == "emotion":
            return EMOTION_NAMES
        return (f"low-{self.task}", f"high-{self.task}")


def is_high(ratings: np.ndarray, threshold: float, comparison: str) -> np.ndarray:
    """Boolean ``ratings >= threshold`` or ``ratings > threshold``; NaN is an error."""
    if np.isnan(ratings).any():
        raise DataFormatError(f"{int(np.isnan(ratings).sum())} ratings are NaN; bench never invents labels")
    return ratings >= threshold if comparison == ">=" else ratings > threshold


def make_labels(ratings: np.ndarray, rating_names: tuple[str, ...], config: LabelConfig) -> np.ndarray:
    """Class labels for every row of ``ratings``.

    Parameters
    ----------
    ratings : ndarray, shape (n, n_ratings)
    rating_names : tuple of str
        Column names of ``ratings``.
    config : LabelConfig

    Returns
    -------
    ndarray of int64, shape (n,)
    """

    def column(name: str) -> np.ndarray:
        if name not in rating_names:
            raise ConfigError(
                f"task {config.task!r} needs a {name!r} rating, but this dataset has "
                f"{', '.join(rating_names)}; choose one of its tasks"
            )
        return ratings[:, rating_names.index(name)]

    if config.task == "emotion":
        values = column("emotion")
        if not np.isin(values, (-1, 0, 1)).all():
            raise DataFormatError(f"emotion labels must be -1, 0 or 1, got {np.unique(values).tolist()}")
        return (values + 1).astype(np.int64)
    def high(name: str) -> np.ndarray:
        return is_high(column(name), config.threshold, config.comparison).astype(np.int64)

    if config.task == "quadrant":
        return high("valence") + 2 * high("arousal")
    return high(config.task)
