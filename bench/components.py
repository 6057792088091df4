"""The two contracts the runner relies on: augmentation methods and classifiers.

A **method** learns from the training fold and returns synthetic windows::

    method = METHODS.get("smote").from_config(config, info=info)
    method.fit(X_train, y_train, rng=rng)
    X_syn, y_syn = method.sample({0: 120, 1: 0}, rng=rng)   # exactly 120 of class 0

A **classifier** learns from real (plus synthetic) windows and scores the test fold::

    clf = CLASSIFIERS.get("esc-cnn").from_config(config, info=info)
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
from bench.estimator import Estimator, check_input, encode_labels, not_fitted_error, resolve_rng, sampling_requests

REPRESENTATIONS = ("raw", "raw-grid", "de", "de-grid")
"""The forms a window takes (:mod:`datasets.views` makes each from the prepared data)."""
WINDOW_NDIM = {"raw": 2, "raw-grid": 3, "de": 2, "de-grid": 3}
"""Dimensions of one window of each representation: (channels, times), (times, 9, 9), (channels, bands), (bands, 9, 9)."""
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


class Component(Estimator):
    """Shared construction: parameters only (:mod:`bench.estimator`), the data description and the torch device.

    ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) is where torch components train and run;
    components that do not use torch ignore it. ``random_state`` seeds ``fit`` when no ``rng`` is
    passed (a scikit-learn user's call); the harness always passes its own ``rng``.
    """

    name: ClassVar[str]
    Config: ClassVar[type[ComponentConfig]]
    representation: ClassVar[str]
    contract_xfail: ClassVar[dict[str, str]] = {}
    """Contract checks (:mod:`bench.testing`) known to fail, by check id, with the reason: run as expected failures."""
    estimator_xfail: ClassVar[dict[str, str]] = {}
    """scikit-learn (classifiers) or imbalanced-learn (methods) estimator checks known to fail, by check name,
    with the reason: ``expected_failed_checks`` of ``parametrize_with_checks``."""
    cost_s: ClassVar[float] = 1.0
    """Rough seconds of one fit in the quick profile on 2,560 training windows on one CPU core: orders a
    distributed study's units longest-first (:mod:`bench.schedule`), never changes a result."""

    @property
    def info(self) -> DataInfo:
        """The data description of the parameters, with what ``fit`` inferred for those left at None."""
        classes = getattr(self, "classes_", ())
        n_channels = getattr(self, "n_channels_", 0)
        return DataInfo(sfreq=float(self.sfreq),
                        ch_names=tuple(self.ch_names) if self.ch_names is not None
                        else tuple(f"ch{i}" for i in range(n_channels)),
                        grid=self.grid, band_names=tuple(self.band_names or ()),
                        class_names=tuple(self.class_names) if self.class_names is not None
                        else tuple(str(c) for c in classes))

    def check_fitted(self, what: str) -> None:
        """Raise NotFittedError unless ``fit`` has run (it sets attributes ending in ``_``, scikit-learn's rule)."""
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise not_fitted_error(f"{self.name}.{what}: call fit(X, y) first; this {self.name} is not fitted")

    def _start_fit(self, X: Any, y: Any, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.random.Generator]:
        """Validate ``X`` and ``y``, set ``classes_`` and the input shape; the codes of ``y`` and the fit's generator."""
        names = getattr(X, "columns", None)  # a DataFrame's, as scikit-learn records them
        X = check_input(X, self.name, "fit")
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.classes_, codes = encode_labels(y, self.class_names, self.name)
        if len(codes) != len(X):
            raise ConfigError(f"{self.name}.fit: X has {len(X)} windows but y has {len(codes)} labels; give one "
                              "label per window")
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.n_channels_ = X.shape[1]
        return X, codes, resolve_rng(rng, self.random_state)


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
    EXTRA_PARAMS: ClassVar[dict[str, Any]] = {"sampling_strategy": "auto"}

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

    def fit(self, X: Any, y: Any, *, rng: np.random.Generator | None = None, **trials: Any) -> Method:
        """Learn from the training fold only.

        Parameters
        ----------
        X : array-like, shape (n, *shape of the representation)
        y : array-like, shape (n,)
            Labels: ``0 .. len(class_names) - 1`` when ``class_names`` is set, else any classes.
        rng : numpy Generator, optional
            Where the fit draws its randomness; by default one from ``random_state``.
        **trials
            ``trials=(trial_id, position)`` for a ``needs_trials`` method, ``groups`` for an
            ``inner_validation`` one (see the class's notes).
        """
        X, codes, rng = self._start_fit(X, y, rng)
        self._fit(X, codes, rng=rng, **trials)
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator, **trials: Any) -> None:
        """Fit on validated windows and labels ``0 .. n_classes - 1``; set attributes ending in ``_``."""
        raise NotImplementedError

    def sample(self, n_per_class: Mapping[int, int], *, rng: np.random.Generator | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
        """``n_per_class[c]`` synthetic windows of each class code ``c`` (at most that many with ``bounded_output``).

        Class codes index :attr:`classes_` (they are the labels themselves when ``class_names`` is
        set); ``rng`` defaults to one from ``random_state``.

        Returns
        -------
        X_syn : ndarray, shape (sum of counts, *shape of the representation), float32
        y_syn : ndarray of int64, shape (sum of counts,), class codes grouped in ascending order
        """
        self.check_fitted("sample")
        counts = check_counts(n_per_class, self.info.n_classes, f"{self.name}.sample")
        X, y = self._sample(counts, resolve_rng(rng, self.random_state))
        return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)

    def fit_resample(self, X: Any, y: Any, **trials: Any) -> tuple[Any, Any]:
        """imbalanced-learn's sampler API: fit on ``(X, y)``, then return them with the synthetic windows appended.

        How many windows of each class are added follows ``sampling_strategy``
        (:func:`bench.estimator.sampling_requests`): imbalanced-learn's over-sampling forms
        (``"auto"`` tops every class up to the largest, like bench's ``balance``) or a bench
        augmentation policy (``"balance"``, ``"ratio=0.5"``, ``"counts=0:100"``, ``"none"``).
        The fit and the draw use two generators spawned from ``random_state``.

        Parameters
        ----------
        X : array-like, shape (n, *window shape)
        y : array-like, shape (n,) (or one-vs-all (n, n_classes))

        Returns
        -------
        X_resampled : same type as X, shape (n + n_synthetic, *window shape), X's dtype
        y_resampled : same type and encoding as y
        """
        from imblearn.utils import check_target_type
        from sklearn.preprocessing import label_binarize
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(y)
        was_list = isinstance(X, list)
        labels, one_vs_all = check_target_type(np.asarray(y), indicate_one_vs_all=True)
        fit_rng, sample_rng = resolve_rng(None, self.random_state).spawn(2)
        self.fit(X, labels, rng=fit_rng, **trials)
        X = check_input(X, self.name, "fit_resample")
        codes = np.searchsorted(self.classes_, labels) if self.class_names is None else np.asarray(labels)
        requests = sampling_requests(self.sampling_strategy, labels, codes, self.classes_, self.name)
        self.sampling_strategy_ = {self.classes_[c].item(): n for c, n in requests.items() if n}
        X_syn, y_syn = self.sample(requests, rng=sample_rng)
        X_res = np.concatenate([X, X_syn.astype(X.dtype, copy=False)])
        y_res = np.concatenate([np.asarray(labels), self.classes_[y_syn].astype(np.asarray(labels).dtype)])
        if one_vs_all:
            y_res = label_binarize(y_res, classes=self.classes_)
        return (X_res.tolist(), y_res.tolist()) if was_list else (X_res, y_res)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features: those of the input, one to one (scikit-learn's ``OneToOneFeatureMixin``)."""
        from sklearn.base import OneToOneFeatureMixin

        return OneToOneFeatureMixin.get_feature_names_out(self, input_features)

    def __sklearn_tags__(self) -> Any:
        """imbalanced-learn's sampler tags (windows of any number of dimensions, no sparse input)."""
        from imblearn.utils._tags import InputTags, SamplerTags, Tags
        from sklearn.utils import TargetTags

        return Tags(estimator_type="sampler", target_tags=TargetTags(required=True), sampler_tags=SamplerTags(),
                    input_tags=InputTags(three_d_array=True))

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

    def fit(self, X: Any, y: Any, *, rng: np.random.Generator | None = None) -> Classifier:
        """Train on ``X`` (real training windows plus synthetic ones), shape (n, *representation); returns self.

        ``rng`` (the harness's) defaults to one from ``random_state``; labels are as for :meth:`Method.fit`.
        """
        X, codes, rng = self._start_fit(X, y, rng)
        self.window_shape_ = X.shape[1:]
        self._fit(X, codes, rng=rng)
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Train on validated windows and labels ``0 .. n_classes - 1``; set attributes ending in ``_``."""
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class scores, shape (n, n_classes), rows summing to 1, columns in the order of ``classes_``."""
        self.check_fitted("predict_proba")
        X = check_input(X, self.name, "predict_proba")
        if int(np.prod(X.shape[1:])) != self.n_features_in_:
            raise ConfigError(f"X has {int(np.prod(X.shape[1:]))} features, but {type(self).__name__} is expecting "
                              f"{self.n_features_in_} features as input ({self.name}.predict_proba: windows of shape "
                              f"{X.shape[1:]}, fit saw {self.window_shape_}); score windows like those of fit")
        return self._predict_proba(X)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (of ``classes_``), shape (n,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``(X, y)`` (scikit-learn's classifier API)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X)))

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's classifier tags (windows of any number of dimensions, no sparse input)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags(three_d_array=True))
