"""Contract checks: small functions that raise AssertionError naming the component and the rule.

Each check builds its component from ``Config.tiny()`` on :func:`toy_data` of the component's
representation, so the whole suite for one component takes seconds. A check has a short id
(``pickle``, ``not-fitted``); the checks a component gets follow from what it declares
(``representations()``, ``augments``, ``cache_fit``, ``differentiable``, ``hooks``), and
``contract_xfail`` on the class names the checks it is known to fail, with the reason.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.components import ANY, HOOKS, REPRESENTATIONS, Classifier, DataInfo, Method
from bench.config import ComponentConfig, from_dict, to_yaml
from bench.errors import ConfigError, NotFittedError
from bench.fit_cache import FitInputs, Fitted, load_or_fit
from datasets.deap import CH_NAMES

TINY_SECONDS = 60.0
"""A generous ceiling for fit + sample/predict of a ``tiny()`` config (a guard, not a benchmark)."""

SHAPES = {"raw": (32, 128), "raw-grid": (128, 9, 9), "de": (32, 5), "de-grid": (5, 9, 9)}
"""Window shape of each representation in the toy data (DEAP-like: 32 channels, 128 Hz, 5 bands)."""

INFO = DataInfo(sfreq=128.0, ch_names=CH_NAMES, grid="deap",
                band_names=("delta", "theta", "alpha", "beta", "gamma"), class_names=("class-0", "class-1", "class-2"))

Check = tuple[str, Callable[[], None]]


def toy_data(representation: str, counts: tuple[int, ...] = (24, 14, 10), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class-dependent toy windows of a representation.

    Parameters
    ----------
    representation : str
        One of :data:`bench.components.REPRESENTATIONS`.
    counts : tuple of int
        Windows per class (imbalanced by default, 3 classes).

    Returns
    -------
    X : ndarray, shape (sum(counts), *SHAPES[representation]), float32
    y : ndarray of int64, shape (sum(counts),)
    """
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    X = rng.normal(size=(len(y),) + SHAPES[representation]).astype(np.float32)
    # Classes differ in a few features only, so they overlap: every oversampler has borderline windows.
    X.reshape(len(y), -1)[:, :8] += 1.5 * y[:, None]
    return X, y


