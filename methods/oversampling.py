"""``smote``, ``adasyn``, ``borderline-smote``: the SMOTE family through imbalanced-learn.

All three share one code path, :class:`Oversampler`: windows are flattened to (n, features),
imbalanced-learn generates new windows one class at a time, and the new windows (never the
originals imbalanced-learn returns with them) are reshaped back to the window shape. A subclass
only says which imbalanced-learn sampler to build (:meth:`Oversampler._sampler`) and how many
neighbours it needs (:meth:`Oversampler._size_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.components import ANY, Method, check_labels
from bench.config import ComponentConfig
from bench.errors import ConfigError, MethodError
from bench.registry import METHODS
from bench.seeding import sklearn_seed

MAX_ATTEMPTS = 8
KINDS = ("borderline-1", "borderline-2")


def check_neighbors(where: str, value: Any, minimum: int = 1) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} must be an integer >= {minimum}, got {value!r}; e.g. 5")


def keep(X_new: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``X_new`` drawn without replacement (all of them, in order, when exactly ``n``)."""
    if len(X_new) == n:
        return X_new
    return X_new[np.sort(rng.choice(len(X_new), size=n, replace=False))]


@dataclass(frozen=True)
class SmoteConfig(ComponentConfig):
    """Parameters of :class:`Smote`.

    Parameters
    ----------
    k_neighbors : int
        Same-class nearest neighbours a synthetic window may be interpolated towards.
    """

    k_neighbors: int = 5

    def __post_init__(self) -> None:
        check_neighbors("smote.k_neighbors", self.k_neighbors)

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``k_neighbors`` from 1 to 10."""
        return {"k_neighbors": trial.suggest_int("k_neighbors", 1, 10)}


@dataclass(frozen=True)
class AdasynConfig(ComponentConfig):
    """Parameters of :class:`Adasyn`.

    Parameters
    ----------
    n_neighbors : int
        Nearest neighbours used both to weight each window by how many of them belong to other
        classes and, within the class, to interpolate towards (imbalanced-learn's single
        ``n_neighbors``).
    """

    n_neighbors: int = 5

    def __post_init__(self) -> None:
        check_neighbors("adasyn.n_neighbors", self.n_neighbors)

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``n_neighbors`` from 1 to 10."""
        return {"n_neighbors": trial.suggest_int("n_neighbors", 1, 10)}


@dataclass(frozen=True)
class BorderlineSmoteConfig(ComponentConfig):
    """Parameters of :class:`BorderlineSmote`.

    Parameters
    ----------
    k_neighbors : int
        Neighbours a synthetic window may be interpolated towards.
    m_neighbors : int
        Neighbours (over all classes) that decide whether a window is in "danger": at least half,
        but not all, of them belong to other classes.
    kind : {"borderline-1", "borderline-2"}
        borderline-1 interpolates towards same-class neighbours only; borderline-2 also towards
        other-class neighbours, at most half-way.
    """

    k_neighbors: int = 5
    m_neighbors: int = 10
    kind: str = "borderline-1"

    def __post_init__(self) -> None:
        check_neighbors("borderline-smote.k_neighbors", self.k_neighbors)
        # with m = 1 the danger rule m/2 <= n_other < m can never hold
        check_neighbors("borderline-smote.m_neighbors", self.m_neighbors, minimum=2)
        if self.kind not in KINDS:
            raise ConfigError(f"borderline-smote.kind must be one of {KINDS}, got {self.kind!r}")

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """``k_neighbors`` from 1 to 10, ``m_neighbors`` from 2 to 20, and the kind."""
        return {
            "k_neighbors": trial.suggest_int("k_neighbors", 1, 10),
            "m_neighbors": trial.suggest_int("m_neighbors", 2, 20),
            "kind": trial.suggest_categorical("kind", list(KINDS)),
        }


