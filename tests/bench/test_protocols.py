from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from bench import protocols
from bench.errors import ConfigError, LeakageError
from bench.protocols import Fold, SplitGroups, TrialKFold, check_no_leak
from bench.registry import PROTOCOLS

SAFE = ["trial-kfold", "subject-kfold", "loso", "within-subject"]
LEAKY = ["paper-escgan", "paper-de3dgan"]
SHUFFLED = ["trial-kfold", "subject-kfold", "within-subject", "paper-de3dgan"]
N_SUBJECTS, N_TRIALS, N_WINDOWS = 4, 6, 10


def make_data(trial_labels=None):
    """4 subjects x 6 trials x 10 windows, rows in a scrambled order; labels constant per trial."""
    n_trials = N_SUBJECTS * N_TRIALS
    trial_labels = np.arange(n_trials) % 2 if trial_labels is None else np.asarray(trial_labels)
    trial_id = np.repeat(np.arange(n_trials), N_WINDOWS)
    subject = trial_id // N_TRIALS + 1
    position = np.tile(np.arange(N_WINDOWS), n_trials)
    order = np.random.default_rng(123).permutation(trial_id.size)
    groups = SplitGroups(subject[order], np.ones(order.size, np.int64), trial_id[order], position[order])
    return groups, trial_labels[trial_id][order]


def split(name, n_folds=3, seed=0, data=None):
    groups, y = data or make_data()
    return PROTOCOLS.get(name)().split(groups, y, n_folds, np.random.default_rng(seed))


def shared(ids, fold):
    return np.intersect1d(ids[fold.train], ids[fold.test])


def test_every_protocol_is_registered_and_declares_whether_it_leaks():
    assert PROTOCOLS.names() == sorted(SAFE + LEAKY)
    for name in SAFE:
        assert not PROTOCOLS.get(name).leaky and PROTOCOLS.get(name).leak_reason == ""
    for name in LEAKY:
        assert PROTOCOLS.get(name).leaky and "autocorrelation" in PROTOCOLS.get(name).leak_reason
    assert all(PROTOCOLS.describe().values())


@pytest.mark.parametrize("name", SAFE + LEAKY)
def test_every_window_is_tested_exactly_once_and_train_test_are_disjoint(name):
    groups, _ = make_data()
    folds = split(name)
    tested = np.sort(np.concatenate([f.test for f in folds]))
    np.testing.assert_array_equal(tested, np.arange(len(groups)))
    for f in folds:
        assert f.train.dtype == f.test.dtype == np.int64
        assert np.all(np.diff(f.train) > 0) and np.all(np.diff(f.test) > 0)
        assert np.intersect1d(f.train, f.test).size == 0
        population = np.flatnonzero(groups.subject == f.subject) if name == "within-subject" else np.arange(len(groups))
        np.testing.assert_array_equal(np.union1d(f.train, f.test), population)


@pytest.mark.parametrize("name", SAFE)
def test_safe_protocols_never_share_a_trial(name):
    groups, _ = make_data()
    for f in split(name):
        assert shared(groups.trial_id, f).size == 0


@pytest.mark.parametrize("name", ["subject-kfold", "loso"])
def test_subject_protocols_never_share_a_subject(name):
    groups, _ = make_data()
    folds = split(name, n_folds=2)
    for f in folds:
        assert shared(groups.subject, f).size == 0
    if name == "loso":
        assert [f.name for f in folds] == ["s01", "s02", "s03", "s04"]
        assert [np.unique(groups.subject[f.test]).tolist() for f in folds] == [[1], [2], [3], [4]]


def test_trial_kfold_stratifies_by_the_trials_label():
    groups, y = make_data()
    for f in split("trial-kfold", n_folds=4):
        assert f.name.startswith("fold-") and f.subject is None
        assert np.bincount(y[f.test]).tolist() == [30, 30]  # 3 trials of each class


