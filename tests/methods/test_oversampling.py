import warnings

import numpy as np
import imblearn.over_sampling  # noqa: F401  (imported here so its import time is not charged to a test)
import optuna
import pytest

from bench.components import DataInfo
from bench.errors import ConfigError, MethodError
from methods.oversampling import Adasyn, BorderlineSmote, BorderlineSmoteConfig, Smote, SmoteConfig

INFO = DataInfo(sfreq=128.0, ch_names=("F3", "F4"), grid="deap", band_names=("alpha",),
                class_names=("low", "mid", "high"))


def overlapping(sizes=(12, 20, 30), shape=(2, 3), seed=0):
    """Overlapping Gaussian classes, class c centred at 0.3 * c."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    X = rng.normal(size=(len(y), *shape)) + 0.3 * y.reshape(-1, *[1] * len(shape))
    return X.astype(np.float32), y


def far_apart(n=15, shape=(2, 3), seed=0):
    """Two classes 100 standard deviations apart: no window has a neighbour of the other class."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n)
    X = rng.normal(size=(2 * n, *shape)) + 100.0 * y.reshape(-1, *[1] * len(shape))
    return X.astype(np.float32), y


def fitted(cls, X, y, config=None):
    return cls.from_config(config, info=INFO).fit(X, y, rng=np.random.default_rng(0))


def on_neighbour_segment(s, X_class, k, tol=1e-4):
    """Whether ``s`` lies on a segment from a window to one of its k nearest same-class neighbours."""
    d2 = ((X_class[:, None] - X_class[None]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nn = np.argsort(d2, axis=1)[:, :k]
    D = X_class[nn] - X_class[:, None]  # (m, k, features)
    t = ((s - X_class[:, None]) * D).sum(-1) / (D * D).sum(-1)
    residual = np.linalg.norm(s - X_class[:, None] - t[..., None] * D, axis=-1)
    return bool(np.any((t >= -tol) & (t <= 1 + tol) & (residual < tol)))


def test_smote_windows_lie_between_a_window_and_one_of_its_k_nearest_same_class_neighbours():
    X, y = overlapping()
    k = 3
    X_syn, y_syn = fitted(Smote, X, y, SmoteConfig(k_neighbors=k)).sample({1: 25}, rng=np.random.default_rng(1))
    X_class = X[y == 1].reshape(20, -1).astype(np.float64)
    flat = X_syn.reshape(25, -1).astype(np.float64)
    assert X_syn.shape == (25, 2, 3) and np.all(y_syn == 1)
    assert all(on_neighbour_segment(s, X_class, k) for s in flat)
    # new windows, not copies of training windows
    nearest = np.min(np.linalg.norm(flat[:, None] - X.reshape(len(X), -1)[None], axis=-1), axis=1)
    assert np.all(nearest > 1e-6)


def test_segment_check_rejects_a_point_off_the_segments():
    X, y = overlapping()
    X_class = X[y == 1].reshape(20, -1).astype(np.float64)
    assert not on_neighbour_segment(X_class.mean(0) + 0.3, X_class, 3)


@pytest.mark.parametrize("cls", [Smote, Adasyn, BorderlineSmote])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 3)])
def test_exact_counts_per_class_grouped_in_class_order_for_3d_and_4d_windows(cls, shape):
    X, y = overlapping(shape=shape)
    X_syn, y_syn = fitted(cls, X, y).sample({2: 13, 1: 0, 0: 7}, rng=np.random.default_rng(1))
    assert X_syn.shape == (20, *shape) and X_syn.dtype == np.float32
    assert y_syn.dtype == np.int64 and y_syn.tolist() == [0] * 7 + [2] * 13


@pytest.mark.parametrize("cls", [Smote, Adasyn])
def test_new_windows_stay_in_the_bounding_box_of_their_class(cls):
    X, y = overlapping()
    X_syn, y_syn = fitted(cls, X, y).sample({0: 30, 2: 30}, rng=np.random.default_rng(1))
    for c in (0, 2):
        inside = (X_syn[y_syn == c] >= X[y == c].min(0) - 1e-5) & (X_syn[y_syn == c] <= X[y == c].max(0) + 1e-5)
        assert inside.all()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 21, 34])
def test_adasyn_rounding_is_corrected_to_the_exact_count(n):
    X, y = overlapping()
    X_syn, y_syn = fitted(Adasyn, X, y).sample({0: n}, rng=np.random.default_rng(n))
    assert len(X_syn) == n and np.all(y_syn == 0)


