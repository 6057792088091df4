"""The data context of a study: one dataset prepared once, with its labels, views, groups and folds.

Every cell of a study on a dataset reads the same :class:`DataContext`; :class:`Contexts` keeps the
one of the study a process is computing (a worker process holds its own).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bench.components import DataInfo
from bench.config import config_hash
from bench.hard_case import selected_windows, thin_fold
from bench.protocols import Fold, SplitGroups
from bench.registry import CLASSIFIERS, METHODS, PROTOCOLS
from bench.seeding import SeedScope
from bench.study import StudyConfig
from datasets.labels import LabelConfig, make_labels
from datasets.paths import cache_dir
from datasets.pipeline import Prepared, prepare
from datasets.views import Views


@dataclass(frozen=True, eq=False)
class Split:
    """The windows one fit trains on and is scored on.

    Parameters
    ----------
    train, test : ndarray of int64, shape (n_train,) and (n_test,)
        Window indices into the dataset.
    seeds : SeedScope
        Root seed and ``where = (dataset, task, protocol, seed, split name)``: every seed of a fit on
        the split is ``seeds.rng(*purpose)`` (without method or classifier in ``where``).
    """

    train: np.ndarray
    test: np.ndarray
    seeds: SeedScope

    @property
    def where(self) -> tuple[object, ...]:
        """``(dataset, task, protocol, seed, split name)``: names the split in keys and messages."""
        return self.seeds.where

    @property
    def name(self) -> str:
        """The split's name (``fold-1``, ``fold-1/inner-3``)."""
        return str(self.where[-1])

    @property
    def train_hash(self) -> str:
        """Hash of the training window indices (part of every key of a fit on the split)."""
        return hashlib.sha1(np.ascontiguousarray(self.train).tobytes()).hexdigest()


class DataContext:
    """One dataset of a study, prepared once per process: views, labels and splits.

    Parameters
    ----------
    config : StudyConfig
    dataset : str
    """

    def __init__(self, config: StudyConfig, dataset: str) -> None:
        clf_reps = {CLASSIFIERS.get(c).representation for c in config.classifiers}
        reps = clf_reps | {METHODS.get(m).representation_for(config.method_config(m), r)
                           for m in config.methods for r in clf_reps}
        needs_de = bool(reps & {"de", "de-grid"})
        self.config = config
        self.dataset = dataset
        self.prepared: Prepared = prepare(
            dataset, data_dir=config.data_dir, reader=config.reader_config(dataset),
            segment_config=config.segment, feature_config=config.features if needs_de else None,
        )
        self.views = Views(self.prepared, config.features, config.segment.baseline)
        self.groups = SplitGroups.from_segments(self.prepared.segments)
        self._folds: dict[tuple[str, str, int], list[Fold]] = {}
        self._labels: dict[str, tuple[np.ndarray, DataInfo]] = {}

    def labels(self, task: str) -> tuple[np.ndarray, DataInfo]:
        """Labels of every window for ``task`` and the description components get (memoised)."""
        if task not in self._labels:
            self._labels[task] = self._make_labels(task)
        return self._labels[task]

    def _make_labels(self, task: str) -> tuple[np.ndarray, DataInfo]:
        rule = LabelConfig(task=task, threshold=self.config.labels.threshold, comparison=self.config.labels.comparison)
        seg = self.prepared.segments
        y = make_labels(seg.ratings, seg.rating_names, rule)
        info = DataInfo(sfreq=seg.sfreq, ch_names=seg.ch_names, grid=self.prepared.grid,
                        band_names=self.prepared.band_names or self.config.features.band_names,
                        class_names=rule.class_names)
        return y, info

    def seeds(self, task: str, protocol: str, seed: int) -> SeedScope:
        """The seed scope of the dataset under ``task``, ``protocol`` and root ``seed``."""
        return SeedScope(seed, (self.dataset, task, protocol))

    def folds(self, task: str, protocol: str, seed: int) -> list[Fold]:
        """The protocol's folds for this task and seed (deterministic, memoised)."""
        key = (task, protocol, seed)
        if key not in self._folds:
            y, _ = self.labels(task)
            seeds = self.seeds(task, protocol, seed)
            folds = PROTOCOLS.get(protocol)().split(self.groups, y, self.config.folds, seeds.rng("split"))
            if (hard := self.config.hard_case) is not None:  # the hard-case protocol thins the training folds
                quadrant = self.labels("quadrant")[0] if hard.select == "quadrant" else y
                selected = selected_windows(hard, y, quadrant)
                folds = [thin_fold(f, selected, hard.keep, seeds.rng("hard-case", f.name)) for f in folds]
            self._folds[key] = folds
        return self._folds[key]

    def fold(self, task: str, protocol: str, seed: int, index: int) -> Split:
        """Outer fold ``index`` as a :class:`Split`."""
        fold = self.folds(task, protocol, seed)[index]
        return Split(fold.train, fold.test, self.seeds(task, protocol, seed).within(seed, fold.name))


class Contexts:
    """The data contexts of the study a process computes: built on first use, kept until another study asks."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._contexts: dict[str, DataContext] = {}

    def get(self, config: StudyConfig, dataset: str) -> DataContext:
        """The DataContext of ``dataset`` under ``config``."""
        key = self._key_of(config)
        if key != self._key:
            self._key, self._contexts = key, {}  # one study at a time per process
        if dataset not in self._contexts:
            self._contexts[dataset] = DataContext(config, dataset)
        return self._contexts[dataset]

    def holds(self, config: StudyConfig) -> bool:
        """Whether these are the contexts of ``config``'s study (:meth:`get` builds nothing new for it)."""
        return self._key == self._key_of(config)

    def adopt(self, config: StudyConfig, contexts: dict[str, DataContext]) -> None:
        """Use ``contexts``, prepared by another process (a Ray driver) for ``config``, as this study's."""
        self._key, self._contexts = self._key_of(config), dict(contexts)

    @staticmethod
    def _key_of(config: StudyConfig) -> str:
        return config_hash([config.computed(), config.data_dir, str(cache_dir())])


def context(config: StudyConfig, dataset: str) -> DataContext:
    """A fresh DataContext of ``dataset`` under ``config`` (for one-off use: tuning, scripts, tests)."""
    return DataContext(config, dataset)
