import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from bench.errors import ConfigError
from bench.metrics import aggregate, classification_metrics, confusion_matrix


def binary_proba(p1):
    p1 = np.asarray(p1)
    return np.column_stack([1 - p1, p1])


def test_binary_metrics_match_values_computed_by_hand():
    y = np.array([0, 0, 0, 0, 1, 1])
    proba = binary_proba([0.1, 0.2, 0.3, 0.6, 0.7, 0.4])  # predicts 0 0 0 1 1 0
    m = classification_metrics(y, proba, 2, minority=1)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["recall_0"] == pytest.approx(3 / 4) and m["recall_1"] == pytest.approx(1 / 2)
    assert m["balanced_accuracy"] == pytest.approx(0.625)
    assert m["macro_f1"] == pytest.approx((0.75 + 0.5) / 2)  # F1: 2*3/(2*3+1+1), 2*1/(2*1+1+1)
    assert m["minority_recall"] == pytest.approx(0.5)
    assert m["auroc"] == pytest.approx(7 / 8)  # 7 of 8 (positive, negative) pairs ranked right
    assert m["n"] == 6
    assert m["f1"] == pytest.approx(0.5)  # binary F1 of class 1: 2*1/(2*1+1+1)
    assert set(m) == {"accuracy", "balanced_accuracy", "macro_f1", "f1", "recall_0", "recall_1", "minority_recall",
                      "auroc", "n"}


def test_minority_recall_is_left_out_without_a_minority_class():
    m = classification_metrics(np.array([0, 1]), binary_proba([0.2, 0.8]), 2)
    assert "minority_recall" not in m and m["auroc"] == 1.0


def test_single_class_fold_gives_nan_auroc_and_recall_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(np.array([1, 1, 1]), binary_proba([0.9, 0.2, 0.6]), 2, minority=0)
    assert math.isnan(m["auroc"]) and math.isnan(m["recall_0"]) and math.isnan(m["minority_recall"])
    assert m["recall_1"] == pytest.approx(2 / 3) and m["balanced_accuracy"] == pytest.approx(2 / 3)


def test_balanced_accuracy_agrees_with_sklearn_when_a_predicted_class_is_absent():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    with pytest.warns(UserWarning):
        expected = balanced_accuracy_score(y, proba.argmax(1))
    assert classification_metrics(y, proba, 3)["balanced_accuracy"] == pytest.approx(expected)


def test_multiclass_auroc_is_one_vs_rest_macro():
    y = np.array([0, 1, 2])
    proba = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.45, 0.3, 0.25]])
    # one-vs-rest AUROC: class 0 -> 1, class 1 -> 1, class 2 -> 1/2 (0.25 beats 0.2, not 0.3)
    assert classification_metrics(y, proba, 3)["auroc"] == pytest.approx(2.5 / 3)


def test_multiclass_auroc_is_nan_when_a_class_is_absent():
    y = np.array([0, 1, 0])
    proba = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.45, 0.3, 0.25]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(y, proba, 3)
    assert math.isnan(m["auroc"]) and math.isnan(m["recall_2"]) and m["recall_1"] == 1.0


def test_confusion_matrix_keeps_rows_and_columns_of_absent_classes():
    cm = confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), 3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize(
    ("y", "proba", "minority", "message"),
    [
        (np.array([0, 2]), binary_proba([0.1, 0.9]), None, r"labels 0..1, got \[0, 2\]"),
        (np.array([0, 1]), binary_proba([0.1, 0.9, 0.5]), None, r"shape \(n_samples, n_classes\) = \(2, 2\), got \(3, 2\)"),
        (np.array([], np.int64), np.zeros((0, 2)), None, "non-empty"),
        (np.array([0, 1]), binary_proba([0.1, 0.9]), 2, "minority must be a class in 0..1, got 2"),
    ],
)
def test_bad_inputs_are_config_errors(y, proba, minority, message):
    with pytest.raises(ConfigError, match=message):
        classification_metrics(y, proba, 2, minority=minority)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0, 3.0], (2.0, 1.0)),
        ([0.5], (0.5, 0.0)),
        ([1.0, float("nan"), 3.0], (2.0, math.sqrt(2))),
    ],
)
def test_aggregate_is_a_nan_aware_mean_and_sample_std(values, expected):
    assert aggregate(values) == pytest.approx(expected)


@pytest.mark.parametrize("values", [[float("nan"), float("nan")], []])
def test_aggregate_of_nothing_is_nan(values):
    mean, std = aggregate(values)
    assert math.isnan(mean) and math.isnan(std)
