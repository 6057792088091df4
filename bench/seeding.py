"""Seeds derived per use, never global.

One root seed per run; every use (a fold split, a method's fit, a classifier's initialisation)
derives its own generator from a stable hash of the root seed and a key naming the use::

    rng = derive(0, "synthetic", "valence", "fold", 3, "smote", "sample")

The same key always gives the same stream, on any machine and in any process, and two keys give
independent streams, so the order in which cells run never changes a result. Library code never
calls ``np.random.seed`` or ``torch.manual_seed`` on the global generators: torch code runs inside
:func:`torch_rng`, which forks torch's global state, seeds the fork and restores the original on
exit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


def seed_int(root: int, *key: object) -> int:
    """A 63-bit integer derived from the root seed and a key (stable across processes)."""
    text = "\x1f".join([str(int(root)), *map(str, key)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def derive(root: int, *key: object) -> np.random.Generator:
    """A fresh numpy Generator for one use, named by ``key``."""
    return np.random.default_rng(seed_int(root, *key))


@dataclass(frozen=True)
class SeedScope:
    """A root seed and the names of where it is used: the one builder of every seed key of a study.

    Every random stream of a study is ``scope.rng(*purpose)`` of a scope naming the data it works on,
    so a key is never assembled by hand (a typo there would silently change a stream)::

        data = SeedScope(0, ("synthetic", "valence", "trial-kfold"))
        data.rng("split")                                 # the protocol's folds
        fold = data.within(0, "fold-1")                   # one split of one root seed
        fold.rng("smote", "sample")                       # == derive(0, *fold.where, "smote", "sample")

    Parameters
    ----------
    root : int
        The root seed.
    where : tuple
        Names of the data the streams belong to, outermost first.
    """

    root: int
    where: tuple[object, ...] = ()

    def within(self, *names: object) -> SeedScope:
        """A narrower scope: ``where`` extended by ``names``."""
        return SeedScope(self.root, (*self.where, *names))

    def key(self, *purpose: object) -> tuple[object, ...]:
        """The full seed key of one use: ``(root, *where, *purpose)``, as :func:`derive` takes it."""
        return (self.root, *self.where, *purpose)

    def rng(self, *purpose: object) -> np.random.Generator:
        """The generator of one use, named by ``purpose``."""
        return derive(*self.key(*purpose))

    def seed(self, *purpose: object) -> int:
        """The 63-bit integer seed of one use (for libraries that take an integer seed)."""
        return seed_int(*self.key(*purpose))


def child_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit seed from ``rng`` (for libraries that take an integer ``random_state``)."""
    return int(rng.integers(0, 2**63 - 1))


def sklearn_seed(rng: np.random.Generator) -> int:
    """Draw a ``random_state`` for scikit-learn and imbalanced-learn, which accept only 0 .. 2**32 - 1."""
    return child_seed(rng) % 2**32


@contextlib.contextmanager
def torch_rng(rng: np.random.Generator) -> Iterator[None]:
    """Run torch code with its global CPU (and CUDA) generators seeded from ``rng``, then restore them.

    Weight initialisation, dropout and ``torch.randperm`` inside the block are reproducible for a
    given ``rng``; the caller's torch random state is the same after the block as before it.
    """
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(child_seed(rng))
        yield


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads, restoring the previous number afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
