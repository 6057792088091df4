"""The augmentation policy: how many synthetic windows of each class every method is asked for.

The runner, not the method, decides the budget, so every method is compared at the same one::

    policy = Policy.parse("ratio=0.5")
    n_per_class = policy.requests(y_train, n_classes=2)   # {0: 30, 1: 20} for 60 + 40 windows
    X_syn, y_syn = method.sample(n_per_class, rng=rng)

Accepted forms (``str(policy)`` gives them back, so ``Policy.parse(str(p)) == p``):

- ``balance``: top every class up to the largest class;
- ``ratio=R``: add ``round(R * n_train)`` windows in total, shared over the classes in proportion
  to their training counts;
- ``counts=0:100,1:50``: exactly these many windows of each listed class;
- ``none``: ask for nothing (runs the classifiers on real data alone).

A class with no training windows is never asked for: a generator cannot create a class it has
never seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.components import check_counts, check_labels
from bench.config import TextForm
from bench.errors import ConfigError

KINDS = ("balance", "ratio", "counts", "none")
FORMS = "'balance', 'ratio=R' (R > 0, e.g. ratio=0.5), 'counts=0:100,1:50' or 'none'"


def _form_error(text: str, why: str) -> ConfigError:
    return ConfigError(f"augmentation policy {text!r} {why}; accepted forms: {FORMS}")


def _parse_counts(text: str, body: str) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in body.split(","):
        label, _, count = item.partition(":")
        try:
            pairs.append((int(label), int(count)))
        except ValueError:
            raise _form_error(text, f"has the item {item.strip()!r}, which is not class:count") from None
    return tuple(pairs)


def proportional_split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum to exactly ``total`` (largest remainders).

    Parameters
    ----------
    total : int
        Non-negative number to share out.
    weights : ndarray of int, shape (n_classes,)
        Non-negative weights with a positive sum; a zero weight always gets 0.

    Returns
    -------
    ndarray of int64, shape (n_classes,)
        Each share is the floor of its exact quota ``total * w / sum(w)``; the ``total - sum``
        left over go one each to the largest fractional parts (ties: lower class first).
    """
    quota = total * weights / weights.sum()
    shares = np.floor(quota).astype(np.int64)
    left = total - int(shares.sum())
    shares[np.argsort(-(quota - shares), kind="stable")[:left]] += 1
    return shares


@dataclass(frozen=True)
class Policy(TextForm):
    """How many synthetic windows of each class to request.

    Parameters
    ----------
    kind : {"balance", "ratio", "counts", "none"}
    ratio : float, optional
        Synthetic windows per training window, > 0; only (and required) for ``kind="ratio"``.
    counts : tuple of (class, count) pairs, optional
        Explicit per-class requests; only (and required) for ``kind="counts"``. Stored sorted by
        class.
    """

    kind: str
    ratio: float | None = None
    counts: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"augmentation policy kind must be one of {KINDS}, got {self.kind!r}; accepted forms: {FORMS}")
        if (self.ratio is not None) != (self.kind == "ratio"):
            raise ConfigError(f"augmentation policy {self.kind!r}: ratio is given exactly for kind 'ratio', got ratio={self.ratio!r}")
        if (self.counts is not None) != (self.kind == "counts"):
            raise ConfigError(f"augmentation policy {self.kind!r}: counts are given exactly for kind 'counts', got counts={self.counts!r}")
        if self.ratio is not None:
            if isinstance(self.ratio, bool) or not isinstance(self.ratio, (int, float)) or not (0 < self.ratio < math.inf):
                raise ConfigError(f"augmentation policy ratio must be a finite number > 0, got {self.ratio!r}; e.g. ratio=0.5")
            object.__setattr__(self, "ratio", float(self.ratio))
        if self.counts is not None:
            self._check_counts()

    def _check_counts(self) -> None:
        pairs = [tuple(pair) for pair in self.counts]
        if not pairs:
            raise ConfigError("augmentation policy counts list no class; write e.g. counts=0:100,1:50 (or use 'none')")
        for pair in pairs:
            if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in pair):
                raise ConfigError(
                    f"augmentation policy counts: {pair!r} is not a (class, count) pair of non-negative "
                    "integers; write e.g. counts=0:100,1:50"
                )
        labels = [label for label, _ in pairs]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"augmentation policy counts name a class twice: {self.counts}; give each class once")
        object.__setattr__(self, "counts", tuple(sorted((int(k), int(v)) for k, v in pairs)))

    @classmethod
    def parse(cls, text: str) -> Policy:
        """The policy written as ``balance``, ``ratio=R``, ``counts=k:n,...`` or ``none``.

        Raises
        ------
        ConfigError
            For any other text, listing the accepted forms.
        """
        head, sep, body = str(text).strip().partition("=")
        head, body = head.strip(), body.strip()
        if head in ("balance", "none") and not sep:
            return cls(head)
        if head == "ratio" and sep:
            try:
                ratio = float(body)
            except ValueError:
                raise _form_error(text, "has a ratio that is not a number") from None
            return cls("ratio", ratio=ratio)
        if head == "counts" and sep:
            return cls("counts", counts=_parse_counts(text, body))
        raise _form_error(text, "is not understood")

    def __str__(self) -> str:
        if self.kind == "ratio":
            return f"ratio={self.ratio!r}"
        if self.kind == "counts":
            return "counts=" + ",".join(f"{k}:{v}" for k, v in self.counts)
        return self.kind

    def requests(self, y_train: np.ndarray, n_classes: int) -> dict[int, int]:
        """Synthetic windows to request per class for one training fold.

        Parameters
        ----------
        y_train : ndarray of int, shape (n_train,)
            Labels of the real training windows, in ``0 .. n_classes - 1``.
        n_classes : int
            Number of classes of the task.

        Returns
        -------
        dict of int to int
            A count for every class ``0 .. n_classes - 1`` (0 where nothing is added). A class
            without training windows always gets 0: ``balance`` skips it, ``ratio`` shares in
            proportion to the training counts, and ``counts`` refuses to ask for it.

        Raises
        ------
        ConfigError
            For an empty training fold, labels outside the classes, or explicit counts for a
            class that is not a class of the task or has no training windows.
        """
        y = check_labels(y_train, n_classes, "augmentation policy: y_train")
        if y.size == 0:
            raise ConfigError("augmentation policy: y_train is empty; a training fold needs windows to augment")
        have = np.bincount(y, minlength=n_classes)
        if self.kind == "balance":
            want = np.where(have > 0, have.max() - have, 0)
        elif self.kind == "ratio":
            want = proportional_split(round(self.ratio * y.size), have)
        elif self.kind == "counts":
            want = self._explicit(have)
        else:
            want = np.zeros(n_classes, dtype=np.int64)
        return {k: int(n) for k, n in enumerate(want)}

    def _explicit(self, have: np.ndarray) -> np.ndarray:
        """The explicit counts as an array over the classes counted in ``have``."""
        want = np.zeros(have.size, dtype=np.int64)
        for label, count in check_counts(dict(self.counts), have.size, f"augmentation policy {self}").items():
            if count and not have[label]:
                raise ConfigError(
                    f"augmentation policy {self}: asks for {count} windows of class {label}, which has no "
                    "training windows in this fold; a generator cannot create a class it never saw. "
                    "Use 'balance' or 'ratio=R', or drop the class from counts"
                )
            want[label] = count
        return want
