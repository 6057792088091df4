import numpy as np
import pytest

import datasets
from bench.errors import IncompatibleError
from datasets.features import FeatureConfig
from datasets.grids import interpolated_grid, to_grid
from datasets.synthetic import SyntheticConfig
from datasets.views import Views, conversion_path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return datasets.prepare("synthetic", reader=SyntheticConfig(n_subjects=2, n_trials=4, trial_s=3),
                            cache_root=tmp_path_factory.mktemp("views"))


def test_conversion_paths_run_one_way():
    assert conversion_path("raw", "de-grid") == ["raw", "de", "de-grid"]
    assert conversion_path("raw", "raw-grid") == ["raw", "raw-grid"]
    assert conversion_path("de", "de") == ["de"]
    for src, dst in [("de", "raw"), ("de-grid", "de"), ("raw-grid", "raw"), ("de", "raw-grid")]:
        assert conversion_path(src, dst) is None


def test_real_views_have_the_documented_shapes(prepared):
    views = Views(prepared, FeatureConfig(), "none")
    idx = np.array([0, 5, 7])
    assert views.real("raw", idx).shape == (3, 32, 128)
    assert views.real("raw-grid", idx).shape == (3, 128, 9, 9)
    assert views.real("de", idx).shape == (3, 32, 5)
    assert views.real("de-grid", idx).shape == (3, 5, 9, 9)
    assert np.array_equal(views.real("de-grid", idx), interpolated_grid(prepared.de[idx], prepared.segments.ch_names, "deap"))
    assert np.array_equal(views.real("raw-grid", idx), to_grid(prepared.segments.X[idx], prepared.segments.ch_names, "deap"))


def test_converting_real_raw_windows_reproduces_the_real_features(prepared):
    views = Views(prepared, FeatureConfig(), "none")
    raw = views.real("raw", np.arange(6))
    assert np.allclose(views.convert(raw, "raw", "de"), views.real("de", np.arange(6)), atol=1e-5)
    assert np.allclose(views.convert(raw, "raw", "de-grid"), views.real("de-grid", np.arange(6)), atol=1e-4)
    assert views.convert(raw, "raw", "raw-grid").shape == (6, 128, 9, 9)


def test_impossible_conversions_say_why(prepared):
    views = Views(prepared, FeatureConfig(), "none")
    with pytest.raises(IncompatibleError, match="conversions run only along"):
        views.check("de-grid", "raw")
    with pytest.raises(IncompatibleError, match="baseline DE subtracted"):
        Views(prepared, FeatureConfig(), "de").check("raw", "de-grid")
    with pytest.raises(IncompatibleError, match="whole trials"):
        Views(prepared, FeatureConfig(scope="trial"), "none").check("raw", "de")
    Views(prepared, FeatureConfig(), "de").check("raw", "raw-grid")  # no DE involved: fine
