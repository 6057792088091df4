"""The quality gate: whether an augmenting method's synthetic windows are worth training on.

A generator whose windows teach a classifier little can still sit next to ``none`` in the
leaderboard, because the real training windows carry the augmented classifier. The gate makes
that visible. Every cell whose generation quality is measured records the balanced accuracy of
the fold's real-data classifier on its test fold (``quality.real_balanced_accuracy``, see
:func:`bench.fold_quality.classifier_metrics`) next to train-on-synthetic-test-on-real
(``quality.tstr_balanced_accuracy``), and their ratio :func:`tstr_ratio`
(``quality.tstr_ratio``). :func:`judge` holds a leaderboard row's cells to a :class:`GateRule`;
a cell whose method produced fewer windows than it was asked for (``method.kept <
method.asked``) fails the row too.

A generator that trains with an inner validation split (:mod:`methods.gan.monitor`) also records
its inner signal (``method.fit.signal``: a small probe trained on its samples, scored on held-out
training trials) and the same probe trained on the real training windows
(``method.fit.signal_real``). Both are measured without the test fold. When their mean ratio is
below the rule the row fails with "did not learn"; when it passes but TSTR does not, the reason
says so ("learnt on the inner split"), so a row tells an untrained generator from one whose
samples do not carry over to the test fold.

The gate marks rows (``pass``, ``fail`` or empty where nothing was measured); it never drops or
reorders them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.errors import ConfigError

TSTR = "quality.tstr_balanced_accuracy"
REAL = "quality.real_balanced_accuracy"
SIGNAL = "method.fit.signal"
SIGNAL_REAL = "method.fit.signal_real"
ASKED = "method.asked"
KEPT = "method.kept"


@dataclass(frozen=True)
class GateRule:
    """How close train-on-synthetic must come to train-on-real for a row to pass.

    Parameters
    ----------
    ratio : float
        The mean over a row's cells of :func:`tstr_ratio` must be at least this; in (0, 1].
    fold_floor : float
        No single cell's ratio may be below this; in (0, ``ratio``].
    signal_ratio : float
        The mean over a row's cells of the inner signal over the probe on real windows (both on
        held-out training trials) must be at least this; in (0, 1].
    """

    ratio: float = 0.9
    fold_floor: float = 0.8
    signal_ratio: float = 0.9

    def __post_init__(self) -> None:
        for name in ("ratio", "fold_floor", "signal_ratio"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ConfigError(f"gate.{name} must be in (0, 1] (a fraction of the real-data classifier's "
                                  f"balanced accuracy), got {value!r}; e.g. --set gate.{name}=0.8")
        if self.fold_floor > self.ratio:
            raise ConfigError(f"gate.fold_floor must be <= gate.ratio (one fold cannot be held to more than the "
                              f"mean), got fold_floor={self.fold_floor:g} > ratio={self.ratio:g}; lower "
                              "gate.fold_floor or raise gate.ratio")

    def __str__(self) -> str:
        return (f"TSTR >= {self.ratio:g} x real (mean), >= {self.fold_floor:g} x real (every fold); "
                f"inner signal >= {self.signal_ratio:g} x real (mean)")


def tstr_ratio(tstr: float | pd.Series, real: float | pd.Series) -> float | pd.Series:
    """Train-on-synthetic balanced accuracy as a fraction of the real-data classifier's.

    Parameters
    ----------
    tstr, real : float or Series
        Balanced accuracies on the same test fold(s).

    Returns
    -------
    float or Series
        ``tstr / real``; NaN where either is NaN or ``real`` is not > 0.
    """
    return tstr / np.where(np.asarray(real) > 0, real, np.nan)


def judge(cells: pd.DataFrame, rule: GateRule) -> tuple[str, str]:
    """The gate of one leaderboard row.

    Parameters
    ----------
    cells : DataFrame
        The row's ``ok`` cells (one per seed x fold): ``fold``, ``seed`` and whichever of
        ``quality.tstr_balanced_accuracy``, ``quality.real_balanced_accuracy``, ``method.asked``,
        ``method.kept``, ``method.fit.signal`` and ``method.fit.signal_real`` the results table
        has. Cells without both numbers of a ratio are left out of that ratio's rule.
    rule : GateRule

    Returns
    -------
    gate : {"pass", "fail", ""}
        ``""`` when no cell has a TSTR or inner-signal ratio (``none``, quality off and no inner
        split, a table written before the gate) and none fell short of the windows asked for.
    reason : str
        Every broken rule, ``"; "``-joined, with the numbers and the worst cell; empty unless
        ``fail``.
    """
    cells = cells.reset_index(drop=True)
    reasons = []
    signal, signal_real = _numbers(cells, SIGNAL), _numbers(cells, SIGNAL_REAL)
    inner = tstr_ratio(signal, signal_real)
    has_inner = inner.notna()
    inner_mean = inner[has_inner].mean()  # NaN without an inner split: neither inner rule applies
    inner_words = (f"inner signal {signal[has_inner].mean():.3f} vs probe on real {signal_real[has_inner].mean():.3f} "
                   f"(ratio {inner_mean:.3f}")
    if inner_mean < rule.signal_ratio:
        reasons.append(f"did not learn (held-out training trials, no test data): {inner_words} < "
                       f"{rule.signal_ratio:g})")
    if ASKED in cells and KEPT in cells:
        asked, kept = _numbers(cells, ASKED), _numbers(cells, KEPT)
        short = kept < asked
        if short.any():
            worst = (kept / asked)[short].idxmin()
            reasons.append(f"generator produced {kept[worst]:.0f} of {asked[worst]:.0f} windows asked for "
                           f"{_where(cells, short, worst)}")
    tstr, real = _numbers(cells, TSTR), _numbers(cells, REAL)
    ratio = tstr_ratio(tstr, real)
    measured = ratio.notna()
    below = []
    if measured.any():
        mean = ratio[measured].mean()
        if mean < rule.ratio:
            below.append(f"generator below gate: TSTR {tstr[measured].mean():.3f} vs real "
                         f"{real[measured].mean():.3f} (ratio {mean:.3f} < {rule.ratio:g})")
        low = ratio < rule.fold_floor
        if low.any():
            worst = ratio[low].idxmin()
            below.append(f"generator below fold floor {_where(cells, low, worst)}: TSTR {tstr[worst]:.3f} vs "
                         f"real {real[worst]:.3f} (ratio {ratio[worst]:.3f} < {rule.fold_floor:g})")
    reasons += below
    if below and inner_mean >= rule.signal_ratio:
        reasons.append(f"learnt on the inner split: {inner_words} >= {rule.signal_ratio:g})")
    if reasons:
        return "fail", "; ".join(reasons)
    return ("pass", "") if measured.any() or has_inner.any() else ("", "")


def _numbers(cells: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as floats (NaN where missing or not a number; all NaN when the table lacks it)."""
    if column not in cells:
        return pd.Series(np.nan, index=cells.index)
    return pd.to_numeric(cells[column], errors="coerce").astype(np.float64)


def _where(cells: pd.DataFrame, flagged: pd.Series, worst: object) -> str:
    """``on fold-1, seed 0``, or ``on 2 of 5 folds, worst fold-1, seed 0``, for the flagged cells."""
    at = str(cells.at[worst, "fold"]) + (f", seed {cells.at[worst, 'seed']}" if "seed" in cells else "")
    n = int(flagged.sum())
    return f"on {at}" if n == 1 else f"on {n} of {len(cells)} folds, worst {at}"
