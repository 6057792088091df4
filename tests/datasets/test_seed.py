"""SEED reader: both naming generations, session ranking, trial keys, labels, errors, DE features."""

from __future__ import annotations

import numpy as np
import pytest

import datasets.seed  # noqa: F401  (registers "seed" until datasets/__init__ imports it)
from bench.errors import ConfigError, DataFormatError, DataNotFoundError
from bench.registry import DATASETS
from datasets.base import FileDataset
from datasets.seed import CH_NAMES, Seed, SeedConfig, number_sessions
from tests.datasets.fixtures_mat import (
    SEED_LABELS,
    write_garbage,
    write_seed_features,
    write_seed_folder,
    write_seed_labels,
    write_seed_session,
    write_v73_stub,
)

# Written out of date order, and with subject 10 sorting before subject 2 as text.
NUMBERED = ["2_20140413", "10_20131211", "2_20140404", "10_20131130", "2_20140419"]
NUMBERED_IDS = {
    "2_20140404": (2, 1), "2_20140413": (2, 2), "2_20140419": (2, 3),
    "10_20131130": (10, 1), "10_20131211": (10, 2),
}


def _by_ids(recording):
    """(subject, session, trial) -> trial array."""
    keys = zip(recording.subject, recording.session, recording.trial)
    return {(int(s), int(ss), int(t)): x for (s, ss, t), x in zip(keys, recording.trials)}


@pytest.fixture
def numbered_root(tmp_path):
    written = write_seed_folder(tmp_path / "SEED" / "Preprocessed_EEG", NUMBERED, n_trials=2)
    return tmp_path, written


def test_numbered_files_get_integer_subjects_and_date_ranked_sessions(numbered_root):
    root, written = numbered_root
    recording = FileDataset.load(Seed(), root)
    got = _by_ids(recording)
    assert len(got) == len(NUMBERED) * 2
    for name, (subject, session) in NUMBERED_IDS.items():
        for trial, x in written[name].items():
            np.testing.assert_array_equal(got[(subject, session, trial)], x.astype(np.float32))


def test_recording_is_ordered_by_subject_then_session(numbered_root):
    recording = Seed().load(numbered_root[0])
    assert recording.subject.tolist() == [2] * 6 + [10] * 4
    assert recording.session.tolist() == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2]


def test_name_form_files_are_numbered_by_alphabetical_rank(tmp_path):
    names = ["zhujiayi_20130709", "dujingcheng_20131030", "jianglin_20140404", "dujingcheng_20131027"]
    written = write_seed_folder(tmp_path / "Preprocessed_EEG", names, n_trials=1)
    got = _by_ids(Seed().load(tmp_path))
    expected = {
        "dujingcheng_20131027": (1, 1), "dujingcheng_20131030": (1, 2),
        "jianglin_20140404": (2, 1), "zhujiayi_20130709": (3, 1),
    }
    assert set(got) == {(*ids, 1) for ids in expected.values()}
    for name, ids in expected.items():
        np.testing.assert_array_equal(got[(*ids, 1)], written[name][1].astype(np.float32))


def test_mixed_generations_name_two_example_files(tmp_path):
    write_seed_folder(tmp_path / "Preprocessed_EEG", ["1_20131027", "dujingcheng_20131030"], n_trials=1)
    with pytest.raises(DataFormatError, match="1_20131027.mat") as err:
        Seed().load(tmp_path)
    assert "dujingcheng_20131030.mat" in str(err.value)


def test_two_files_of_one_subject_on_one_date_are_an_error(tmp_path):
    paths = [tmp_path / "1_20131027.mat", tmp_path / "01_20131027.mat"]
    with pytest.raises(DataFormatError, match="share the date 20131027"):
        number_sessions(paths)


def test_trial_keys_sort_numerically_and_labels_follow_them(tmp_path):
    write_seed_folder(tmp_path, ["1_20131027"], n_trials=11)
    recording = Seed().load(tmp_path)
    assert recording.trial.tolist() == list(range(1, 12))
    assert [x.shape[1] for x in recording.trials] == [401 + k for k in range(1, 12)]  # eeg10 after eeg9
    assert recording.ratings[:, 0].tolist() == list(SEED_LABELS[:11])


