"""Evaluation protocols: how windows are split into training and test folds.

A protocol is registered under a name in :data:`bench.registry.PROTOCOLS` and turns the ids of
every window (:class:`SplitGroups`) and its labels into a list of :class:`Fold`::

    groups = SplitGroups.from_segments(segments)
    folds = PROTOCOLS.get("trial-kfold")().split(groups, y, n_folds=5, rng=rng)

Leakage-safe protocols hold out whole trials (``trial-kfold``, ``within-subject``) or whole
subjects (``subject-kfold``, ``loso``). The papers' protocols (``paper-escgan``,
``paper-de3dgan``) put windows of the same trial on both sides of a fold; they exist so that
published numbers can be reproduced, and declare ``leaky = True`` with the reason, which every
report shows. Every split is checked by :func:`check_no_leak` before it is returned, so a split
that breaks its protocol's promise never runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from bench.errors import ConfigError, LeakageError
from bench.registry import PROTOCOLS
from bench.seeding import sklearn_seed

_SHOWN = 10  # offending ids listed in a LeakageError message


@dataclass(frozen=True, eq=False)
class SplitGroups:
    """The ids of every window that a protocol may group by.

    Parameters
    ----------
    subject, session, trial_id, position : ndarray of int64, shape (n,)
        Source subject, session and trial (``trial_id`` is unique over subjects and sessions)
        of every window, and its index within its trial in time order.
    """

    subject: np.ndarray
    session: np.ndarray
    trial_id: np.ndarray
    position: np.ndarray

    def __post_init__(self) -> None:
        n = np.asarray(self.subject).size
        for field in ("subject", "session", "trial_id", "position"):
            ids = np.asarray(getattr(self, field))
            if ids.ndim != 1 or ids.size != n or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
                raise ConfigError(
                    f"SplitGroups.{field} must be a 1-D integer array of {n} ids (one per window), "
                    f"got {ids.dtype} of shape {ids.shape}"
                )
            object.__setattr__(self, field, ids.astype(np.int64, copy=False))

    @classmethod
    def from_segments(cls, segments: Any) -> SplitGroups:
        """The ids of a :class:`datasets.recording.Segments`."""
        return cls(segments.subject, segments.session, segments.trial_id, segments.position)

    def __len__(self) -> int:
        return int(self.subject.size)


@dataclass(frozen=True, eq=False)
class Fold:
    """One training/test split.

    Parameters
    ----------
    name : str
        ``"fold-0"`` for pooled protocols, ``"s03"`` for leave-one-subject-out,
        ``"s03-fold-1"`` for within-subject folds.
    train, test : ndarray of int64, shape (n_train,) and (n_test,)
        Sorted window indices.
    subject : int or None
        The subject of a within-subject fold; None when subjects are pooled.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    subject: int | None = None


class Protocol:
    """Base of every protocol: input checks, then the split, then :func:`check_no_leak`.

    Subclasses set the class attributes and implement :meth:`_split`.

    Attributes
    ----------
    leaky : bool
        Whether train and test may share windows of the same trial.
    leak_reason : str
        Why a leaky protocol inflates results; empty for safe protocols.
    held_out : tuple of str
        :class:`SplitGroups` fields whose values never appear in both train and test of a fold.
    per_subject : bool
        Whether every fold holds the windows of a single subject (``Fold.subject``).
    uses_n_folds : bool
        Whether ``n_folds`` is used; False when the data fixes the number of folds.
    """

    name: ClassVar[str]
    leaky: ClassVar[bool] = False
    leak_reason: ClassVar[str] = ""
    held_out: ClassVar[tuple[str, ...]] = ()
    per_subject: ClassVar[bool] = False
    uses_n_folds: ClassVar[bool] = True

    def split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        """Split the windows into folds.

        Parameters
        ----------
        groups : SplitGroups
            Ids of the ``n`` windows.
        y : ndarray of int, shape (n,)
            Class labels ``0 .. n_classes - 1`` of the windows; every class up to the largest
            label must occur.
        n_folds : int
            Number of folds (at least 2); ignored by protocols with ``uses_n_folds = False``.
        rng : numpy Generator
            Source of the splitters' ``random_state``; the same seed gives the same folds.

        Returns
        -------
        list of Fold

        Raises
        ------
        ConfigError
            For labels that do not match the windows or miss a class, ``n_folds < 2``, or more
            folds than the groups they hold out.
        LeakageError
            When the split breaks the protocol's promise (a bug in the protocol).
        """
        y = _check_labels(self.name, groups, y)
        if self.uses_n_folds:
            _check_n_folds(self.name, n_folds)
        folds = self._split(groups, y, n_folds, rng)
        check_no_leak(self, groups, folds)
        return folds

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        raise NotImplementedError