def test_adasyn_exact_count_is_reproducible_and_depends_on_the_seed():
    X, y = overlapping()
    method = fitted(Adasyn, X, y)
    a = method.sample({0: 11, 1: 7}, rng=np.random.default_rng(5))[0]
    b = method.sample({0: 11, 1: 7}, rng=np.random.default_rng(5))[0]
    c = method.sample({0: 11, 1: 7}, rng=np.random.default_rng(6))[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_adasyn_generates_near_the_other_class_more_than_smote():
    # class 0 spreads over [0, 1] on feature 0, class 1 over [0.8, 1.8]: only the right end of
    # class 0 has class-1 neighbours, so ADASYN's windows concentrate there.
    rng = np.random.default_rng(0)
    x0 = np.sort(rng.uniform(0, 1, 30))
    x1 = rng.uniform(0.8, 1.8, 30)
    X = np.zeros((60, 1, 2), dtype=np.float32)
    X[:, 0, 0] = np.concatenate([x0, x1])
    X[:, 0, 1] = rng.normal(scale=0.01, size=60)
    y = np.repeat([0, 1], 30)
    smote = fitted(Smote, X, y).sample({0: 200}, rng=np.random.default_rng(1))[0]
    adasyn = fitted(Adasyn, X, y).sample({0: 200}, rng=np.random.default_rng(1))[0]
    assert adasyn[:, 0, 0].mean() > smote[:, 0, 0].mean() + 0.2


def test_a_class_smaller_than_k_neighbors_plus_one_is_an_error_naming_the_fix():
    X, y = overlapping(sizes=(3, 20, 20))
    with pytest.raises(MethodError, match=r"class 0 \(low\) has 3 training windows.*k_neighbors=5.*at most 2"):
        fitted(Smote, X, y).sample({0: 4}, rng=np.random.default_rng(1))
    X_syn, _ = fitted(Smote, X, y, SmoteConfig(k_neighbors=2)).sample({0: 4}, rng=np.random.default_rng(1))
    assert len(X_syn) == 4


def test_borderline_smote_refuses_classes_far_apart_instead_of_falling_back_to_smote():
    X, y = far_apart()
    with pytest.raises(MethodError, match=r"borderline-smote: class 0 \(low\) has no 'danger' window.*m_neighbors"):
        fitted(BorderlineSmote, X, y).sample({0: 5}, rng=np.random.default_rng(1))
    assert len(fitted(Smote, X, y).sample({0: 5}, rng=np.random.default_rng(1))[0]) == 5


def test_adasyn_refuses_classes_without_neighbours_of_other_classes():
    X, y = far_apart()
    with pytest.raises(MethodError, match=r"adasyn: .*class 1 \(mid\).*use smote"):
        fitted(Adasyn, X, y).sample({1: 5}, rng=np.random.default_rng(1))


@pytest.mark.parametrize("kind", ["borderline-1", "borderline-2"])
def test_borderline_smote_interpolates_from_windows_near_the_border(kind):
    X, y = overlapping(sizes=(20, 20))
    config = BorderlineSmoteConfig(kind=kind)
    X_syn, y_syn = fitted(BorderlineSmote, X, y, config).sample({0: 40}, rng=np.random.default_rng(1))
    assert len(X_syn) == 40 and np.all(y_syn == 0)
    # the border lies towards class 1: synthetic class-0 windows sit closer to it than class 0 does
    centre_1 = X[y == 1].mean(0)
    dist = lambda Z: np.linalg.norm((Z - centre_1).reshape(len(Z), -1), axis=1).mean()  # noqa: E731
    assert dist(X_syn) < dist(X[y == 0])


def test_unseen_class_and_one_class_fold_are_errors_zero_counts_are_not():
    X, y = overlapping(sizes=(12, 20))
    method = fitted(Smote, X, y)
    with pytest.raises(MethodError, match="class 2 .* has none"):
        method.sample({2: 3}, rng=np.random.default_rng(1))
    X_syn, y_syn = method.sample({0: 0, 2: 0}, rng=np.random.default_rng(1))
    assert X_syn.shape == (0, 2, 3) and y_syn.shape == (0,)
    with pytest.raises(MethodError, match="at least two classes"):
        fitted(Smote, X[y == 1], y[y == 1]).sample({1: 3}, rng=np.random.default_rng(1))


def test_fit_does_not_copy_or_change_the_training_windows():
    X, y = overlapping()
    before = X.copy()
    method = fitted(Smote, X, y)
    method.sample({0: 10}, rng=np.random.default_rng(1))
    assert np.shares_memory(method.X_, X) and np.array_equal(X, before)


@pytest.mark.parametrize("cls, kwargs, message", [
    (SmoteConfig, {"k_neighbors": 0}, "smote.k_neighbors must be an integer >= 1, got 0"),
    (SmoteConfig, {"k_neighbors": True}, "smote.k_neighbors must be an integer"),
    (BorderlineSmoteConfig, {"m_neighbors": 1}, "borderline-smote.m_neighbors must be an integer >= 2"),
    (BorderlineSmoteConfig, {"kind": "borderline-3"}, "borderline-smote.kind must be one of"),
])
def test_invalid_configs_name_the_field_and_the_rule(cls, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        cls(**kwargs)


@pytest.mark.parametrize("method, params", [
    (Smote, {"k_neighbors": 1}),
    (Adasyn, {"n_neighbors": 10}),
    (BorderlineSmote, {"k_neighbors": 10, "m_neighbors": 2, "kind": "borderline-2"}),
])
def test_search_space_suggests_valid_configs(method, params):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FixedTrial warns when a value is outside the suggested range
        overrides = method.Config.search_space(optuna.trial.FixedTrial(params))
    assert method.Config(**overrides) == method.Config(**params)
