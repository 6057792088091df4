import pickle
import struct

import numpy as np
import pytest

import datasets
from bench.errors import DataFormatError, DataNotFoundError, UnsafePickleError
from datasets.deap import CH_NAMES, Deap, DeapConfig, read_dat, write_dat
from tests.datasets.fixtures_deap import write_deap


def test_fixture_is_a_python2_pickle_that_needs_latin1(tmp_path):
    (path,) = write_deap(tmp_path, subjects=(1,))
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(path.read_bytes())  # Python 3's default encoding fails, as on the real files
    data = pickle.loads(path.read_bytes(), encoding="latin1")["data"]
    assert data.shape == (3, 40, 768) and data.dtype == np.float64


def test_write_read_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    data, labels = rng.normal(size=(2, 40, 500)), rng.uniform(1, 9, (2, 4))
    write_dat(tmp_path / "s05.dat", data, labels)
    got_data, got_labels = read_dat(tmp_path / "s05.dat")
    np.testing.assert_array_equal(got_data, data)
    np.testing.assert_array_equal(got_labels, labels)


def test_reader_keeps_32_eeg_channels_in_file_order_and_ids(tmp_path):
    write_deap(tmp_path / "deap" / "data_preprocessed_python", subjects=(3, 7))
    rec = datasets.load("deap", data_dir=tmp_path)
    assert rec.ch_names == CH_NAMES and rec.sfreq == 128 and rec.baseline_s == 3
    assert rec.subject.tolist() == [3, 3, 3, 7, 7, 7]
    assert rec.trial.tolist() == [1, 2, 3, 1, 2, 3]
    assert rec.rating_names == ("valence", "arousal", "dominance", "liking")
    x = rec.trials[4]  # subject 7, trial 2
    assert x.shape == (32, 768) and x.dtype == np.float32
    np.testing.assert_allclose(x.mean(axis=1), 700 + 10 + np.arange(32), atol=0.01)


@pytest.mark.parametrize("layout", ["deap/data_preprocessed_python", "DEAP/data_preprocessed_python", "deap", ""])
def test_data_dir_layouts(tmp_path, layout):
    write_deap(tmp_path / layout, subjects=(1,))
    assert datasets.load("deap", data_dir=tmp_path).n_trials == 3


def test_pointing_straight_at_the_dataset_folder(tmp_path):
    write_deap(tmp_path / "somewhere" / "data_preprocessed_python", subjects=(1,))
    assert datasets.load("deap", data_dir=tmp_path / "somewhere").n_trials == 3


def test_bench_data_dir_environment_variable(tmp_path, monkeypatch):
    write_deap(tmp_path / "deap", subjects=(2,))
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    assert datasets.load("deap").subject.tolist() == [2, 2, 2]


def test_only_sNN_dat_files_are_read(tmp_path):
    folder = tmp_path / "deap" / "data_preprocessed_python"
    write_deap(folder, subjects=(1,))
    for junk in (".DS_Store", "s1.dat", "s01.dat.bak", "readme.txt", "s001.dat"):
        (folder / junk).write_bytes(b"\x00garbage")
    assert [p.name for p in Deap().files(tmp_path)] == ["s01.dat"]


def test_missing_folder_error_names_paths_layout_licence_and_env(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        datasets.load("deap", data_dir=tmp_path / "nowhere")
    msg = str(e.value)
    for part in (str(tmp_path / "nowhere"), "does not exist", "data_preprocessed_python/s01.dat", "BENCH_DATA_DIR",
                 "licensed"):
        assert part in msg


def test_no_data_dir_at_all_says_how_to_give_one():
    with pytest.raises(DataNotFoundError, match="--data-dir DIR or set BENCH_DATA_DIR"):
        datasets.load("deap")


def _malicious_pickle(module: str, name: str, arg: bytes) -> bytes:
    return b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nU" + bytes([len(arg)]) + arg + b"\x85R."


@pytest.mark.parametrize("module,name", [("os", "system"), ("builtins", "eval"), ("posix", "system"),
                                         ("numpy", "load"), ("subprocess", "call")])
def test_crafted_pickle_is_refused_and_never_executed(tmp_path, module, name):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "s01.dat"
    path.write_bytes(_malicious_pickle(module, name, f"touch {sentinel}".encode()))
    with pytest.raises(UnsafePickleError, match=rf"{path}.*{module}\.{name}"):
        read_dat(path)
    assert not sentinel.exists()


def test_persistent_ids_are_refused(tmp_path):
    path = tmp_path / "s01.dat"
    path.write_bytes(b"\x80\x02U\x03abcQ.")  # BINPERSID
    with pytest.raises(UnsafePickleError, match="persistent"):
        read_dat(path)


def test_truncated_file_names_the_file(tmp_path):
    (path,) = write_deap(tmp_path, subjects=(1,))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataFormatError, match=r"s01\.dat.*truncated"):
        read_dat(path)


def test_wrong_keys_and_shapes_are_explained(tmp_path):
    path = tmp_path / "s01.dat"
    path.write_bytes(b"\x80\x02}(U\x04dataK\x01u.")
    with pytest.raises(DataFormatError, match="keys 'data' and 'labels'"):
        read_dat(path)
    write_dat(path, np.zeros((2, 32, 600)), np.ones((2, 4)))
    with pytest.raises(DataFormatError, match="40 channels"):
        read_dat(path)
    write_dat(path, np.zeros((2, 40, 600)), np.ones((3, 4)))
    with pytest.raises(DataFormatError, match="'labels' must be"):
        read_dat(path)
    write_dat(path, np.zeros((2, 40, 384)), np.ones((2, 4)))
    with pytest.raises(DataFormatError, match="baseline"):
        read_dat(path)


def test_nan_rating_is_an_error_naming_trial_and_rating(tmp_path):
    labels = np.full((2, 4), 5.0)
    labels[1, 1] = np.nan
    write_dat(tmp_path / "s01.dat", np.zeros((2, 40, 600)), labels)
    with pytest.raises(DataFormatError, match="'arousal' of trial 2"):
        read_dat(tmp_path / "s01.dat")


def test_nan_eeg_follows_the_policy(tmp_path, caplog):
    data = np.zeros((3, 40, 600))
    data[1, 5, 100] = np.nan
    data[2, 35, :] = np.nan  # a peripheral channel: not EEG, irrelevant
    write_dat(tmp_path / "s01.dat", data, np.full((3, 4), 5.0))
    rec = Deap().read_file(tmp_path / "s01.dat")
    assert rec.trial.tolist() == [1, 3]
    assert len(rec.notes) == 1 and "trial 2" in rec.notes[0] and "[5]" in rec.notes[0]
    assert "dropped" in caplog.text
    with pytest.raises(DataFormatError, match="nan_policy='drop-trial'"):
        Deap(DeapConfig(nan_policy="error")).read_file(tmp_path / "s01.dat")


def test_any_trial_length_with_baseline_plus_one_window(tmp_path):
    write_dat(tmp_path / "s01.dat", np.zeros((1, 40, 384 + 128)), np.full((1, 4), 5.0))
    prep = datasets.prepare("deap", data_dir=tmp_path, feature_config=None)
    assert prep.segments.X.shape == (1, 32, 128)


def test_bad_struct_payload_is_a_format_error(tmp_path):
    path = tmp_path / "s01.dat"
    path.write_bytes(b"\x80\x02T" + struct.pack("<I", 10**9) + b"short")
    with pytest.raises(DataFormatError):
        read_dat(path)