def toy_trials(y: np.ndarray, length: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Trials of ``length`` consecutive windows of one class for labels ``y`` grouped by class.

    Returns
    -------
    trial_id, position : ndarray of int64, shape (len(y),)
    """
    rank = np.arange(len(y)) - np.searchsorted(y, y)  # index within the class
    return (y * len(y) + rank // length).astype(np.int64), (rank % length).astype(np.int64)


def _rng_state() -> tuple[Any, ...]:
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return (random.getstate(), keys.tobytes(), pos, has_gauss, cached, torch.random.get_rng_state().numpy().tobytes())


def _config_checks(cls: Any) -> list[Check]:
    def round_trip() -> None:
        for config in (cls.Config.tiny(), cls.Config.for_profile("quick"), cls.Config.for_profile("paper")):
            again = from_dict(cls.Config, yaml.safe_load(to_yaml(config)))
            assert again == config, f"{cls.name}: config does not survive a YAML round trip: {config} -> {again}"

    def unknown_keys() -> None:
        try:
            from_dict(cls.Config, {"no_such_setting": 1})
        except ConfigError as e:
            assert "no_such_setting" in str(e), f"{cls.name}: the unknown-key error does not name the key: {e}"
        else:
            raise AssertionError(f"{cls.name}: Config accepted an unknown key")

    def declared() -> None:
        assert issubclass(cls.Config, ComponentConfig), f"{cls.name}: Config must subclass ComponentConfig"
        assert cls.representation in REPRESENTATIONS + (ANY,), f"{cls.name}: unknown representation {cls.representation!r}"
        assert (cls.__doc__ or "").strip(), f"{cls.name}: needs a docstring (its first line is shown by `bench list`)"
        assert isinstance(cls.Config.search_space, Callable), f"{cls.name}: Config.search_space must be callable"

    def profiles_keep_the_algorithm() -> None:
        fields = {f.name for f in dataclasses.fields(cls.Config)}
        assert set(cls.Config.ALGORITHM) <= fields, f"{cls.name}: ALGORITHM names unknown fields {set(cls.Config.ALGORITHM) - fields}"
        for profile, overrides in cls.Config.PROFILES.items():
            changed = set(overrides) & set(cls.Config.ALGORITHM)
            assert not changed, f"{cls.name}: profile {profile!r} changes the algorithm ({sorted(changed)}); profiles may change sizes and time only"
            assert cls.Config.for_profile(profile).variant() == "", f"{cls.name}: profile {profile!r} is a variant"

    return [("declared", declared), ("config-yaml-round-trip", round_trip),
            ("unknown-config-keys", unknown_keys), ("profiles-keep-the-algorithm", profiles_keep_the_algorithm)]


def _input_rep(cls: Any) -> str:
    return "de" if cls.representation == ANY else cls.representation


def method_checks(cls: type[Method], representations: tuple[str, ...] | None = None) -> list[Check]:
    """Named checks of a method class (see the module docstring of :mod:`bench.components`)."""
    reps = representations or cls.representations()
    request = {0: 0, 1: 5, 2: 9}  # the minority classes, as a balancing policy asks
    augments = getattr(cls, "augments", True)

    def fitted(rep: str, seed: int, X: np.ndarray | None = None, y: np.ndarray | None = None) -> Method:
        if X is None:
            X, y = toy_data(rep)
        method = cls.from_config(cls.Config.tiny(), info=INFO)
        trials = {"trials": toy_trials(y)} if getattr(cls, "needs_trials", False) else {}
        if getattr(cls, "inner_validation", False) and not trials:
            trials = {"groups": np.arange(len(y)) // 2}  # trials of two windows
        assert method.fit(X, y, rng=np.random.default_rng(seed), **trials) is method, f"{cls.name}: fit must return self"
        return method

    def run(rep: str, seed: int, X: np.ndarray | None = None, y: np.ndarray | None = None,
            counts: dict[int, int] = request) -> tuple[np.ndarray, np.ndarray]:
        return fitted(rep, seed, X, y).sample(counts, rng=np.random.default_rng(seed + 1000))

    def shapes_and_counts() -> None:
        for rep in reps:
            method = fitted(rep, 0)
            X, y = method.sample(request, rng=np.random.default_rng(1000))
            want = {1: 5, 2: 9} if augments else {}
            got = {int(c): int((y == c).sum()) for c in np.unique(y)}
            if getattr(cls, "bounded_output", False):  # at most the counts, and says how many it kept
                assert all(got.get(c, 0) <= n for c, n in want.items()) and set(got) <= set(want), (
                    f"{cls.name} on {rep}: class counts {got}, asked for at most {want}")
                stats = method.stats_
                assert (stats.get("asked"), stats.get("kept")) == (sum(want.values()), len(y)), (
                    f"{cls.name} on {rep}: stats_ must record asked={sum(want.values())} and kept={len(y)}, got {stats}")
                want = got
            n = sum(want.values())
            assert X.shape == (n,) + SHAPES[rep], f"{cls.name} on {rep}: X shape {X.shape}, expected {(n,) + SHAPES[rep]}"
            assert X.dtype == np.float32 and y.dtype == np.int64, f"{cls.name}: dtypes {X.dtype}, {y.dtype}; want float32, int64"
            assert got == want, f"{cls.name} on {rep}: class counts {got}, asked for {want}"
            assert np.all(np.diff(y) >= 0), f"{cls.name}: labels must be grouped by class in ascending order"
            assert np.isfinite(X).all(), f"{cls.name} on {rep}: non-finite synthetic values"

    def zero_request() -> None:
        X, y = run(reps[0], 0, counts={0: 0, 1: 0})
        assert X.shape == (0,) + SHAPES[reps[0]] and y.shape == (0,), f"{cls.name}: asking for nothing gave {X.shape}"

    def no_mutation() -> None:
        X, y = toy_data(reps[0])
        X0, y0 = X.copy(), y.copy()
        run(reps[0], 0, X, y)
        assert np.array_equal(X, X0) and np.array_equal(y, y0), f"{cls.name}: fit or sample modified its input"

    def seeds() -> None:
        a, b, c = run(reps[0], 3), run(reps[0], 3), run(reps[0], 4)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), f"{cls.name}: same seed, different output"
        if augments:
            assert not np.array_equal(a[0], c[0]), f"{cls.name}: different seeds gave identical output"

    def global_rng() -> None:
        before = _rng_state()
        run(reps[0], 0)
        assert _rng_state() == before, f"{cls.name}: changed a global random state (python, numpy or torch)"

    def tiny_fast() -> None:
        tic = time.perf_counter()
        run(reps[0], 0)
        took = time.perf_counter() - tic
        assert took < TINY_SECONDS, f"{cls.name}: tiny() took {took:.1f} s (ceiling {TINY_SECONDS} s)"

    def fit_cache() -> None:
        X, y = toy_data(reps[0])
        trials = {"trials": toy_trials(y)} if getattr(cls, "needs_trials", False) else {}
        inputs = FitInputs(method=cls.name, representation=reps[0], data="toy data", labels={}, split=(), train="",
                           rng=(0,))

        def through_cache(root: Path) -> Fitted:
            method = cls.from_config(cls.Config.tiny(), info=INFO)

            def fit() -> float:
                method.fit(X, y, rng=np.random.default_rng(0), **trials)
                return 0.0

            return load_or_fit(method, inputs, fit, root=root)

        with tempfile.TemporaryDirectory() as root:
            fitted, loaded = through_cache(Path(root)), through_cache(Path(root))
        assert loaded.load_s is not None, f"{cls.name}: the second fit was not loaded from the fit cache"
        a, b = (f.method.sample(request, rng=np.random.default_rng(1)) for f in (fitted, loaded))
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), \
            f"{cls.name}: a fit loaded from the fit cache samples other windows than the fitted object"

    def not_fitted() -> None:
        method = cls.from_config(cls.Config.tiny(), info=INFO)
        try:
            method.sample(request, rng=np.random.default_rng(0))
        except NotFittedError:
            return
        raise AssertionError(f"{cls.name}: sample before fit must raise bench.errors.NotFittedError")

    def pickle_round_trip() -> None:
        X, y = toy_data(reps[0])
        trials = {"trials": toy_trials(y)} if getattr(cls, "needs_trials", False) else {}
        if getattr(cls, "inner_validation", False) and not trials:
            trials = {"groups": np.arange(len(y)) // 2}
        method = cls.from_config(cls.Config.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0), **trials)
        again = pickle.loads(pickle.dumps(method))
        a, b = (m.sample(request, rng=np.random.default_rng(1)) for m in (method, again))
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), \
            f"{cls.name}: a pickled and unpickled fit samples other windows than the original"

    return _config_checks(cls) + [
        ("shapes-and-counts", shapes_and_counts), ("zero-request", zero_request), ("input-not-mutated", no_mutation),
        ("seeds", seeds), ("global-rng", global_rng), ("tiny-fast", tiny_fast), ("not-fitted", not_fitted),
        ("pickle", pickle_round_trip),
    ] + ([("fit-cache", fit_cache)] if getattr(cls, "cache_fit", False) else [])


def classifier_checks(cls: type[Classifier]) -> list[Check]:
    """Named checks of a classifier class."""
    rep = _input_rep(cls)

    def fitted(seed: int, counts: tuple[int, ...] = (24, 14, 10)) -> tuple[Classifier, np.ndarray]:
        X, y = toy_data(rep, counts)
        clf = cls.from_config(cls.Config.tiny(), info=INFO)
        assert clf.fit(X, y, rng=np.random.default_rng(seed)) is clf, f"{cls.name}: fit must return self"
        X_test, _ = toy_data(rep, (4, 4, 4), seed=1)
        return clf, clf.predict_proba(X_test)

    def proba() -> None:
        clf, p = fitted(0)
        assert p.shape == (12, 3), f"{cls.name}: predict_proba shape {p.shape}, expected (12, 3)"
        assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, atol=1e-5), f"{cls.name}: rows must be finite and sum to 1"
        X_test, _ = toy_data(rep, (4, 4, 4), seed=1)
        assert np.array_equal(clf.predict(X_test), p.argmax(axis=1)), f"{cls.name}: predict must be argmax of predict_proba"

    def missing_class() -> None:
        _, p = fitted(0, counts=(20, 16, 0))
        assert p.shape[1] == 3, f"{cls.name}: with a class absent from training, predict_proba must keep all 3 columns"

    def no_mutation() -> None:
        X, y = toy_data(rep)
        X0, y0 = X.copy(), y.copy()
        clf = cls.from_config(cls.Config.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0))
        clf.predict_proba(X)
        assert np.array_equal(X, X0) and np.array_equal(y, y0), f"{cls.name}: fit or predict modified its input"

    def seeds() -> None:
        a, b, c = fitted(3)[1], fitted(3)[1], fitted(4)[1]
        assert np.array_equal(a, b), f"{cls.name}: same seed, different predictions"
        if cls.differentiable:
            assert not np.array_equal(a, c), f"{cls.name}: different seeds gave identical predictions"

    def global_rng() -> None:
        before = _rng_state()
        fitted(0)
        assert _rng_state() == before, f"{cls.name}: changed a global random state (python, numpy or torch)"

    def tiny_fast() -> None:
        tic = time.perf_counter()
        fitted(0)
        took = time.perf_counter() - tic
        assert took < TINY_SECONDS, f"{cls.name}: tiny() took {took:.1f} s (ceiling {TINY_SECONDS} s)"

    def not_fitted() -> None:
        X_test, _ = toy_data(rep, (4, 4, 4), seed=1)
        try:
            cls.from_config(cls.Config.tiny(), info=INFO).predict_proba(X_test)
        except NotFittedError:
            return
        raise AssertionError(f"{cls.name}: predict_proba before fit must raise bench.errors.NotFittedError")

    def pickle_round_trip() -> None:
        clf, p = fitted(0)
        X_test, _ = toy_data(rep, (4, 4, 4), seed=1)
        again = pickle.loads(pickle.dumps(clf))
        assert np.allclose(again.predict_proba(X_test), p, atol=1e-12), \
            f"{cls.name}: a pickled and unpickled fit predicts other probabilities than the original"

    def hooks() -> None:
        unknown = set(cls.hooks) - set(HOOKS)
        assert not unknown, f"{cls.name}: declares unknown hooks {sorted(unknown)}; known: {sorted(HOOKS)}"
        clf = cls.from_config(cls.Config.tiny(), info=INFO)
        for name in cls.hooks:
            assert hasattr(clf, name), f"{cls.name}: declares the hook {name!r} but has no such attribute"
        try:
            clf.hook(no_such_hook=None)
        except ConfigError:
            return
        raise AssertionError(f"{cls.name}: hook() accepted an undeclared hook")

    def module() -> None:
        import torch

        clf, p = fitted(0)
        X_test, _ = toy_data(rep, (4, 4, 4), seed=1)
        assert isinstance(clf.module_, torch.nn.Module), f"{cls.name}: module_ must be an nn.Module"
        with torch.no_grad():
            logits = clf.module_.eval()(torch.as_tensor(X_test))
        assert tuple(logits.shape) == (12, 3), f"{cls.name}: module_ gives {tuple(logits.shape)}, expected logits (12, 3)"
        assert np.allclose(torch.softmax(logits, 1).numpy(), p, atol=1e-5), f"{cls.name}: softmax(module_(X)) != predict_proba(X)"

    return _config_checks(cls) + [
        ("predict-proba", proba), ("missing-class", missing_class), ("input-not-mutated", no_mutation),
        ("seeds", seeds), ("global-rng", global_rng), ("tiny-fast", tiny_fast), ("not-fitted", not_fitted),
        ("pickle", pickle_round_trip), ("hooks", hooks),
    ] + ([("module-gives-logits", module)] if cls.differentiable else [])


def run_checks(checks: list[Check]) -> None:
    """Run checks, collecting every failure into one AssertionError."""
    failures = []
    for name, check in checks:
        try:
            check()
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    if failures:
        raise AssertionError("\n".join(failures))
