"""Test-fold scores of the last N training epochs: DE-3DGAN's reported mean and max.

DE-3DGAN's reference scores the test fold after every fine-tuning epoch and reports the mean and
the max of the last 100 (``Finetune_Classifier_Valence.py``). :class:`LastEpochs` hooks into a
torch classifier's ``on_epoch`` and does the same, so the study can report it next to the
last-epoch score. The scores never reach training: nothing is selected or stopped on them. The
max is test-selected, hence optimistic, and is reported only as the reference's number.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from bench.errors import ConfigError
from bench.metrics import classification_metrics

REPORTED = ("accuracy", "balanced_accuracy", "macro_f1", "f1", "auroc")
"""Metrics whose last-N mean and max are reported."""


class LastEpochs:
    """Scores ``x_test`` after every epoch of a classifier's training, keeping the last ``n``.

    Parameters
    ----------
    n : int
        Epochs kept (>= 1).
    x_test : ndarray, shape (n_test, *window shape)
    y_test : ndarray of int, shape (n_test,)
    n_classes : int
    """

    def __init__(self, n: int, x_test: np.ndarray, y_test: np.ndarray, n_classes: int) -> None:
        if n < 1:
            raise ConfigError(f"epoch_metrics must be >= 1 epoch to keep, got {n}")
        self.x_test, self.y_test, self.n_classes = x_test, y_test, n_classes
        self.scores: deque[dict[str, float]] = deque(maxlen=n)
        self._previous: Any = None

    def install(self, classifier: Any) -> LastEpochs:
        """Chain onto ``classifier.on_epoch`` (keeping any hook already there); returns self.

        Call :meth:`remove` after training: the hook holds the test fold and is a closure, which
        neither belongs on a classifier that outlives the cell nor pickles.
        """
        previous = self._previous = classifier.on_epoch

        def on_epoch(epoch: int, loss: float) -> None:
            if previous is not None:
                previous(epoch, loss)
            proba = classifier.predict_proba(self.x_test)
            self.scores.append(classification_metrics(self.y_test, proba, self.n_classes))

        classifier.hook(on_epoch=on_epoch)
        return self

    def remove(self, classifier: Any) -> None:
        """Put back the hook :meth:`install` found on ``classifier`` (None when there was none)."""
        classifier.hook(on_epoch=self._previous)

    def summary(self) -> dict[str, float]:
        """``last_mean_<m>`` and ``last_max_<m>`` of every reported metric, and ``last_epochs`` (how many).

        Empty when no epoch was scored.
        """
        if not self.scores:
            return {}
        out = {"last_epochs": float(len(self.scores))}
        for name in REPORTED:
            values = np.array([s[name] for s in self.scores], dtype=np.float64)
            kept = values[~np.isnan(values)]
            out[f"last_mean_{name}"] = float(kept.mean()) if kept.size else float("nan")
            out[f"last_max_{name}"] = float(kept.max()) if kept.size else float("nan")
        return out
