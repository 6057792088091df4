"""Adversarial attacks on trained classifiers (registry ``ATTACKS``).

Only the clean evaluation exists so far; torchattacks-based attacks register here.
"""

from __future__ import annotations

import numpy as np

from bench.registry import ATTACKS


@ATTACKS.register("none")
class NoAttack:
    """Clean evaluation: the test fold is scored as it is."""

    def perturb(self, model: object, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return ``X`` unchanged, shape (n, *representation)."""
        return X