def _check_labels(protocol: str, groups: SplitGroups, y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (len(groups),) or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(
            f"{protocol}: labels must be a 1-D integer array with one label per window "
            f"({len(groups)}), got {y.dtype} of shape {y.shape}"
        )
    present = np.unique(y)
    if present.size and present[0] < 0:
        raise ConfigError(f"{protocol}: labels must be 0 .. n_classes - 1, got {present[0]}")
    missing = np.setdiff1d(np.arange(present[-1] + 1 if present.size else 0), present)
    if present.size < 2 or missing.size:
        raise ConfigError(
            f"{protocol}: every class needs windows, but the labels hold only classes "
            f"{present.tolist()} (missing: {missing.tolist() or 'a second class'}); check the task's "
            "thresholds or choose a dataset/subjects in which every class occurs"
        )
    return y.astype(np.int64, copy=False)


def _check_n_folds(protocol: str, n_folds: int) -> None:
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ConfigError(f"{protocol}: the number of folds must be an integer >= 2, got {n_folds!r}; pass e.g. --folds 5")


def _need_groups(protocol: str, n_groups: int, n_folds: int, what: str, fix: str) -> None:
    """Refuse more folds than ``what`` (e.g. "trials") to hold out."""
    if n_folds > n_groups:
        raise ConfigError(f"{protocol}: {n_folds} folds need at least {n_folds} {what}, but there are {n_groups}; {fix}")


def _folds(splits: Iterable[tuple[np.ndarray, np.ndarray]], names: Iterable[str], subject: int | None = None) -> list[Fold]:
    """Folds from ``(train, test)`` index pairs, indices sorted int64."""
    return [
        Fold(name, np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(test, dtype=np.int64)), subject)
        for name, (train, test) in zip(names, splits)
    ]


def _fold_names(n_folds: int, prefix: str = "") -> list[str]:
    return [f"{prefix}fold-{k}" for k in range(n_folds)]


def _subject_name(subject: int) -> str:
    return f"s{subject:02d}"


def _stratified_group_kfold(
    y: np.ndarray, by: np.ndarray, n_folds: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``StratifiedGroupKFold`` (shuffled) splits of windows grouped by ``by``."""
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=sklearn_seed(rng))
    return splitter.split(np.zeros(y.size), y, groups=by)


@PROTOCOLS.register("trial-kfold")
class TrialKFold(Protocol):
    """Whole trials held out, subjects pooled; folds stratified by the trials' labels (default)."""

    held_out = ("trial_id",)

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        n_trials = np.unique(groups.trial_id).size
        _need_groups(self.name, n_trials, n_folds, "trials", "lower --folds")
        return _folds(_stratified_group_kfold(y, groups.trial_id, n_folds, rng), _fold_names(n_folds))


@PROTOCOLS.register("subject-kfold")
class SubjectKFold(Protocol):
    """Whole subjects held out; folds stratified by label as far as the subjects allow."""

    held_out = ("subject", "trial_id")

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        n_subjects = np.unique(groups.subject).size
        _need_groups(self.name, n_subjects, n_folds, "subjects", f"pass --folds {n_subjects} or fewer (or use loso)")
        return _folds(_stratified_group_kfold(y, groups.subject, n_folds, rng), _fold_names(n_folds))


@PROTOCOLS.register("loso")
class LeaveOneSubjectOut(Protocol):
    """Leave one subject out: one fold per subject, named after it (``--folds`` is ignored)."""

    held_out = ("subject", "trial_id")
    uses_n_folds = False

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        subjects = np.unique(groups.subject)
        _need_groups(self.name, subjects.size, 2, "subjects", "load more subjects or use trial-kfold")
        splits = LeaveOneGroupOut().split(np.zeros(y.size), y, groups=groups.subject)
        return _folds(splits, [_subject_name(int(s)) for s in subjects])


@PROTOCOLS.register("within-subject")
class WithinSubject(Protocol):
    """One model per subject: that subject's trials held out in k folds, stratified by label.

    Notes
    -----
    Within a subject, folds come from ``StratifiedGroupKFold`` over ``trial_id``. When a class
    occurring in that subject has fewer trials than folds, stratification is impossible and the
    subject's folds come from ``GroupKFold`` (shuffled) instead; some of its test folds then miss
    that class. Classes a subject never shows stay absent from all of its folds.
    """

    held_out = ("trial_id",)
    per_subject = True

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        folds = []
        for subject in np.unique(groups.subject):
            rows = np.flatnonzero(groups.subject == subject)
            trials, first = np.unique(groups.trial_id[rows], return_index=True)
            name = _subject_name(int(subject))
            _need_groups(self.name, trials.size, n_folds, f"trials of subject {name}", "lower --folds")
            trials_per_class = np.bincount(y[rows][first])
            if trials_per_class[trials_per_class > 0].min() >= n_folds:
                splits = _stratified_group_kfold(y[rows], groups.trial_id[rows], n_folds, rng)
            else:
                splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=sklearn_seed(rng))
                splits = splitter.split(rows, groups=groups.trial_id[rows])
            local = ((rows[train], rows[test]) for train, test in splits)
            folds += _folds(local, _fold_names(n_folds, f"{name}-"), int(subject))
        return folds


