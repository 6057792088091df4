"""The two contracts the runner relies on: augmentation methods and classifiers.

A **method** learns from the training fold and returns synthetic windows::

    method = METHODS.get("smote")(config, info=info)
    method.fit(X_train, y_train, rng=rng)
    X_syn, y_syn = method.sample({0: 120, 1: 0}, rng=rng)   # exactly 120 of class 0

A **classifier** learns from real (plus synthetic) windows and scores the test fold::

    clf = CLASSIFIERS.get("esc-cnn")(config, info=info)
    clf.fit(X, y, rng=rng)
    proba = clf.predict_proba(X_test)                      # (n_test, n_classes)

Both declare the representation they work in (see :mod:`datasets.views`); a method may declare
``"any"`` when it works in whatever representation the classifier consumes (SMOTE, noise,
mixup). Randomness only ever comes from the ``rng`` passed in; neither touches global state.
Every registered component passes the contract suite in :mod:`bench.testing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bench.config import ComponentConfig
from bench.errors import ConfigError, NotFittedError

REPRESENTATIONS = ("raw", "raw-grid", "de", "de-grid")
"""The forms a window takes (:mod:`datasets.views` makes each from the prepared data)."""
ANY = "any"
HOOKS = {
    "on_batch": "callable (x, y) -> (x, target) replacing every training batch (online augmentation)",
    "on_epoch": "callable (epoch, mean training loss) -> None after every epoch (may raise to stop)",
    "logits_and_features": "a method (standardised windows) -> (logits, penultimate features) to fine-tune on",
}
"""Training hooks a classifier may declare in ``Classifier.hooks``."""


@dataclass(frozen=True)
class DataInfo:
    """What a component may know about the data besides the arrays it is given.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the raw windows, Hz.
    ch_names : tuple of str
        Channel names, in the order of the channel axis.
    grid : str
        The dataset's 9x9 layout key (:data:`datasets.grids.LAYOUTS`).
    band_names : tuple of str
        DE bands, in the order of the band axis.
    class_names : tuple of str
        Names of the task's classes; labels are ``0 .. n_classes - 1``.
    """

    sfreq: float
    ch_names: tuple[str, ...]
    grid: str
    band_names: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def check_labels(y: np.ndarray, n_classes: int, where: str) -> np.ndarray:
    """Labels as int64, shape (n,), every value in ``0 .. n_classes - 1``."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(f"{where}: labels must be a 1-D integer array, got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ConfigError(f"{where}: labels must be in 0..{n_classes - 1}, got {sorted(set(y.tolist()))}")
    return y.astype(np.int64, copy=False)


def check_windows(X: np.ndarray, y: np.ndarray, n_classes: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Training windows ``X`` (n, *window shape) and labels ``y`` (n,), with n >= 1, validated."""
    X = np.asarray(X)
    y = check_labels(y, n_classes, where)
    if X.ndim < 2 or len(X) != len(y) or len(y) == 0:
        raise ConfigError(f"{where}: X must be (n, ...) with n = len(y) >= 1, got {X.shape} and {len(y)} labels")
    return X, y


def check_counts(n_per_class: Mapping[int, int], n_classes: int, where: str) -> dict[int, int]:
    """A validated ``{class: count}``: known classes, non-negative integer counts."""
    out = {}
    for label, count in n_per_class.items():
        if not 0 <= int(label) < n_classes:
            raise ConfigError(f"{where}: asked for class {label}, but classes are 0..{n_classes - 1}")
        if int(count) != count or count < 0:
            raise ConfigError(f"{where}: sample count for class {label} must be a non-negative integer, got {count}")
        out[int(label)] = int(count)
    return out


class Component:
    """Shared construction: a validated config, the data description and the torch device.

    ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) is where torch components train and run;
    components that do not use torch ignore it.
    """

    name: ClassVar[str]
    Config: ClassVar[type[ComponentConfig]]
    representation: ClassVar[str]
    contract_xfail: ClassVar[dict[str, str]] = {}
    """Contract checks (:mod:`bench.testing`) known to fail, by check id, with the reason: run as expected failures."""
    cost_s: ClassVar[float] = 1.0
    """Rough seconds of one fit in the quick profile on 2,560 training windows on one CPU core: orders a
    distributed study's units longest-first (:mod:`bench.schedule`), never changes a result."""

    def __init__(self, config: ComponentConfig | None = None, *, info: DataInfo, device: str = "cpu") -> None:
        if config is None:
            config = self.Config()
        if not isinstance(config, self.Config):
            raise ConfigError(f"{self.name}: expected a {self.Config.__qualname__}, got {type(config).__name__}")
        self.config = config
        self.info = info
        self.device = device

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def check_fitted(self, what: str) -> None:
        """Raise NotFittedError unless ``fit`` has run (it sets attributes ending in ``_``, scikit-learn's rule)."""
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise NotFittedError(f"{self.name}.{what}: call fit(X, y, rng=rng) first; this {self.name} is not fitted")


