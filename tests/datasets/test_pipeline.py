import numpy as np
import pytest

import datasets
from bench.errors import ConfigError, DataFormatError
from datasets.amigos import AmigosConfig
from datasets.deap import write_dat
from datasets.features import FeatureConfig
from datasets.segment import SegmentConfig
from tests.datasets.fixtures_deap import write_deap
from tests.datasets.fixtures_mat import write_amigos, write_seed_features, write_seed_folder

SEED_NAMES = ("1_20131027", "1_20131030", "2_20140404")


@pytest.fixture
def seed_dir(tmp_path):
    write_seed_folder(tmp_path / "seed" / "Preprocessed_EEG", SEED_NAMES, n_trials=3, n_samples=401)
    features = {}
    for i, name in enumerate(SEED_NAMES):
        features[name] = write_seed_features(tmp_path / "seed" / "ExtractedFeatures" / f"{name}.mat", 3, seed=i)
    write_seed_folder(tmp_path / "seed" / "ExtractedFeatures", (), n_trials=3)  # its label.mat
    return tmp_path, features


def test_official_seed_de_replaces_computed_de_window_by_window(seed_dir):
    root, features = seed_dir
    prep = datasets.prepare("seed", data_dir=root, feature_config=FeatureConfig(source="de_LDS"))
    seg = prep.segments
    assert prep.de.shape == (len(seg), 62, 5)
    row = np.flatnonzero((seg.subject == 1) & (seg.session == 2) & (seg.trial == 3) & (seg.position == 1))[0]
    np.testing.assert_allclose(prep.de[row], features["1_20131030"][("de_LDS", 3)][:, 1, :], rtol=1e-6)
    moving = datasets.prepare("seed", data_dir=root, feature_config=FeatureConfig(source="de_movingAve"))
    assert moving.key != prep.key and not np.allclose(moving.de, prep.de)


def test_official_seed_de_needs_plain_one_second_windows(seed_dir):
    with pytest.raises(ConfigError, match="1-s windows"):
        datasets.prepare("seed", data_dir=seed_dir[0], segment_config=SegmentConfig(window_s=0.5),
                         feature_config=FeatureConfig(source="de_LDS"))


def test_official_de_exists_only_for_seed(tmp_path):
    write_deap(tmp_path / "deap", subjects=(1,))
    with pytest.raises(ConfigError, match="ExtractedFeatures"):
        datasets.prepare("deap", data_dir=tmp_path, feature_config=FeatureConfig(source="de_LDS"))


def test_seed_computes_de_at_200_hz(seed_dir):
    prep = datasets.prepare("seed", data_dir=seed_dir[0])
    assert prep.segments.sfreq == 200 and prep.segments.X.shape[1:] == (62, 200) and prep.grid == "seed"


def test_amigos_policies_reach_the_prepared_notes(tmp_path):
    write_amigos(tmp_path / "amigos" / "Data_Preprocessed_P01.mat", nan_trials=(2,))
    write_amigos(tmp_path / "amigos" / "Data_Preprocessed_P09.mat")
    prep = datasets.prepare("amigos", data_dir=tmp_path)
    assert set(prep.segments.subject.tolist()) == {1}
    assert any("skip_subjects" in n for n in prep.notes)
    assert any("trial 2" in n and "dropped" in n for n in prep.notes)
    assert 2 not in prep.segments.trial.tolist()
    everyone = datasets.prepare("amigos", data_dir=tmp_path, reader=AmigosConfig(skip_subjects=()))
    assert set(everyone.segments.subject.tolist()) == {1, 9}


def test_a_file_whose_trials_are_all_dropped_is_skipped_and_noted(tmp_path):
    write_deap(tmp_path / "deap", subjects=(1,))
    data = np.full((2, 40, 600), np.nan)
    write_dat(tmp_path / "deap" / "s02.dat", data, np.full((2, 4), 5.0))
    prep = datasets.prepare("deap", data_dir=tmp_path)
    assert set(prep.segments.subject.tolist()) == {1}
    assert sum("s02.dat" in n for n in prep.notes) == 2


def test_when_every_trial_is_dropped_the_error_says_why(tmp_path):
    (tmp_path / "deap").mkdir()
    write_dat(tmp_path / "deap" / "s01.dat", np.full((1, 40, 600), np.nan), np.full((1, 4), 5.0))
    with pytest.raises(DataFormatError, match="every trial was dropped"):
        datasets.prepare("deap", data_dir=tmp_path)