def test_channels_sampling_rate_and_types(tmp_path):
    write_seed_folder(tmp_path, ["1_20131027"], n_trials=2)
    recording = Seed().load(tmp_path)
    assert recording.ch_names == CH_NAMES == Seed.info.ch_names
    assert len(CH_NAMES) == 62 and (CH_NAMES[0], CH_NAMES[9], CH_NAMES[-1]) == ("FP1", "FZ", "CB2")
    assert recording.sfreq == Seed.info.sfreq == 200.0
    assert recording.baseline_s == Seed.info.baseline_s == 0.0
    assert recording.rating_names == ("emotion",)
    assert Seed.info.tasks == ("emotion",) and Seed.info.grid == "seed"
    assert all(x.dtype == np.float32 and x.shape[0] == 62 for x in recording.trials)


def test_only_session_files_are_read(tmp_path):
    folder = tmp_path / "Preprocessed_EEG"
    write_seed_folder(folder, ["3_20140603"], n_trials=1)
    for junk in ("readme.txt", ".DS_Store", "channel-order.xlsx", "notes_2013.mat"):
        (folder / junk).write_bytes(b"not a session file")
    assert Seed().find_files(tmp_path) == [folder / "3_20140603.mat"]


def test_a_folder_holding_the_files_directly_is_accepted(tmp_path):
    write_seed_folder(tmp_path, ["4_20140621"], n_trials=1)
    assert Seed().load(tmp_path).subject.tolist() == [4]


def test_label_count_mismatch_names_both_files(tmp_path):
    write_seed_session(tmp_path / "1_20131027.mat", n_trials=3)
    label_path = write_seed_labels(tmp_path, SEED_LABELS[:4])
    with pytest.raises(DataFormatError, match="1_20131027.mat has 3 trial variables") as err:
        Seed().load(tmp_path)
    assert str(label_path) in str(err.value)


def test_label_values_outside_minus_one_to_one_are_an_error(tmp_path):
    write_seed_session(tmp_path / "1_20131027.mat", n_trials=2)
    write_seed_labels(tmp_path, [1, 2])
    with pytest.raises(DataFormatError, match="-1/0/1"):
        Seed().load(tmp_path)


def test_missing_label_file_is_reported(tmp_path):
    write_seed_session(tmp_path / "1_20131027.mat", n_trials=1)
    with pytest.raises(DataNotFoundError, match="label.mat"):
        Seed().load(tmp_path)


def test_garbage_file_names_the_file(tmp_path):
    write_seed_labels(tmp_path, SEED_LABELS[:1])
    write_garbage(tmp_path / "1_20131027.mat")
    with pytest.raises(DataFormatError, match="1_20131027.mat: not a readable MATLAB file"):
        Seed().load(tmp_path)


def test_matlab_v73_file_says_what_to_do(tmp_path):
    write_seed_labels(tmp_path, SEED_LABELS[:1])
    write_v73_stub(tmp_path / "1_20131027.mat")
    with pytest.raises(DataFormatError, match=r"1_20131027.mat: MATLAB v7.3 .*'-v7'"):
        Seed().load(tmp_path)


def test_wrong_channel_count_is_an_error(tmp_path):
    import scipy.io

    write_seed_labels(tmp_path, SEED_LABELS[:1])
    scipy.io.savemat(tmp_path / "1_20131027.mat", {"djc_eeg1": np.zeros((61, 401))})
    with pytest.raises(DataFormatError, match="'djc_eeg1' must be a numeric array"):
        Seed().load(tmp_path)


def test_missing_folder_names_where_it_looked_and_the_variable(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError) as err:
        Seed().load(missing)
    assert str(missing) in str(err.value) and "BENCH_DATA_DIR" in str(err.value)
    assert "bcmi.sjtu.edu.cn" in str(err.value)