class Oversampler(Method):
    """Shared code path of the imbalanced-learn over-samplers (not registered itself).

    imbalanced-learn is imported when a sampler is built, not with the module, so that
    ``bench list`` stays fast.

    Subclasses implement :meth:`_sampler` and :meth:`_size_rules`, and may override
    :meth:`_generate` to turn a sampler's refusal into a :class:`MethodError`.
    """

    representation = ANY

    def _sampler(self, sampling_strategy: dict[int, int], random_state: int) -> Any:
        """The imbalanced-learn sampler asked to bring each class to ``sampling_strategy[c]`` windows."""
        raise NotImplementedError

    def _size_rules(self) -> list[tuple[str, str, int]]:
        """Minimum sizes as ``(scope, field, n)``: more than ``n`` windows needed.

        ``scope`` is ``"class"`` (the class being over-sampled) or ``"fold"`` (the whole
        training fold): the sampler looks up ``n`` neighbours, set by the config ``field``,
        among those windows.
        """
        raise NotImplementedError

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Keep the training windows, flattened.

        Parameters
        ----------
        X : ndarray, shape (n, *window_shape)
            Training windows in any representation, e.g. (n, C, T) or (n, B, 9, 9); finite.
        y : ndarray of int, shape (n,)
        rng : numpy Generator
            Unused: neighbours are looked up when sampling.
        """
        X = np.asarray(X)
        y = check_labels(y, self.info.n_classes, f"{self.name}.fit")
        if X.ndim < 2 or len(X) != len(y):
            raise ConfigError(f"{self.name}.fit: X must be (n, ...) with n = len(y) = {len(y)}, got {X.shape}")
        if not np.isfinite(X).all():
            raise MethodError(f"{self.name}.fit: X holds NaN or infinite values; {self.name} needs finite windows")
        self.window_shape_ = X.shape[1:]
        self.X_ = X.reshape(len(X), -1)
        self.y_ = y
        self.class_counts_ = np.bincount(y, minlength=self.info.n_classes)

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """New windows only, class by class in ascending order.

        Returns
        -------
        X : ndarray, shape (sum of counts, *window_shape)
        y : ndarray of int64, shape (sum of counts,)
        """
        wanted = {c: n for c, n in sorted(counts.items()) if n > 0}
        parts = [np.empty((0, self.X_.shape[1]), dtype=self.X_.dtype)]
        parts += [self._class_samples(c, n, rng) for c, n in wanted.items()]
        y = np.repeat(np.array(list(wanted), dtype=np.int64), list(wanted.values()))
        return np.concatenate(parts).reshape(-1, *self.window_shape_), y

    def _class_samples(self, label: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Exactly ``n`` new flattened windows of class ``label``, shape (n, features).

        Samplers that round (ADASYN) may return a few windows too many or too few: the shortfall
        is asked for again with a fresh random state, twice as much at each attempt, and any
        surplus is subsampled with ``rng``.
        """
        self._check_sizes(label)
        found: list[np.ndarray] = []
        missing = n
        for attempt in range(MAX_ATTEMPTS):
            X_new = self._generate(label, missing * 2**attempt, sklearn_seed(rng))
            found.append(X_new)
            missing -= len(X_new)
            if missing <= 0:
                return keep(np.concatenate(found), n, rng)
        raise MethodError(
            f"{self.name}: produced only {n - missing} of the {n} windows asked for class {label} "
            f"({self._class_name(label)}) in {MAX_ATTEMPTS} attempts; ask for more windows of this class "
            "at once or use smote"
        )

    def _generate(self, label: int, n: int, random_state: int) -> np.ndarray:
        """About ``n`` new flattened windows of class ``label`` from one imbalanced-learn call."""
        sampler = self._sampler({label: int(self.class_counts_[label]) + n}, random_state)
        X_res, _ = sampler.fit_resample(self.X_, self.y_)
        return X_res[len(self.y_):]

    def _check_sizes(self, label: int) -> None:
        """Raise :class:`MethodError` when the training fold cannot feed the sampler for ``label``."""
        n_class = int(self.class_counts_[label])
        if n_class == 0:
            raise MethodError(
                f"{self.name}: asked for windows of class {label} ({self._class_name(label)}), but the "
                "training fold given to fit has none; ask only for classes present in the training fold"
            )
        if np.count_nonzero(self.class_counts_) < 2:
            raise MethodError(
                f"{self.name}: the training fold holds only class {label}; imbalanced-learn needs at "
                "least two classes, so use another method (e.g. noise or mixup) for one-class folds"
            )
        for scope, field, k in self._size_rules():
            size = n_class if scope == "class" else len(self.y_)
            if size <= k:
                what = f"class {label} ({self._class_name(label)})" if scope == "class" else "the training fold"
                lower = f"lower {self.name}.{field} to at most {size - 1} or " if size > 1 else ""
                raise MethodError(
                    f"{self.name}: {what} has {size} training windows, but {field}={k} needs at least "
                    f"{k + 1} ({k} neighbours plus the window itself); {lower}use more training data"
                )

    def _class_name(self, label: int) -> str:
        return self.info.class_names[label]


@METHODS.register("smote")
class Smote(Oversampler):
    """SMOTE: interpolation between a window and a same-class neighbour (Chawla et al. 2002, JAIR).

    N. V. Chawla, K. W. Bowyer, L. O. Hall and W. P. Kegelmeyer, "SMOTE: Synthetic Minority
    Over-sampling Technique", Journal of Artificial Intelligence Research 16, 321-357, 2002.
    Each synthetic window is ``x + u * (x_nn - x)`` with ``x`` a random training window of the
    class, ``x_nn`` one of its ``k_neighbors`` nearest same-class neighbours and ``u ~ U(0, 1)``;
    implemented by ``imblearn.over_sampling.SMOTE``.

    Notes
    -----
    - Windows are flattened: neighbours are Euclidean over every feature of the representation.
    - Any class may be over-sampled by any amount (the runner's policy decides), not only the
      minority class up to balance.
    """

    Config = SmoteConfig

    def _sampler(self, sampling_strategy: dict[int, int], random_state: int) -> Any:
        from imblearn.over_sampling import SMOTE

        return SMOTE(sampling_strategy=sampling_strategy, random_state=random_state,
                     k_neighbors=self.config.k_neighbors)

    def _size_rules(self) -> list[tuple[str, str, int]]:
        return [("class", "k_neighbors", self.config.k_neighbors)]


