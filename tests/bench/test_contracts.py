"""Every registered method and classifier passes the shared contract suite: one test per (component, check).

The cases come from the registries, so a new component (a module in ``methods/`` or
``bench/classifiers/``, or a plug-in's entry point) is checked without editing this file; select
one with ``pytest -k "rose and pickle"``. A check a class declares in ``contract_xfail`` runs as an
expected failure (strict: it fails the suite once it passes).
"""

import sys
from importlib.metadata import EntryPoint

import numpy as np
import pytest

from bench.components import REPRESENTATIONS, Method
from bench.config import ComponentConfig
from bench.registry import CLASSIFIERS, METHODS, Registry
from bench.testing import classifier_checks, method_checks, run_checks
from bench.testing.contracts import SHAPES


def cases():
    for kind, registry, checks in (("method", METHODS, method_checks), ("classifier", CLASSIFIERS, classifier_checks)):
        for name in registry.names():
            cls = registry.get(name)
            for check_id, check in checks(cls):
                reason = cls.contract_xfail.get(check_id)
                marks = [pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)] if reason else []
                yield pytest.param(check, id=f"{kind}:{name}:{check_id}", marks=marks)


@pytest.mark.parametrize("check", list(cases()))
def test_contract(check):
    check()


def test_toy_data_covers_every_representation():
    assert set(SHAPES) == set(REPRESENTATIONS)


class Bad(Method):
    """Asks numpy's global generator and returns one sample too few."""

    name = "bad"
    Config = ComponentConfig
    representation = "de"

    def _fit(self, X, y, *, rng):
        self.X_ = X
        return self

    def _sample(self, counts, rng):
        n = max(sum(counts.values()) - 1, 0)
        return self.X_[:n] + np.random.normal(), np.zeros(n, dtype=np.int64)


def test_the_suite_catches_a_broken_method():
    with pytest.raises(AssertionError) as err:
        run_checks(method_checks(Bad))
    text = str(err.value)
    assert "shapes-and-counts" in text and "global random state" in text


def test_a_method_that_samples_before_fit_fails_the_not_fitted_check():
    class Unchecked(Bad):
        """Samples whatever it holds, fitted or not."""

        def sample(self, n_per_class, *, rng):
            return np.zeros((0, 32, 5), np.float32), np.zeros(0, np.int64)

    check = dict(method_checks(Unchecked))["not-fitted"]
    with pytest.raises(AssertionError, match="NotFittedError"):
        check()


def test_checks_follow_declared_attributes():
    ids = {name: [i for i, _ in method_checks(METHODS.get(name))] for name in ("smote", "cgan")}
    assert "fit-cache" in ids["cgan"] and "fit-cache" not in ids["smote"]
    assert METHODS.get("cgan").representations() == ("raw", "de-grid")
    assert METHODS.get("smote").representations() == REPRESENTATIONS
    assert "module-gives-logits" in [i for i, _ in classifier_checks(CLASSIFIERS.get("esc-cnn"))]
    assert "module-gives-logits" not in [i for i, _ in classifier_checks(CLASSIFIERS.get("svm"))]


def test_a_plugin_registers_through_its_entry_point(monkeypatch):
    module = "tests.bench.plugin.jitter"
    point = EntryPoint(name="jitter", value=module, group="bench.test-methods")
    monkeypatch.setattr("bench.registry.entry_points", lambda group: [point] if group == "bench.test-methods" else [])
    monkeypatch.delitem(sys.modules, module, raising=False)
    registry = Registry("method", group="bench.test-methods")
    monkeypatch.setattr("bench.registry.METHODS", registry)
    cls = registry.get("jitter")
    run_checks(method_checks(cls))
