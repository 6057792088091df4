"""``svm``: the classical baseline, an RBF support-vector machine on band-DE features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bench.components import Classifier
from bench.config import ComponentConfig
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import sklearn_seed

KERNELS = ("rbf", "linear", "poly", "sigmoid")


@CLASSIFIERS.register("svm")
class SVM(Classifier):
    """Support-vector machine on standardised, flattened band-DE features (scikit-learn SVC).

    ``Pipeline(StandardScaler, SVC)`` on ``de`` windows of shape (n, n_channels, n_bands),
    flattened to (n, n_channels * n_bands); the scaler is fitted on the training windows only.

    Parameters
    ----------
    config : SVM.Config
    info : DataInfo
    device : str
        Ignored (scikit-learn runs on the CPU).

    Notes
    -----
    ``predict_proba`` returns *scores*, not calibrated probabilities: the softmax over classes of
    the one-vs-rest decision function (two classes: the sigmoid of the decision value, as
    ``[1 - p, p]``). Their argmax is SVC's prediction (``break_ties=True`` makes SVC predict the
    argmax of that decision function), and they rank windows as the decision function does, which
    is what AUROC needs. Platt scaling (``SVC(probability=True)``) is avoided: it runs an internal
    5-fold cross-validation (about five times slower) and its argmax can disagree with ``predict``.

    Classes absent from the training windows score 0; with a single class in training every
    window is given that class. SVC without probabilities is deterministic; ``rng`` only seeds the
    ``random_state`` that SVC would otherwise draw from numpy's global generator.
    """

    representation = "de"
    estimator_xfail = {"check_class_weight_classifiers": "class_weight is a config field that YAML and --set write: "
                                                         "None or 'balanced' only, no per-class weight dict"}

    @dataclass(frozen=True)
    class Config(ComponentConfig):
        """SVC settings (scikit-learn's defaults).

        Parameters
        ----------
        C : float
            Inverse regularisation strength, > 0.
        gamma : float or {"scale", "auto"}
            RBF / polynomial / sigmoid kernel coefficient, on standardised features.
        kernel : {"rbf", "linear", "poly", "sigmoid"}
        class_weight : None or "balanced"
            "balanced" weighs each class by the inverse of its frequency in training.
        """

        C: float = 1.0
        gamma: float | str = "scale"
        kernel: str = "rbf"
        class_weight: str | None = None

        PROFILES: ClassVar[dict[str, dict[str, Any]]] = {"quick": {}, "paper": {}}

        def __post_init__(self) -> None:
            if not self.C > 0:
                raise ConfigError(f"SVM.Config.C must be > 0, got {self.C!r}; use e.g. 1.0")
            if not (self.gamma in ("scale", "auto") if isinstance(self.gamma, str) else self.gamma > 0):
                raise ConfigError(f"SVM.Config.gamma must be 'scale', 'auto' or a number > 0, got {self.gamma!r}; "
                                  "use 'scale' for scikit-learn's default")
            if self.kernel not in KERNELS:
                raise ConfigError(f"SVM.Config.kernel must be one of {KERNELS}, got {self.kernel!r}")
            if self.class_weight not in (None, "balanced"):
                raise ConfigError(f"SVM.Config.class_weight must be null or 'balanced', got {self.class_weight!r}")

        @staticmethod
        def search_space(trial: Any) -> dict[str, Any]:
            """C and gamma, log-uniform."""
            return {"C": trial.suggest_float("C", 1e-2, 1e3, log=True),
                    "gamma": trial.suggest_float("gamma", 1e-5, 1e-1, log=True)}

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Fit scaler and SVC on ``X`` (n, n_channels, n_bands) and codes ``y`` (n,)."""
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        X = self._features(X)
        self.present_ = np.unique(y)
        cfg = self.config
        svc = SVC(C=cfg.C, kernel=cfg.kernel, gamma=cfg.gamma, class_weight=cfg.class_weight,
                  decision_function_shape="ovr", break_ties=True, random_state=sklearn_seed(rng))
        self.pipeline_ = make_pipeline(StandardScaler(), svc).fit(X, y) if len(self.present_) > 1 else None

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Decision-function scores, shape (n, n_classes), rows summing to 1 (see Notes)."""
        from scipy.special import expit, softmax

        X = self._features(X)
        proba = np.zeros((len(X), self.info.n_classes))
        if self.pipeline_ is None:
            proba[:, self.present_[0]] = 1.0
            return proba
        decision = self.pipeline_.decision_function(X)
        if decision.ndim == 1:
            p = expit(decision)
            proba[:, self.present_] = np.stack([1 - p, p], axis=1)
        else:
            proba[:, self.present_] = softmax(decision, axis=1)
        return proba

    def _features(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        return X.reshape(len(X), -1)
