"""Robust scores of a trained classifier on its test fold under every requested attack and eps.

Each (attack, eps) gives four numbers, stored in ``ResultRow.robust`` under ``<attack>@<eps>.<metric>``
(eps written with ``format(eps, "g")``) and shown in the results table as
``robust.<attack>@<eps>.<metric>``:

``accuracy``, ``balanced_accuracy``
    Of the predictions on the adversarial test fold (as :func:`bench.metrics.classification_metrics`
    scores the clean one).
``success_rate``
    Of the test windows the classifier gets right on the clean fold, the fraction the attack makes
    it get wrong (NaN when it gets none right).
``eps_data``
    The budget in the data's own units, ``eps * unit`` (:class:`bench.attacks.EpsScale`): the
    L-infinity radius of bounded attacks, the RMS bound of minimum-norm ones.

A classifier without a torch module (``svm``) gets NaN for all of them and the reason in
``ResultRow.robust_reasons`` (the table's ``robust_reason`` column); so does an attack that cannot
run on the task (APGD's DLR loss on two classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from bench.attacks import Attack, EpsScale, perturbation
from bench.components import Classifier
from bench.metrics import classification_metrics
from bench.results import ResultRow

METRICS = ("accuracy", "balanced_accuracy", "success_rate", "eps_data")


def eps_label(eps: float) -> str:
    """How eps is written in column names: ``format(eps, "g")`` (0.01 -> ``0.01``, 1e-05 -> ``1e-05``)."""
    return format(float(eps), "g")


def key(attack: str, eps: float, metric: str) -> str:
    """Key of one robust score in ``ResultRow.robust``; the table column is ``"robust." + key``."""
    return f"{attack}@{eps_label(eps)}.{metric}"


def robustness(classifier: Classifier, X_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
               proba: np.ndarray, attacks: Mapping[str, Attack], eps: Sequence[float],
               rng_for: Callable[[str, float | None], np.random.Generator]) -> tuple[dict[str, float], dict[str, str]]:
    """Attack a trained classifier on its test fold at every eps.

    Parameters
    ----------
    classifier : Classifier
        Trained; attacked through ``module_`` when ``differentiable``, scored with ``predict_proba``.
    X_train : ndarray, shape (n_train, *window shape)
        The real training windows (no synthetic ones): they define the unit of eps.
    X_test : ndarray, shape (n_test, *window shape)
    y_test : ndarray of int, shape (n_test,)
    proba : ndarray, shape (n_test, n_classes)
        The classifier's clean scores of ``X_test``.
    attacks : mapping of name -> Attack
    eps : sequence of float
        Budgets in training standard deviations.
    rng_for : callable (attack name, eps or None) -> numpy Generator
        The derived generator of one attack run (eps is None for minimum-norm attacks, run once).

    Returns
    -------
    robust : dict of str to float
        Every :func:`key` of ``attacks x eps x METRICS``; NaN where the attack could not run.
    reasons : dict of str to str
        Attack name -> why its scores are NaN (only for those that are).
    """
    n_classes = proba.shape[1]
    nan = {key(a, e, m): math.nan for a in attacks for e in eps for m in METRICS}
    if not classifier.differentiable:
        why = f"{classifier.name} is not differentiable: it has no torch module for gradient attacks"
        return nan, dict.fromkeys(attacks, why)
    scale = EpsScale.from_training(X_train)
    clean = proba.argmax(axis=1)
    robust, reasons = dict(nan), {}
    for name, attack in attacks.items():
        if reason := attack.incompatibility(n_classes):
            reasons[name] = reason
            continue
        if attack.minimum_norm:
            delta = perturbation(attack, classifier.module_, X_test, y_test, scale, 0.0, rng_for(name, None))
            adv_proba, size = classifier.predict_proba(X_test + delta), scale.rms(delta)
        for e in eps:
            if attack.minimum_norm:  # the perturbation counts only inside the budget; else the window stays clean
                e_proba = np.where((size <= scale.radius(e))[:, None], adv_proba, proba)
            else:
                delta = perturbation(attack, classifier.module_, X_test, y_test, scale, e, rng_for(name, e))
                e_proba = classifier.predict_proba(X_test + delta)
            robust.update(_scores(name, e, y_test, clean, e_proba, n_classes, scale))
    return robust, reasons


def _scores(name: str, eps: float, y: np.ndarray, clean: np.ndarray, proba: np.ndarray, n_classes: int,
            scale: EpsScale) -> dict[str, float]:
    scores = classification_metrics(y, proba, n_classes)
    right = clean == y
    flipped = right & (proba.argmax(axis=1) != y)
    return {key(name, eps, "accuracy"): scores["accuracy"],
            key(name, eps, "balanced_accuracy"): scores["balanced_accuracy"],
            key(name, eps, "success_rate"): float(flipped.sum() / right.sum()) if right.any() else math.nan,
            key(name, eps, "eps_data"): scale.radius(eps)}


def covers(row: ResultRow, attack_keys: Mapping[str, str], eps: Sequence[float]) -> bool:
    """Whether a stored row holds the robust scores of every requested attack (same settings) and eps.

    Rows that are not ``ok`` (not-applicable pairs) do not depend on attacks.

    Parameters
    ----------
    row : ResultRow
    attack_keys : mapping of attack name -> hash of its resolved config
    eps : sequence of float
    """
    if row.status != "ok":
        return True
    return all(row.attacks.get(a) == h for a, h in attack_keys.items()) and all(
        key(a, e, m) in row.robust for a in attack_keys for e in eps for m in METRICS)


def restrict(row: ResultRow, attack_keys: Mapping[str, str], eps: Sequence[float]) -> ResultRow:
    """A copy of a covering row with only the requested robust scores (a cell's row depends on the request only)."""
    wanted = {key(a, e, m) for a in attack_keys for e in eps for m in METRICS}
    return replace(row, robust={k: v for k, v in row.robust.items() if k in wanted},
                   attacks={a: h for a, h in row.attacks.items() if a in attack_keys},
                   robust_reasons={a: r for a, r in row.robust_reasons.items() if a in attack_keys})
