"""AMIGOS reader: layouts, arousal/valence order, dropped-trial policies, skip list, errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import datasets.amigos  # noqa: F401  (registers "amigos" until datasets/__init__ imports it)
from bench.errors import ConfigError, DataFormatError, DataNotFoundError
from bench.registry import DATASETS
from datasets.amigos import CH_NAMES, Amigos, AmigosConfig
from datasets.base import FileDataset
from tests.datasets.fixtures_mat import write_amigos, write_garbage

KEEP_ALL = AmigosConfig(skip_subjects=())


def _rating(recording, name):
    return recording.ratings[:, recording.rating_names.index(name)]


def _flat(root, p):
    return root / f"Data_Preprocessed_P{p:02d}.mat"


def _nested(root, p):
    return root / f"Data_Preprocessed_P{p:02d}" / f"Data_Preprocessed_P{p:02d}.mat"


@pytest.mark.parametrize("where", [
    lambda root, p: _flat(root / "amigos", p),
    lambda root, p: _nested(root / "AMIGOS", p),
    lambda root, p: _flat(root / "data_preprocessed", p),
    lambda root, p: _nested(root / "data_preprocessed", p),
], ids=["flat", "nested", "data_preprocessed-flat", "data_preprocessed-nested"])
def test_layouts_are_found_and_eeg_columns_transposed(tmp_path, where):
    written = {p: write_amigos(where(tmp_path, p), seed=p) for p in (2, 1)}
    recording = FileDataset.load(Amigos(KEEP_ALL), tmp_path)
    assert recording.subject.tolist() == [1] * 16 + [2] * 16
    assert recording.trial.tolist() == list(range(1, 17)) * 2
    assert recording.session.tolist() == [1] * 32
    for i, x in enumerate(recording.trials):
        expected = written[i // 16 + 1][i % 16][:, :14].T.astype(np.float32)
        assert x.dtype == np.float32 and x.shape == (14, 800)
        np.testing.assert_array_equal(x, expected)


def test_flat_and_nested_copies_of_one_subject_are_an_error(tmp_path):
    write_amigos(_flat(tmp_path, 1))
    write_amigos(_nested(tmp_path, 1))
    with pytest.raises(DataFormatError, match="subject 1 has two files"):
        Amigos(KEEP_ALL).load(tmp_path)


def test_valence_comes_from_column_1_and_arousal_from_column_0(tmp_path):
    write_amigos(_flat(tmp_path, 1))
    recording = Amigos(KEEP_ALL).load(tmp_path)
    trials = recording.trial.astype(float)
    assert recording.rating_names == ("valence", "arousal", "dominance", "liking")
    np.testing.assert_allclose(_rating(recording, "valence"), 9 - trials / 10)
    np.testing.assert_allclose(_rating(recording, "arousal"), 1 + trials / 10)
    np.testing.assert_array_equal(_rating(recording, "dominance"), 5)
    np.testing.assert_array_equal(_rating(recording, "liking"), 6)


def test_static_facts(tmp_path):
    write_amigos(_flat(tmp_path, 1))
    recording = Amigos(KEEP_ALL).load(tmp_path)
    assert recording.ch_names == CH_NAMES == Amigos.info.ch_names
    assert " ".join(CH_NAMES) == "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4"
    assert recording.sfreq == Amigos.info.sfreq == 128.0
    assert recording.baseline_s == Amigos.info.baseline_s == 5.0
    assert Amigos.info.tasks == ("valence", "arousal", "quadrant") and Amigos.info.grid == "amigos"


def test_all_trials_drop_empty_long_videos_with_a_note(tmp_path, caplog):
    write_amigos(_flat(tmp_path, 8), empty_trials=(17, 18, 19, 20))
    write_amigos(_flat(tmp_path, 1))
    with caplog.at_level(logging.WARNING, logger="datasets.amigos"):
        recording = Amigos(AmigosConfig(trials="all", skip_subjects=())).load(tmp_path)
    assert recording.trial[recording.subject == 1].tolist() == list(range(1, 21))
    assert recording.trial[recording.subject == 8].tolist() == list(range(1, 17))
    dropped = [n for n in recording.notes if "has no samples" in n]
    assert [n.split(": trial ")[1][:2] for n in dropped] == ["17", "18", "19", "20"]
    assert all("Data_Preprocessed_P08.mat" in n for n in dropped)
    assert len([r for r in caplog.records if "has no samples" in r.getMessage()]) == 4


def test_short_trials_ignore_the_long_videos(tmp_path):
    write_amigos(_flat(tmp_path, 8), empty_trials=(17, 18, 19, 20))
    recording = Amigos(KEEP_ALL).load(tmp_path)
    assert recording.trial.tolist() == list(range(1, 17))
    assert recording.notes == ()


def test_nan_channel_trial_dropped_or_error(tmp_path):
    write_amigos(_flat(tmp_path, 1), nan_trials=(4,))
    recording = Amigos(KEEP_ALL).load(tmp_path)
    assert 4 not in recording.trial.tolist() and recording.n_trials == 15
    assert len(recording.notes) == 1
    assert "trial 4 has non-finite values in channel rows [2]" in recording.notes[0]
    with pytest.raises(DataFormatError, match="trial 4 has non-finite values"):
        Amigos(AmigosConfig(skip_subjects=(), nan_policy="error")).load(tmp_path)


def test_skipped_subjects_files_are_not_read(tmp_path):
    write_amigos(_flat(tmp_path, 1))
    write_garbage(_flat(tmp_path, 9))  # would fail if it were read
    recording = Amigos().load(tmp_path)
    assert set(recording.subject.tolist()) == {1}
    assert any("[9, 12, 21, 22, 23, 24, 33]" in n and "skip_subjects" in n for n in recording.notes)
    with pytest.raises(DataFormatError, match="Data_Preprocessed_P09.mat"):
        Amigos(KEEP_ALL).load(tmp_path)


def test_custom_skip_list(tmp_path):
    for p in (1, 2, 3):
        write_amigos(_flat(tmp_path, p), seed=p)
    recording = Amigos(AmigosConfig(skip_subjects=[2])).load(tmp_path)
    assert sorted(set(recording.subject.tolist())) == [1, 3]


def test_only_skipped_subjects_present_is_an_error(tmp_path):
    write_amigos(_flat(tmp_path, 9))
    with pytest.raises(DataNotFoundError, match="skip_subjects"):
        Amigos().load(tmp_path)


@pytest.mark.parametrize("rating, reason", [
    (np.zeros((0, 0)), "has no self-assessment"),
    (np.full((1, 12), np.nan), "has non-finite arousal/valence"),
], ids=["empty", "nan"])
def test_missing_self_assessment_is_dropped_never_labelled(tmp_path, rating, reason):
    write_amigos(_flat(tmp_path, 32), ratings={5: rating})
    recording = Amigos(KEEP_ALL).load(tmp_path)
    assert 5 not in recording.trial.tolist() and recording.n_trials == 15
    assert np.isfinite(recording.ratings).all()
    assert len(recording.notes) == 1 and f"trial 5 {reason}" in recording.notes[0]


def test_trial_shorter_than_baseline_plus_one_second_is_dropped(tmp_path):
    write_amigos(_flat(tmp_path, 1), short_trials=(2,))
    recording = Amigos(KEEP_ALL).load(tmp_path)
    assert 2 not in recording.trial.tolist()
    assert "trial 2 has 128 samples, fewer than the baseline plus one second (768)" in recording.notes[0]
    no_baseline = Amigos(AmigosConfig(skip_subjects=(), baseline_s=0.0)).load(tmp_path)
    assert 2 in no_baseline.trial.tolist() and no_baseline.baseline_s == 0.0


def test_a_file_without_any_usable_trial_is_an_error(tmp_path):
    write_amigos(_flat(tmp_path, 1), nan_trials=range(1, 17))
    with pytest.raises(DataFormatError, match="no usable trial .* Add participant 1 to skip_subjects"):
        Amigos(KEEP_ALL).load(tmp_path)


def test_malformed_cell_array_is_an_error(tmp_path):
    import scipy.io

    content = {"joined_data": np.zeros((5, 17)), "labels_selfassessment": np.zeros((1, 12))}
    scipy.io.savemat(_flat(tmp_path, 1), content)
    with pytest.raises(DataFormatError, match="'joined_data' must be a 1x20 cell array"):
        Amigos(KEEP_ALL).load(tmp_path)


def test_missing_folder_names_where_it_looked(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        Amigos().load(tmp_path)
    assert str(tmp_path) in str(err.value) and "BENCH_DATA_DIR" in str(err.value)
    assert "eecs.qmul.ac.uk/mmv/datasets/amigos" in str(err.value)


@pytest.mark.parametrize("kwargs, field", [
    ({"trials": "long"}, "trials"),
    ({"skip_subjects": (0,)}, "skip_subjects"),
    ({"skip_subjects": ("9",)}, "skip_subjects"),
    ({"nan_policy": "zero"}, "nan_policy"),
    ({"baseline_s": -1.0}, "baseline_s"),
    ({"baseline_s": float("nan")}, "baseline_s"),
])
def test_config_rejects_bad_values(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        AmigosConfig(**kwargs)


def test_config_stores_skip_list_as_tuple():
    assert AmigosConfig(skip_subjects=[1, 2]).skip_subjects == (1, 2)


def test_registry_returns_the_reader(tmp_path):
    write_amigos(_flat(tmp_path, 1))
    cls = DATASETS.get("amigos")
    assert cls is Amigos and cls.name == "amigos"
    assert cls(KEEP_ALL).load(tmp_path).n_trials == 16
