"""The hard-case protocol: one class or valence-arousal quadrant of every training fold made rare.

ESC-GAN's poster (Zhang et al., AAAI 2024, Fig. 1) removes training samples of a "control
quadrant" of DEAP until 10-50 % of them remain and reports the minority-class and overall
accuracy before and after augmentation. :class:`HardCase` names what is thinned and how much is
kept; :func:`thin_fold` applies it to one fold's training windows. Test folds are never touched,
so the thinned class is scored on all of its windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from bench.errors import ConfigError
from bench.protocols import Fold
from datasets.labels import QUADRANT_NAMES

SELECTS = ("class", "quadrant")


@dataclass(frozen=True)
class HardCase:
    """What the hard-case protocol thins (YAML ``hard_case: {select: quadrant, value: 0, keep: 0.3}``).

    Parameters
    ----------
    select : {"class", "quadrant"}
        ``class``: windows whose task label is ``value``. ``quadrant``: windows whose
        valence-arousal quadrant (0 LV-LA, 1 HV-LA, 2 LV-HA, 3 HV-HA, with the study's label rule)
        is ``value``, whatever the task.
    value : int
        The class or quadrant thinned.
    keep : float
        Fraction of its training windows kept, in (0, 1] (the poster: 0.1 to 0.5).
    """

    select: str = "class"
    value: int = 1
    keep: float = 0.5

    def __post_init__(self) -> None:
        if self.select not in SELECTS:
            raise ConfigError(f"hard_case.select must be one of {SELECTS}, got {self.select!r}")
        if self.select == "quadrant" and not 0 <= self.value < len(QUADRANT_NAMES):
            raise ConfigError(f"hard_case.value must be a quadrant 0..3 ({', '.join(QUADRANT_NAMES)}), got {self.value}")
        if self.value < 0:
            raise ConfigError(f"hard_case.value must be a class >= 0, got {self.value}")
        if not (math.isfinite(self.keep) and 0 < self.keep <= 1):
            raise ConfigError(f"hard_case.keep must be a fraction in (0, 1], got {self.keep!r}; e.g. 0.3 keeps 30 %")


def selected_windows(hard: HardCase, y: np.ndarray, quadrant: np.ndarray) -> np.ndarray:
    """Which windows ``hard`` thins, shape (n,), bool.

    Parameters
    ----------
    hard : HardCase
    y : ndarray of int, shape (n,)
        The task's labels.
    quadrant : ndarray of int, shape (n,)
        Every window's valence-arousal quadrant (only read for ``select="quadrant"``).

    Raises
    ------
    ConfigError
        When no window is selected (e.g. a class the task does not have).
    """
    selected = (y if hard.select == "class" else quadrant) == hard.value
    if not selected.any():
        raise ConfigError(f"hard_case: {hard.select} {hard.value} holds no window of this dataset and task; "
                          f"choose one of {sorted(set(np.unique(y if hard.select == 'class' else quadrant).tolist()))}")
    return selected


def thin_fold(fold: Fold, selected: np.ndarray, keep: float, rng: np.random.Generator) -> Fold:
    """The fold with all but ``round(keep * k)`` of its ``k`` selected training windows removed.

    Parameters
    ----------
    fold : bench.protocols.Fold
    selected : ndarray of bool, shape (n_windows,)
        Windows of the thinned class or quadrant (over the whole dataset).
    keep : float
        Fraction kept, in (0, 1]; at least one selected window stays when there was one.
    rng : numpy Generator
        Which windows stay (uniformly, without replacement).

    Returns
    -------
    Fold
        Same name and test windows; training windows sorted.
    """
    train = np.asarray(fold.train)
    chosen = train[selected[train]]
    if not len(chosen):
        return fold
    n_keep = max(1, int(round(keep * len(chosen))))
    dropped = np.setdiff1d(chosen, rng.choice(chosen, size=n_keep, replace=False))
    return replace(fold, train=np.setdiff1d(train, dropped))