def test_nan_trial_is_dropped_with_a_note_or_raises(tmp_path):
    write_seed_labels(tmp_path, SEED_LABELS[:3])
    write_seed_session(tmp_path / "1_20131027.mat", n_trials=3, nan_trials=[2])
    recording = Seed().load(tmp_path)
    assert recording.trial.tolist() == [1, 3]
    assert recording.ratings[:, 0].tolist() == [SEED_LABELS[0], SEED_LABELS[2]]
    assert len(recording.notes) == 1 and "trial 2" in recording.notes[0]
    with pytest.raises(DataFormatError, match="trial 2 has non-finite values"):
        Seed(SeedConfig(nan_policy="error")).load(tmp_path)


def test_bad_nan_policy_is_a_config_error():
    with pytest.raises(ConfigError, match="nan_policy"):
        SeedConfig(nan_policy="zero")


def test_registry_returns_the_reader(numbered_root):
    cls = DATASETS.get("seed")
    assert cls is Seed and cls.name == "seed"
    assert len(cls().load(numbered_root[0]).trials) == 10


@pytest.fixture
def feature_root(tmp_path):
    names = ["2_20140413", "2_20140404", "10_20131130"]
    folder = tmp_path / "SEED" / "ExtractedFeatures"
    write_seed_labels(folder, SEED_LABELS[:2])
    written = {
        name: write_seed_features(folder / f"{name}.mat", n_trials=2, seed=i) for i, name in enumerate(names)
    }
    write_seed_folder(tmp_path / "SEED" / "Preprocessed_EEG", names, n_trials=2)
    return tmp_path, written


@pytest.mark.parametrize("kind", ["de_LDS", "de_movingAve"])
def test_extracted_features_are_transposed_to_windows_channels_bands(feature_root, kind):
    root, written = feature_root
    features = Seed().load_extracted(root, kind=kind)
    ids = {"2_20140404": (2, 1), "2_20140413": (2, 2), "10_20131130": (10, 1)}
    assert set(features) == {(*ids[name], t) for name in ids for t in (1, 2)}
    for name, (subject, session) in ids.items():
        for trial in (1, 2):
            x = features[(subject, session, trial)]
            assert x.shape == (trial + 2, 62, 5) and x.dtype == np.float32
            expected = written[name][(kind, trial)].transpose(1, 0, 2).astype(np.float32)
            np.testing.assert_array_equal(x, expected)


def test_extracted_files_are_listed_in_subject_session_order(feature_root):
    root, _ = feature_root
    names = [p.name for p in Seed().extracted_files(root)]
    assert names == ["2_20140404.mat", "2_20140413.mat", "10_20131130.mat"]


def test_extracted_features_use_the_raw_readers_numbering(feature_root):
    root, _ = feature_root
    raw = Seed().load(root)
    features = Seed().load_extracted(root)
    assert set(features) == set(_by_ids(raw))


def test_extracted_features_kinds_differ(feature_root):
    lds = Seed().load_extracted(feature_root[0], kind="de_LDS")
    moving = Seed().load_extracted(feature_root[0], kind="de_movingAve")
    assert not np.array_equal(lds[(2, 1, 1)], moving[(2, 1, 1)])


def test_unknown_feature_kind_is_a_config_error(feature_root):
    with pytest.raises(ConfigError, match="de_LDS"):
        Seed().load_extracted(feature_root[0], kind="psd_LDS")


def test_missing_extracted_features_folder_names_where_it_looked(numbered_root):
    root, _ = numbered_root
    with pytest.raises(DataNotFoundError, match="ExtractedFeatures") as err:
        Seed().load_extracted(root)
    assert str(root / "SEED") in str(err.value) and "BENCH_DATA_DIR" in str(err.value)


def test_missing_feature_key_names_file_and_key(tmp_path):
    folder = tmp_path / "ExtractedFeatures"
    write_seed_labels(folder, SEED_LABELS[:2])
    write_seed_features(folder / "1_20131027.mat", n_trials=2, kinds=("de_LDS",))
    with pytest.raises(DataFormatError, match=r"1_20131027.mat: variable 'de_movingAve1' is missing"):
        Seed().load_extracted(tmp_path, kind="de_movingAve")
