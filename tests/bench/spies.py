"""Spy components for leakage tests: they record the windows they are given, by row hash.

Every call appends ``(kind, hashes)`` to :data:`SEEN` (``method.fit``, ``classifier.fit``,
``classifier.predict``; subclasses may add kinds); :func:`seen` lists the calls of one kind.
"""

from __future__ import annotations

import hashlib

import numpy as np

from bench.components import Classifier, Method
from bench.config import ComponentConfig

SEEN: list[tuple[str, list[str]]] = []


def row_hashes(x: np.ndarray) -> list[str]:
    """One sha1 per window of ``x`` (n, ...), to find windows again in the dataset."""
    return [hashlib.sha1(np.ascontiguousarray(r).tobytes()).hexdigest() for r in x]


def seen(kind: str) -> list[list[str]]:
    """The row hashes of every recorded call of ``kind``, in call order."""
    return [hashes for k, hashes in SEEN if k == kind]


class SpyMethod(Method):
    """Records the windows its fit receives; adds nothing."""

    Config = ComponentConfig
    representation = "raw"

    def _fit(self, X, y, *, rng):
        SEEN.append(("method.fit", row_hashes(X)))
        self.shape_ = X.shape[1:]
        return self

    def _sample(self, counts, rng):
        return np.zeros((0,) + self.shape_, np.float32), np.zeros(0, np.int64)


class SpyClassifier(Classifier):
    """Records the windows of fit and of predict_proba; predicts the training prior."""

    Config = ComponentConfig
    representation = "raw"

    def _fit(self, X, y, *, rng):
        SEEN.append(("classifier.fit", row_hashes(X)))
        self.prior_ = np.bincount(y, minlength=self.info.n_classes) / len(y)
        return self

    def _predict_proba(self, X):
        SEEN.append(("classifier.predict", row_hashes(X)))
        return np.tile(self.prior_, (len(X), 1))
