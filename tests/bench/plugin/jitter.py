"""A plug-in method as another package would ship it (registered through an entry point in the tests)."""

from dataclasses import dataclass

import numpy as np

from bench import registry
from bench.components import Method, check_windows
from bench.config import ComponentConfig


@dataclass(frozen=True)
class JitterConfig(ComponentConfig):
    """``jitter`` has nothing to configure."""


@registry.METHODS.register("jitter")
class Jitter(Method):
    """Copies of random training windows of the class with small Gaussian jitter."""

    Config = JitterConfig
    representation = "de"

    def _fit(self, X, y, *, rng):
        self.X_, self.y_ = check_windows(X, y, self.info.n_classes, "jitter.fit")
        return self

    def _sample(self, counts, rng):
        parts, labels = [self.X_[:0]], [np.zeros(0, np.int64)]
        for label, n in sorted(counts.items()):
            pool = self.X_[self.y_ == label]
            if n:
                parts.append(pool[rng.integers(len(pool), size=n)] + 0.01 * rng.standard_normal((n, *pool.shape[1:])))
                labels.append(np.full(n, label, np.int64))
        return np.concatenate(parts), np.concatenate(labels)
