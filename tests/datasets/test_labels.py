import numpy as np
import pytest

from bench.errors import ConfigError, DataFormatError
from datasets.labels import LabelConfig, make_labels

NAMES = ("valence", "arousal", "dominance", "liking")
RATINGS = np.array([[5.0, 1.0, 0, 0], [4.99, 9.0, 0, 0], [7.0, 5.0, 0, 0], [2.0, 5.01, 0, 0]])


def test_threshold_comparison_decides_ties():
    ge = make_labels(RATINGS, NAMES, LabelConfig("valence", 5.0, ">="))
    gt = make_labels(RATINGS, NAMES, LabelConfig("valence", 5.0, ">"))
    assert ge.tolist() == [1, 0, 1, 0]
    assert gt.tolist() == [0, 0, 1, 0]
    assert make_labels(RATINGS, NAMES, LabelConfig("valence", 4.5, ">")).tolist() == [1, 1, 1, 0]


def test_arousal_uses_the_arousal_column():
    assert make_labels(RATINGS, NAMES, LabelConfig("arousal")).tolist() == [0, 1, 1, 1]


def test_quadrant_is_valence_plus_twice_arousal():
    y = make_labels(RATINGS, NAMES, LabelConfig("quadrant", comparison=">"))
    assert y.tolist() == [0 + 0, 0 + 2, 1 + 0, 0 + 2]
    assert LabelConfig("quadrant").class_names[3] == "HV-HA"


def test_emotion_maps_seed_labels_to_0_1_2():
    y = make_labels(np.array([[-1.0], [0.0], [1.0]]), ("emotion",), LabelConfig("emotion"))
    assert y.tolist() == [0, 1, 2]
    with pytest.raises(DataFormatError, match="-1, 0 or 1"):
        make_labels(np.array([[2.0]]), ("emotion",), LabelConfig("emotion"))


def test_nan_rating_is_never_given_a_label():
    bad = RATINGS.copy()
    bad[2, 0] = np.nan
    with pytest.raises(DataFormatError, match="NaN"):
        make_labels(bad, NAMES, LabelConfig("valence"))


def test_task_the_dataset_cannot_serve_is_explained():
    with pytest.raises(ConfigError, match="needs a 'valence' rating.*emotion"):
        make_labels(np.zeros((1, 1)), ("emotion",), LabelConfig("valence"))


@pytest.mark.parametrize("bad", [dict(task="happiness"), dict(comparison=">>"), dict(threshold=float("nan"))])
def test_config_validation(bad):
    with pytest.raises(ConfigError):
        LabelConfig(**bad)