def test_within_subject_folds_hold_one_subject_and_are_named_after_it():
    groups, _ = make_data()
    folds = split("within-subject", n_folds=3)
    assert [f.name for f in folds[:4]] == ["s01-fold-0", "s01-fold-1", "s01-fold-2", "s02-fold-0"]
    assert len(folds) == N_SUBJECTS * 3
    for f in folds:
        assert np.unique(groups.subject[np.concatenate([f.train, f.test])]).tolist() == [f.subject]


def test_within_subject_falls_back_to_group_kfold_when_a_class_has_too_few_trials(monkeypatch):
    labels = np.zeros(N_SUBJECTS * N_TRIALS, np.int64)
    labels[::N_TRIALS] = 1  # one trial of class 1 per subject: fewer than 3 folds
    groups, y = data = make_data(labels)
    made = []
    monkeypatch.setattr(protocols, "GroupKFold", lambda **kw: made.append(kw) or GroupKFold(**kw))
    folds = split("within-subject", n_folds=3, data=data)
    assert len(made) == N_SUBJECTS
    np.testing.assert_array_equal(np.sort(np.concatenate([f.test for f in folds])), np.arange(len(groups)))
    for f in folds:
        assert shared(groups.trial_id, f).size == 0


def test_paper_escgan_tests_one_contiguous_block_of_every_trial():
    groups, _ = make_data()
    folds = split("paper-escgan", n_folds=3)
    blocks = [np.arange(0, 4), np.arange(4, 7), np.arange(7, 10)]  # np.array_split(range(10), 3)
    for f, block in zip(folds, blocks):
        for trial in np.unique(groups.trial_id):
            in_test = groups.trial_id[f.test] == trial
            np.testing.assert_array_equal(np.sort(groups.position[f.test][in_test]), block)
        # the leak, by construction: every trial is on both sides
        np.testing.assert_array_equal(shared(groups.trial_id, f), np.unique(groups.trial_id))


def test_paper_escgan_does_not_depend_on_the_seed():
    a, b = split("paper-escgan", seed=0), split("paper-escgan", seed=1)
    assert all(np.array_equal(x.test, y.test) for x, y in zip(a, b))


def test_paper_de3dgan_pools_windows_and_leaks_trials():
    groups, y = make_data()
    folds = split("paper-de3dgan", n_folds=5)
    for f in folds:
        assert np.bincount(y[f.test]).tolist() == [24, 24]
    assert any(shared(groups.trial_id, f).size for f in folds)


@pytest.mark.parametrize("name", SAFE + LEAKY)
def test_same_seed_gives_the_same_folds(name):
    a, b = split(name, seed=7), split(name, seed=7)
    assert [f.name for f in a] == [f.name for f in b]
    assert all(np.array_equal(x.train, y.train) and np.array_equal(x.test, y.test) for x, y in zip(a, b))


@pytest.mark.parametrize("name", SHUFFLED)
def test_another_seed_gives_other_folds(name):
    first = [f.test for f in split(name, n_folds=2, seed=0)]
    others = ([f.test for f in split(name, n_folds=2, seed=seed)] for seed in range(1, 11))
    assert any(not all(np.array_equal(x, y) for x, y in zip(first, other)) for other in others)


def leaky_fold():
    """Trial 0's windows split between train and test."""
    groups, _ = make_data()
    trial0 = np.flatnonzero(groups.trial_id == 0)
    rest = np.flatnonzero(groups.trial_id != 0)
    return groups, Fold("fold-0", np.sort(np.r_[rest, trial0[:5]]), np.sort(trial0[5:]))


def test_check_no_leak_names_the_protocol_fold_and_trial():
    groups, fold = leaky_fold()
    with pytest.raises(LeakageError, match=r"'trial-kfold', fold 'fold-0': trial_id 0 appear"):
        check_no_leak(PROTOCOLS.get("trial-kfold"), groups, [fold])
    check_no_leak(PROTOCOLS.get("paper-escgan"), groups, [fold])  # a leaky protocol allows it


