import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import datasets
from bench.errors import ConfigError
from datasets.synthetic import Synthetic, SyntheticConfig, simulate_subject

SMALL = SyntheticConfig(n_subjects=3, n_trials=6, trial_s=4.0)


def test_files_are_real_deap_files(tmp_path):
    files = Synthetic(SMALL, root=tmp_path).files()
    assert [p.name for p in files] == ["s01.dat", "s02.dat", "s03.dat"]
    assert files[0].parent.name == "data_preprocessed_python"
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(files[0].read_bytes())  # Python-2 pickle, like DEAP's
    raw = pickle.loads(files[0].read_bytes(), encoding="latin1")
    assert raw["data"].shape == (6, 40, 7 * 128) and raw["data"].dtype == np.float64
    assert raw["labels"].shape == (6, 4) and ((raw["labels"] >= 1) & (raw["labels"] <= 9)).all()


def test_read_back_through_the_deap_reader(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    rec = datasets.load("synthetic", config=SMALL)
    assert rec.dataset == "synthetic" and rec.n_trials == 18 and rec.trials[0].shape == (32, 7 * 128)
    assert rec.baseline_s == 3.0 and rec.sfreq == 128


def test_deterministic_from_the_seed():
    a, la = simulate_subject(SMALL, 2)
    b, lb = simulate_subject(SMALL, 2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    other, _ = simulate_subject(SyntheticConfig(n_subjects=3, n_trials=6, trial_s=4.0, seed=1), 2)
    assert not np.allclose(a, other)
    assert not np.allclose(simulate_subject(SMALL, 3)[0], a)


def test_generated_once_then_reused(tmp_path):
    first = Synthetic(SMALL, root=tmp_path).files()
    stamp = first[0].stat().st_mtime_ns
    assert Synthetic(SMALL, root=tmp_path).files()[0].stat().st_mtime_ns == stamp
    assert Synthetic(SyntheticConfig(n_subjects=3, n_trials=6, trial_s=4.0, seed=5), root=tmp_path).folder() != \
        Synthetic(SMALL, root=tmp_path).folder()


def test_class_balance_is_a_parameter():
    config = SyntheticConfig(n_trials=400, trial_s=1.0, valence_high=0.8, arousal_high=0.3)
    _, labels = simulate_subject(config, 1)
    assert abs((labels[:, 0] >= 5).mean() - 0.8) < 0.06
    assert abs((labels[:, 1] >= 5).mean() - 0.3) < 0.06


def test_frontal_alpha_asymmetry_follows_valence():
    config = SyntheticConfig(n_trials=60, trial_s=8.0)
    data, labels = simulate_subject(config, 1)
    from datasets.deap import CH_NAMES
    from datasets.features import FeatureConfig, differential_entropy
    stim = data[:, :32, 3 * 128 :]
    de = differential_entropy(stim, 128.0, FeatureConfig(filtering="zero-phase"))[..., 2]  # alpha
    asym = de[:, CH_NAMES.index("F4")] - de[:, CH_NAMES.index("F3")]
    high = labels[:, 0] >= 5
    assert asym[high].mean() > asym[~high].mean() + 0.1  # more right-frontal alpha when positive


def _balanced_accuracy(effect_size: float) -> float:
    config = SyntheticConfig(n_subjects=4, n_trials=16, trial_s=6.0, effect_size=effect_size, arousal_high=0.5)
    prep = datasets.prepare("synthetic", reader=config, segment_config=datasets.SegmentConfig(baseline="de"))
    y = datasets.make_labels(prep.segments.ratings, prep.segments.rating_names, datasets.LabelConfig("arousal"))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = cross_val_score(model, prep.de.reshape(len(y), -1), y, groups=prep.segments.trial_id,
                             cv=GroupKFold(4), scoring="balanced_accuracy")
    return float(scores.mean())


def test_emotion_is_learnable_across_trials_only_when_present():
    assert _balanced_accuracy(1.0) > 0.65
    assert _balanced_accuracy(0.0) < 0.62


@pytest.mark.parametrize("bad", [dict(n_subjects=0), dict(n_subjects=100), dict(valence_high=1.0),
                                 dict(effect_size=-1), dict(trial_s=0.5)])
def test_config_validation(bad):
    with pytest.raises(ConfigError):
        SyntheticConfig(**bad)