class Method(Component):
    """An augmentation method: ``fit`` on the training fold, then ``sample`` per class.

    Subclasses set ``representation`` (one of :data:`REPRESENTATIONS` or
    ``"any"``) and implement :meth:`fit` and :meth:`_sample`. ``augments`` is False only for the
    ``none`` baseline, which returns no windows whatever it is asked for.

    A method that needs to know which windows come from which trial, in what order (DE-3DGAN
    generates whole trials), sets ``needs_trials``; its :meth:`fit` then also gets
    ``trials=(trial_id, position)``, one entry per window, and the study's windows must not
    overlap.

    A generator that holds out whole trials of the training fold to decide when its training
    stops (:mod:`methods.gan.monitor`) sets ``inner_validation``; its :meth:`fit` then also gets
    ``groups``, the trial of every window (a ``needs_trials`` method has them in ``trials``).

    A method whose paper trains the classifier in its own way (online augmentation, fine-tuning
    stages) sets ``paper_recipe`` and implements :meth:`paper_incompatibility` and
    :meth:`train_paper`; ``bench run --recipe paper`` then uses them instead of :meth:`sample`.

    A method that comes with its paper's classifier names it in ``own_classifier``: a study that
    names the method but no classifiers includes that classifier (:class:`bench.study.StudyConfig`).

    A method whose fit is expensive (the generators) sets ``cache_fit``: the runner then stores
    the fitted object in the fit cache (:mod:`bench.fit_cache`) and loads it instead of fitting
    again. Everything the object holds after :meth:`fit` must survive ``torch.save``.

    A method that can make only a bounded number of distinct windows (a filter that rejects
    edits, a deterministic generator with one output per training frame) sets ``bounded_output``:
    its :meth:`sample` may return fewer windows of a class than asked for, never repeats to make
    up the count, and records ``asked`` and ``kept`` in :attr:`stats_`; the study's quality gate
    (:mod:`bench.gate`) fails such a row with the counts.

    Attributes
    ----------
    stats_ : dict of str to float
        What the method reports about its last :meth:`sample` or :meth:`train_paper` (e.g. a
        filter's acceptance rate); recorded in the results table with a ``method.`` prefix.
    """

    augments: ClassVar[bool] = True
    needs_trials: ClassVar[bool] = False
    inner_validation: ClassVar[bool] = False
    paper_recipe: ClassVar[bool] = False
    own_classifier: ClassVar[str] = ""
    cache_fit: ClassVar[bool] = False
    bounded_output: ClassVar[bool] = False
    stats_: dict[str, float] = {}  # noqa: RUF012 - replaced, never mutated, by subclasses

    @classmethod
    def representations(cls) -> tuple[str, ...]:
        """Every representation the method fits and samples in (the contract suite checks each).

        By default the declared ``representation``, or all of :data:`REPRESENTATIONS` for ``"any"``.
        """
        return REPRESENTATIONS if cls.representation == ANY else (cls.representation,)

    @classmethod
    def representation_for(cls, config: ComponentConfig, classifier_representation: str) -> str:
        """The representation the method fits and samples in when it feeds a classifier of ``classifier_representation``.

        By default the declared ``representation``, or the classifier's own for ``"any"``. A
        method whose representation is a config choice (the baseline generators work on raw
        windows or DE grids) overrides this.
        """
        return classifier_representation if cls.representation == ANY else cls.representation

    def fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> Method:
        """Learn from the training fold only.

        Parameters
        ----------
        X : ndarray, shape (n, *shape of the representation), float32
        y : ndarray of int, shape (n,)
        rng : numpy Generator
        """
        raise NotImplementedError

    def sample(self, n_per_class: Mapping[int, int], *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n_per_class[c]`` synthetic windows of each class ``c`` (at most that many with ``bounded_output``).

        Returns
        -------
        X_syn : ndarray, shape (sum of counts, *shape of the representation), float32
        y_syn : ndarray of int64, shape (sum of counts,), grouped by class in ascending order
        """
        self.check_fitted("sample")
        counts = check_counts(n_per_class, self.info.n_classes, f"{self.name}.sample")
        X, y = self._sample(counts, rng)
        return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def paper_incompatibility(self, classifier: Classifier) -> str | None:
        """Why the ``paper`` recipe cannot train ``classifier``, or None when it can."""
        return f"{self.name} has no paper recipe"

    def train_paper(self, classifier: Classifier, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Train the unfitted ``classifier`` on the real training windows the way the method's paper does."""
        raise NotImplementedError


class Classifier(Component):
    """An emotion classifier on one representation.

    Torch classifiers also expose :attr:`module_`, an ``nn.Module`` mapping the representation
    (in its own units) to logits, which attacks differentiate through.

    Paper recipes and tuning reach into training only through the hooks a classifier declares in
    ``hooks`` (:data:`HOOKS`), set with :meth:`hook` before ``fit``.
    """

    differentiable: ClassVar[bool] = False
    hooks: ClassVar[frozenset[str]] = frozenset()

    def hook(self, **callbacks: Any) -> None:
        """Set declared training hooks, e.g. ``classifier.hook(on_epoch=report)``; None removes one.

        Raises
        ------
        ConfigError
            For a hook the classifier does not declare in ``hooks``.
        """
        unknown = sorted(set(callbacks) - self.hooks)
        if unknown:
            raise ConfigError(f"{self.name} has no training hook {', '.join(unknown)}; it declares "
                              f"{', '.join(sorted(self.hooks)) or 'none'} (Classifier.hooks)")
        for name, callback in callbacks.items():
            setattr(self, name, callback)

    def fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> Classifier:
        """Train on ``X`` (real training windows plus synthetic ones), shape (n, *representation)."""
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class scores, shape (n, n_classes), rows summing to 1; argmax is the prediction."""
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels, shape (n,)."""
        return np.argmax(self.predict_proba(X), axis=1)