def test_check_no_leak_names_shared_subjects_for_subject_protocols():
    groups, _ = make_data()
    fold = Fold("s01", np.flatnonzero(groups.trial_id < 3), np.flatnonzero(groups.trial_id >= 3))
    with pytest.raises(LeakageError, match="subject 1 appear"):
        check_no_leak(PROTOCOLS.get("loso"), groups, [fold])


def test_check_no_leak_rejects_overlap_bad_indices_and_mixed_subjects():
    groups, _ = make_data()
    n = len(groups)
    idx = np.arange(n)
    with pytest.raises(LeakageError, match="in both train and test"):
        check_no_leak(PROTOCOLS.get("paper-de3dgan"), groups, [Fold("fold-0", idx[:-1], idx[-2:])])
    with pytest.raises(LeakageError, match=f"outside 0..{n - 1}: {n}"):
        check_no_leak(PROTOCOLS.get("paper-de3dgan"), groups, [Fold("fold-0", idx[:-1], np.array([n]))])
    with pytest.raises(LeakageError, match="more than once"):
        check_no_leak(PROTOCOLS.get("paper-de3dgan"), groups, [Fold("fold-0", idx[:-1], idx[[-1, -1]])])
    mixed = Fold("s01-fold-0", np.flatnonzero(groups.trial_id == 1), np.flatnonzero(groups.trial_id == 7), subject=1)
    with pytest.raises(LeakageError, match=r"own subject only \(Fold.subject=1\), but holds subject\(s\) 1, 2"):
        check_no_leak(PROTOCOLS.get("within-subject"), groups, [mixed])


def test_a_buggy_split_never_reaches_the_caller():
    groups, fold = leaky_fold()
    _, y = make_data()

    class Buggy(TrialKFold):
        def _split(self, groups, y, n_folds, rng):
            return [fold]

    with pytest.raises(LeakageError, match="trial_id 0"):
        Buggy().split(groups, y, 2, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("name", "n_folds", "message"),
    [
        ("trial-kfold", 1, "integer >= 2, got 1; pass e.g. --folds 5"),
        ("trial-kfold", 25, "25 folds need at least 25 trials, but there are 24; lower --folds"),
        ("subject-kfold", 5, r"5 folds need at least 5 subjects, but there are 4; pass --folds 4 or fewer"),
        ("within-subject", 7, "7 folds need at least 7 trials of subject s01, but there are 6"),
        ("paper-escgan", 11, "11 folds need at least 11 windows in trial_id 0, but there are 10"),
        ("paper-de3dgan", 1, "integer >= 2"),
    ],
)
def test_impossible_fold_counts_are_config_errors(name, n_folds, message):
    with pytest.raises(ConfigError, match=message):
        split(name, n_folds=n_folds)


def test_loso_ignores_the_number_of_folds():
    assert len(split("loso", n_folds=1)) == N_SUBJECTS


@pytest.mark.parametrize("labels", [np.zeros(24, np.int64), np.arange(24) % 2 * 2])
def test_a_missing_class_is_a_config_error(labels):
    with pytest.raises(ConfigError, match="every class needs windows"):
        split("trial-kfold", data=make_data(labels))


def test_labels_must_match_the_windows():
    groups, y = make_data()
    with pytest.raises(ConfigError, match=r"one label per window \(240\)"):
        PROTOCOLS.get("loso")().split(groups, y[:-1], 2, np.random.default_rng(0))


def test_split_groups_come_from_segments_and_check_their_shapes():
    seg = SimpleNamespace(subject=[1, 1], session=[1, 1], trial_id=[0, 0], position=[0, 1])
    groups = SplitGroups.from_segments(seg)
    assert len(groups) == 2 and groups.position.dtype == np.int64
    with pytest.raises(ConfigError, match="SplitGroups.position must be a 1-D integer array of 2 ids"):
        SplitGroups([1, 1], [1, 1], [0, 0], [0])
