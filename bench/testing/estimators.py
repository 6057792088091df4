"""scikit-learn's and imbalanced-learn's own estimator checks over bench's components.

Every registered classifier goes through scikit-learn's ``parametrize_with_checks`` and every method
through imbalanced-learn's, built small (:func:`tiny_estimator`) so the checks take seconds. The
checks a class is known to fail are declared on it in ``estimator_xfail``, each with its reason;
they run as strict expected failures (:func:`expected_failures`).
"""

from __future__ import annotations

from typing import Any

from bench.components import Component, Method


def tiny_estimator(cls: type[Component]) -> Component:
    """``cls`` with its ``Config.tiny()`` parameters and ``random_state=0``, nothing else set (data description inferred)."""
    return cls.from_config(cls.Config.tiny(), random_state=0)


def expected_failures(estimator: Any) -> dict[str, str]:
    """The checks ``estimator``'s class declares it fails, with the reasons (``expected_failed_checks``)."""
    return dict(type(estimator).estimator_xfail)


def as_over_sampler() -> None:
    """Register :class:`bench.components.Method` as a virtual imbalanced-learn ``BaseOverSampler``.

    imbalanced-learn's checks assert the class counts after ``fit_resample`` only for instances of
    its base classes; bench's methods do not inherit them (that would import imbalanced-learn with
    bench), so the checks see them as over-samplers through this registration.
    """
    from imblearn.over_sampling.base import BaseOverSampler

    BaseOverSampler.register(Method)