@METHODS.register("adasyn")
class Adasyn(Oversampler):
    """ADASYN: SMOTE weighted towards windows surrounded by other classes (He et al. 2008, IJCNN).

    H. He, Y. Bai, E. A. Garcia and S. Li, "ADASYN: Adaptive Synthetic Sampling Approach for
    Imbalanced Learning", IEEE International Joint Conference on Neural Networks (IJCNN),
    1322-1328, 2008. Each training window of the class generates a number of synthetic windows
    proportional to the fraction of its ``n_neighbors`` nearest neighbours that belong to other
    classes; implemented by ``imblearn.over_sampling.ADASYN``.

    Notes
    -----
    - Windows are flattened: neighbours are Euclidean over every feature of the representation.
    - The per-window numbers are rounded, so one call gives a few windows too many or too few;
      the exact count is reached by asking again with a fresh random state and subsampling the
      surplus with the method's generator.
    - As in imbalanced-learn, the ratio is one-vs-rest: every other class counts as "majority".
    """

    Config = AdasynConfig

    def _sampler(self, sampling_strategy: dict[int, int], random_state: int) -> Any:
        from imblearn.over_sampling import ADASYN

        return ADASYN(sampling_strategy=sampling_strategy, random_state=random_state,
                      n_neighbors=self.config.n_neighbors)

    def _size_rules(self) -> list[tuple[str, str, int]]:
        return [("class", "n_neighbors", self.config.n_neighbors)]

    def _generate(self, label: int, n: int, random_state: int) -> np.ndarray:
        try:
            return super()._generate(label, n, random_state)
        except RuntimeError:  # imbalanced-learn: no neighbour of any window is of another class
            raise MethodError(
                f"adasyn: none of the {self.config.n_neighbors} nearest neighbours of any training window "
                f"of class {label} ({self._class_name(label)}) belongs to another class, and ADASYN only "
                "generates around windows that have such neighbours; increase adasyn.n_neighbors or use smote"
            ) from None
        except ValueError as exc:
            if "No samples will be generated" not in str(exc):
                raise
            return self.X_[:0]  # every per-window count rounded to 0: ask for more next attempt


@METHODS.register("borderline-smote")
class BorderlineSmote(Oversampler):
    """Borderline-SMOTE: SMOTE from the windows near other classes only (Han et al. 2005, ICIC).

    H. Han, W.-Y. Wang and B.-H. Mao, "Borderline-SMOTE: A New Over-Sampling Method in
    Imbalanced Data Sets Learning", International Conference on Intelligent Computing (ICIC),
    LNCS 3644, 878-887, 2005. Only "danger" windows, those with at least half but not all of
    their ``m_neighbors`` nearest neighbours in other classes, are interpolated from;
    implemented by ``imblearn.over_sampling.BorderlineSMOTE``.

    Notes
    -----
    - Windows are flattened: neighbours are Euclidean over every feature of the representation.
    - A class with no danger window cannot be over-sampled: that is an error, never a silent
      fall-back to plain SMOTE.
    """

    Config = BorderlineSmoteConfig

    def _sampler(self, sampling_strategy: dict[int, int], random_state: int) -> Any:
        from imblearn.over_sampling import BorderlineSMOTE

        return BorderlineSMOTE(sampling_strategy=sampling_strategy, random_state=random_state,
                               k_neighbors=self.config.k_neighbors, m_neighbors=self.config.m_neighbors,
                               kind=self.config.kind)

    def _size_rules(self) -> list[tuple[str, str, int]]:
        k_scope = "class" if self.config.kind == "borderline-1" else "fold"
        return [("fold", "m_neighbors", self.config.m_neighbors), (k_scope, "k_neighbors", self.config.k_neighbors)]

    def _generate(self, label: int, n: int, random_state: int) -> np.ndarray:
        X_new = super()._generate(label, n, random_state)
        if len(X_new) == 0:
            m = self.config.m_neighbors
            raise MethodError(
                f"borderline-smote: class {label} ({self._class_name(label)}) has no 'danger' window (one with "
                f"at least {m / 2:g} but fewer than {m} of its m_neighbors={m} nearest neighbours in other "
                "classes), so there is nothing to interpolate from; increase borderline-smote.m_neighbors, "
                "or use smote"
            )
        return X_new
