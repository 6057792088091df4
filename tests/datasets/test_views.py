import numpy as np
import pytest

import datasets
from bench.errors import IncompatibleError
from datasets.features import FeatureConfig
from datasets.grids import LAYOUTS, from_grid, interpolated_grid, to_grid
from datasets.synthetic import SyntheticConfig
from datasets.views import Views, conversion_path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return datasets.prepare("synthetic", reader=SyntheticConfig(n_subjects=2, n_trials=4, trial_s=3),
                            cache_root=tmp_path_factory.mktemp("views"))


def test_every_conversion_the_information_allows_and_none_from_de_to_a_waveform():
    assert conversion_path("raw", "de-grid") == ["raw", "de", "de-grid"]
    assert conversion_path("raw", "raw-grid") == ["raw", "raw-grid"]
    assert conversion_path("de", "de") == ["de"]
    assert conversion_path("raw-grid", "raw") == ["raw-grid", "raw"]
    assert conversion_path("raw-grid", "de-grid") == ["raw-grid", "raw", "de", "de-grid"]
    assert conversion_path("de-grid", "de") == ["de-grid", "de"]
    for src, dst in [("de", "raw"), ("de-grid", "raw"), ("de", "raw-grid"), ("de-grid", "raw-grid")]:
        assert conversion_path(src, dst) is None


@pytest.mark.parametrize("layout", ["deap", "seed", "amigos"])
def test_the_electrode_cells_of_a_grid_give_the_channels_back_exactly(layout):
    names = tuple(LAYOUTS[layout])
    x = np.random.default_rng(0).normal(size=(3, len(names), 5)).astype(np.float32)
    assert np.array_equal(from_grid(to_grid(x, names, layout), names, layout), x)
    interpolated = interpolated_grid(x, names, layout)
    assert np.abs(interpolated).sum() > np.abs(to_grid(x, names, layout)).sum()  # it fills cells between electrodes
    assert np.allclose(from_grid(interpolated, names, layout), x, rtol=0, atol=1e-5)


def test_grid_generators_reach_the_channel_classifiers(prepared):
    views = Views(prepared, FeatureConfig(), "none")
    idx = np.arange(6)
    raw = views.real("raw", idx)
    assert np.array_equal(views.convert(views.real("raw-grid", idx), "raw-grid", "raw"), raw)
    assert np.allclose(views.convert(views.real("raw-grid", idx), "raw-grid", "de"), views.real("de", idx), atol=1e-5)
    assert np.allclose(views.convert(views.real("de-grid", idx), "de-grid", "de"), views.real("de", idx), atol=1e-4)
    with pytest.raises(IncompatibleError, match="baseline DE subtracted"):
        Views(prepared, FeatureConfig(), "de").check("raw-grid", "de")


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
    with pytest.raises(IncompatibleError, match="DE cannot become a waveform"):
        views.check("de-grid", "raw")
    with pytest.raises(IncompatibleError, match="baseline DE subtracted"):
        Views(prepared, FeatureConfig(), "de").check("raw", "de-grid")
    with pytest.raises(IncompatibleError, match="whole trials"):
        Views(prepared, FeatureConfig(scope="trial"), "none").check("raw", "de")
    Views(prepared, FeatureConfig(), "de").check("raw", "raw-grid")  # no DE involved: fine