@PROTOCOLS.register("paper-escgan")
class PaperEscgan(Protocol):
    """ESC-GAN's protocol (leaky): fold k tests the k-th contiguous time block of every trial.

    Notes
    -----
    Reproduces TorchEEG's ``KFoldGroupbyTrial(shuffle=False)``: the windows of every trial, in
    time order (``position``), are cut into ``n_folds`` contiguous blocks of
    ``np.array_split`` sizes; fold k tests block k of every trial of every subject and trains on
    the rest. Deterministic: ``rng`` is not used.
    """

    leaky = True
    leak_reason = (
        "train and test windows come from the same trials (adjacent in time): temporal "
        "autocorrelation inflates accuracy"
    )

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        order = np.lexsort((groups.position, groups.trial_id))
        starts = np.flatnonzero(np.diff(groups.trial_id[order])) + 1
        block = np.empty(len(groups), dtype=np.int64)
        for rows in np.split(order, starts):
            _need_groups(
                self.name, rows.size, n_folds, f"windows in trial_id {groups.trial_id[rows[0]]}",
                "lower --folds or cut shorter windows",
            )
            for k, part in enumerate(np.array_split(rows, n_folds)):
                block[part] = k
        splits = ((np.flatnonzero(block != k), np.flatnonzero(block == k)) for k in range(n_folds))
        return _folds(splits, _fold_names(n_folds))


@PROTOCOLS.register("paper-de3dgan")
class PaperDe3dgan(Protocol):
    """DE-3DGAN's protocol (leaky): stratified k-fold over the pooled windows of all subjects."""

    leaky = True
    leak_reason = (
        "windows are split one by one, so every trial has windows in both train and test "
        "(neighbours in time, same label): temporal autocorrelation inflates accuracy"
    )

    def _split(self, groups: SplitGroups, y: np.ndarray, n_folds: int, rng: np.random.Generator) -> list[Fold]:
        _need_groups(self.name, int(np.bincount(y).min()), n_folds, "windows in the rarest class", "lower --folds")
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=sklearn_seed(rng))
        return _folds(splitter.split(np.zeros(y.size), y), _fold_names(n_folds))


def _listed(ids: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:_SHOWN])
    return shown + (f", ... ({ids.size} in all)" if ids.size > _SHOWN else "")


def _check_indices(where: str, side: str, idx: np.ndarray, n: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise LeakageError(f"{where}: {side} must be a non-empty 1-D integer index array, got {idx.dtype} {idx.shape}")
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise LeakageError(f"{where}: {side} holds indices outside 0..{n - 1}: {_listed(bad)}")
    unique, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        raise LeakageError(f"{where}: {side} holds indices more than once: {_listed(unique[counts > 1])}")
    return idx


def check_no_leak(protocol: Protocol | type[Protocol], groups: SplitGroups, folds: list[Fold]) -> None:
    """Verify that every fold keeps the promise of ``protocol``.

    For every protocol: train and test are non-empty, hold valid indices at most once and are
    disjoint. For safe protocols additionally: no value of a ``held_out`` id (trial, and subject
    for subject-held-out protocols) occurs on both sides, and for per-subject protocols both sides
    hold only the fold's subject.

    Parameters
    ----------
    protocol : Protocol instance or class
    groups : SplitGroups
        Ids of the ``n`` windows the folds index.
    folds : list of Fold

    Raises
    ------
    LeakageError
        Naming the protocol, the fold and the offending indices, trials or subjects.
    """
    n = len(groups)
    for fold in folds:
        where = f"protocol {protocol.name!r}, fold {fold.name!r}"
        train = _check_indices(where, "train", fold.train, n)
        test = _check_indices(where, "test", fold.test, n)
        shared = np.intersect1d(train, test)
        if shared.size:
            raise LeakageError(f"{where}: windows {_listed(shared)} are in both train and test")
        for field in protocol.held_out:
            ids = getattr(groups, field)
            shared = np.intersect1d(ids[train], ids[test])
            if shared.size:
                raise LeakageError(
                    f"{where}: {field} {_listed(shared)} appear(s) in both train and test; this protocol "
                    f"holds out whole {field} values, so the split is wrong (a bug in the protocol)"
                )
        if protocol.per_subject:
            subjects = np.unique(groups.subject[np.concatenate([train, test])])
            if fold.subject is None or subjects.tolist() != [fold.subject]:
                raise LeakageError(
                    f"{where}: a per-subject fold must hold windows of its own subject only "
                    f"(Fold.subject={fold.subject}), but holds subject(s) {_listed(subjects)}"
                )
