import numpy as np
import pytest

from bench.components import DataInfo
from bench.registry import METHODS
from methods.none import NoAugmentation

INFO = DataInfo(sfreq=128.0, ch_names=("F3", "F4"), grid="deap", band_names=("alpha",),
                class_names=("low", "high"))


@pytest.mark.parametrize("shape", [(2, 128), (2, 4), (4, 9, 9), (128, 9, 9)])
def test_none_returns_no_windows_of_the_fitted_shape_whatever_is_asked(shape):
    X = np.ones((6, *shape), dtype=np.float64)
    y = np.array([0, 1, 0, 1, 0, 1])
    method = NoAugmentation.from_config(info=INFO).fit(X, y, rng=np.random.default_rng(0))
    X_syn, y_syn = method.sample({0: 5, 1: 3}, rng=np.random.default_rng(1))
    assert X_syn.shape == (0, *shape) and X_syn.dtype == np.float32
    assert y_syn.shape == (0,) and y_syn.dtype == np.int64


def test_none_is_registered_with_a_one_line_description():
    assert METHODS.get("none") is NoAugmentation
    assert METHODS.describe()["none"].startswith("No augmentation")
