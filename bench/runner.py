"""The runner: the one place where data, methods and classifiers meet.

A study expands into **cells**, one per (dataset, task, protocol, seed, fold, method,
classifier). A cell is a pure function of the study config and its key (:func:`compute_cell`):
it reads the prepared data through the on-disk cache, derives its own seeds, fits the method on
the training fold only (or loads that fit from the fit cache, :mod:`bench.fit_cache`), asks it
for the policy's number of windows, converts them into the classifier's representation, trains
the classifier on real + synthetic training windows and scores the real test fold, clean and
under the study's attacks. That is what lets
:func:`run_study` hand cells to a process pool (``--jobs N``), skip those already recorded
(resume) and log everything from the main process.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import queue
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.components import DataInfo
from bench.config import config_hash, flatten, to_dict, to_yaml
from bench.errors import BenchError, IncompatibleError
from bench.fit_cache import FitInputs, Fitted, load_or_fit
from bench.fold_quality import class_profiles, classifier_metrics, sample_metrics
from bench.metrics import classification_metrics, confusion_matrix
from bench.policy import Policy
from bench.protocols import Fold, SplitGroups
from bench.registry import ATTACKS, CLASSIFIERS, METHODS, PROTOCOLS
from bench.results import NOT_APPLICABLE, CellStore, ResultRow, results_table, write_table
from bench.robustness import covers, eps_label, restrict, robustness
from bench.seeding import derive, torch_threads
from bench.study import StudyConfig, with_runtime
from datasets.cache import CODE_VERSION
from datasets.labels import LabelConfig, make_labels
from datasets.paths import cache_dir
from datasets.pipeline import Prepared, prepare
from datasets.views import Views
from reports.leaderboard import GROUP, summarize
from reports.spectra import quality_path, write_quality

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cell:
    """The key of one unit of work."""

    dataset: str
    task: str
    protocol: str
    seed: int
    fold: int
    fold_name: str
    method: str
    classifier: str

    @property
    def group(self) -> tuple[str, str, str, str, str]:
        """The leaderboard row this cell contributes to."""
        return (self.dataset, self.task, self.protocol, self.method, self.classifier)


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

    def folds(self, task: str, protocol: str, seed: int) -> list[Fold]:
        """The protocol's folds for this task and seed (deterministic, memoised)."""
        key = (task, protocol, seed)
        if key not in self._folds:
            y, _ = self.labels(task)
            rng = derive(seed, self.dataset, task, protocol, "split")
            self._folds[key] = PROTOCOLS.get(protocol)().split(self.groups, y, self.config.folds, rng)
        return self._folds[key]


_CONTEXTS: dict[tuple[str, str], DataContext] = {}


def context(config: StudyConfig, dataset: str) -> DataContext:
    """The process-wide DataContext of ``dataset`` under ``config``."""
    key = (config_hash([config.computed(), config.data_dir, str(cache_dir())]), dataset)
    if key not in _CONTEXTS:
        _CONTEXTS.clear()  # one study at a time per process
        _CONTEXTS[key] = DataContext(config, dataset)
    return _CONTEXTS[key]


def cell_params(config: StudyConfig, cell: Cell) -> dict[str, Any]:
    """Everything a cell's result depends on besides the data (hashed into its key, logged as params)."""
    return {
        "dataset": cell.dataset, "task": cell.task, "protocol": cell.protocol, "folds": config.folds,
        "method": cell.method, "classifier": cell.classifier, "policy": config.policy, "profile": config.profile,
        "recipe": config.recipe_of(cell.method),
        "device": config.device,
        "method_config": to_dict(config.method_config(cell.method)),
        "classifier_config": to_dict(config.classifier_config(cell.classifier)),
        "reader": to_dict(config.reader_config(cell.dataset)),
        "segment": to_dict(config.segment), "features": to_dict(config.features), "labels": to_dict(config.labels),
        "code_version": CODE_VERSION,
    }


def group_key(config: StudyConfig, cell: Cell, data_key: str) -> str:
    return config_hash({"params": cell_params(config, cell), "data": data_key})


def cell_key(group: str, cell: Cell) -> str:
    """Key of one cell: its group's key, seed and fold."""
    return config_hash({"group": group, "seed": cell.seed, "fold": cell.fold_name})


def minority_class(y: np.ndarray) -> int:
    """The rarest class present in ``y`` (n,) (the smallest label on ties)."""
    counts = np.bincount(y)
    present = np.flatnonzero(counts)
    return int(present[np.argmin(counts[present])])


def compute_cell(config: StudyConfig, cell: Cell, study: str, keys: tuple[str, str]) -> ResultRow:
    """Compute one cell: fit, sample, convert, train, score. Never touches the tracking store.

    Parameters
    ----------
    config : StudyConfig
    cell : Cell
    study : str
        Experiment name, recorded in the row.
    keys : (cell key, group key)

    Returns
    -------
    ResultRow
        ``ok`` with metrics, ``not-applicable`` with the reason the pair is incompatible, or ``failed`` with
        the error (the traceback is logged).
    """
    ctx = context(config, cell.dataset)
    row = _new_row(config, cell, study, keys)
    reps = _representations(config, cell, ctx, row)
    if reps is None:
        return row
    try:
        with torch_threads(config.torch_threads):
            _fit_and_score(config, cell, _fold(cell, ctx), ctx, row, *reps)
    except Exception as e:  # recorded as a failed cell; the study goes on
        log.error("cell %s failed:\n%s", cell, traceback.format_exc())
        row.status, row.reason = "failed", f"{type(e).__name__}: {e}"
    return row


def score_split(config: StudyConfig, ctx: DataContext, cell: Cell, split: Split,
                on_classifier: Callable[[Any], None] | None = None) -> ResultRow:
    """Fit, sample, convert, train and score on explicit windows, exactly as a cell does; errors propagate.

    This is how :mod:`bench.tuning` scores a trial on an inner validation split of a training fold
    (clean scores only: neither the study's attacks nor generation quality are run).

    Parameters
    ----------
    config : StudyConfig
        Resolves the method's and classifier's configs (a trial's overrides live here).
    ctx : DataContext
        The prepared dataset (its labels, views and outer folds).
    cell : Cell
        Names the dataset, task, protocol, seed, method and classifier.
    split : Split
        Windows to fit on and to score; ``split.where`` keys the seeds.
    on_classifier : callable, optional
        Called with the classifier before it is trained (e.g. to hook per-epoch reporting in).

    Raises
    ------
    IncompatibleError
        When the pair (or its recipe) is not applicable (a cell would be ``not-applicable``).
    """
    row = _new_row(config, cell, "", ("", ""))
    reps = _representations(config, cell, ctx, row)
    if reps is not None:
        with torch_threads(config.threads_for(1)):  # tuning scores in this process, one split at a time
            _fit_and_score(config, cell, split, ctx, row, *reps, on_classifier=on_classifier, clean_only=True)
    if row.status == NOT_APPLICABLE:
        raise IncompatibleError(f"{cell.method} with {cell.classifier}: {row.reason}")
    return row


def _new_row(config: StudyConfig, cell: Cell, study: str, keys: tuple[str, str]) -> ResultRow:
    return ResultRow(study=study, dataset=cell.dataset, task=cell.task, protocol=cell.protocol,
                     method=config.method_label(cell.method), classifier=cell.classifier, seed=cell.seed,
                     fold=cell.fold_name, leaky=PROTOCOLS.get(cell.protocol).leaky, status="ok",
                     recipe=config.recipe_of(cell.method), profile=config.profile, cell_key=keys[0], group_key=keys[1])


def _representations(config: StudyConfig, cell: Cell, ctx: DataContext, row: ResultRow) -> tuple[str, str] | None:
    """The (method, classifier) representations of the cell, or None with ``row`` not applicable and why."""
    method_cls, clf_cls = METHODS.get(cell.method), CLASSIFIERS.get(cell.classifier)
    clf_rep = clf_cls.representation
    method_rep = method_cls.representation_for(config.method_config(cell.method), clf_rep)
    try:
        ctx.views.check(method_rep, clf_rep)
    except IncompatibleError as e:
        row.status, row.reason = NOT_APPLICABLE, str(e)
        return None
    if method_cls.needs_trials and config.segment.stride_s not in (None, config.segment.window_s):
        row.status, row.reason = NOT_APPLICABLE, (
            f"{cell.method} joins a trial's windows into one signal, so windows must not overlap; "
            f"segment.stride_s={config.segment.stride_s} differs from window_s={config.segment.window_s}")
        return None
    return method_rep, clf_rep


@dataclass(frozen=True, eq=False)
class Split:
    """The windows one fit trains on and is scored on.

    Parameters
    ----------
    train, test : ndarray of int64, shape (n_train,) and (n_test,)
        Window indices into the dataset.
    where : tuple
        ``(dataset, task, protocol, seed, split name)``: the key every seed of the fit is derived from
        (without method or classifier).
    """

    train: np.ndarray
    test: np.ndarray
    where: tuple[Any, ...]

    @property
    def train_hash(self) -> str:
        """Hash of the training window indices (part of every key of a fit on the split)."""
        return hashlib.sha1(np.ascontiguousarray(self.train).tobytes()).hexdigest()


def _fold(cell: Cell, ctx: DataContext) -> Split:
    """The cell's outer fold as a Split."""
    fold = ctx.folds(cell.task, cell.protocol, cell.seed)[cell.fold]
    return Split(fold.train, fold.test, (cell.dataset, cell.task, cell.protocol, cell.seed, fold.name))


def _fit_and_score(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, row: ResultRow, method_rep: str,
                   clf_rep: str, on_classifier: Callable[[Any], None] | None = None, clean_only: bool = False) -> None:
    y, info = ctx.labels(cell.task)
    quality = config.quality and not clean_only and row.recipe == "default"
    y_train, y_test = y[split.train], y[split.test]

    method = METHODS.get(cell.method)(config.method_config(cell.method), info=info, device=config.device)
    classifier = _new_classifier(config, cell, info)
    if row.recipe == "paper" and (reason := method.paper_incompatibility(classifier)):
        row.status, row.reason = NOT_APPLICABLE, reason
        return
    if on_classifier is not None:
        on_classifier(classifier)
    clf_rng = _classifier_rng(cell, split)
    x_train = ctx.views.real(clf_rep, split.train)
    if row.recipe == "paper":
        fitted = _fit_method(config, cell, split, ctx, method, method_rep)
        method, fit_s, fit_load_s, sample_s, y_syn = fitted.method, fitted.fit_s, fitted.load_s, 0.0, y_train[:0]
        tic = time.perf_counter()
        method.train_paper(classifier, x_train, y_train, rng=clf_rng)
        row.method_stats = dict(method.stats_)
        row.fit_stop, row.fit_curve = _fit_trace(getattr(method, "fit_report_", None))
    else:
        made = _synthetic(config, cell, split, ctx, method, method_rep, quality=quality)
        x_syn, y_syn, fit_s, sample_s, row.method_stats = made.x, made.y, made.fit_s, made.sample_s, dict(made.stats)
        row.fit_stop, row.fit_curve = _fit_trace(made.fit_report)
        fit_load_s = made.fit_load_s
        row.quality = dict(made.quality)
        if len(y_syn):
            x_syn = ctx.views.convert(x_syn, method_rep, clf_rep)
            x_train = np.concatenate([x_train, x_syn])
            y_train = np.concatenate([y_train, y_syn])
        tic = time.perf_counter()
        classifier.fit(x_train, y_train, rng=clf_rng)
    train_s = time.perf_counter() - tic
    tic = time.perf_counter()
    x_test = ctx.views.real(clf_rep, split.test)
    proba = classifier.predict_proba(x_test)
    predict_s = time.perf_counter() - tic

    minority = minority_class(y[split.train])
    row.n_train, row.n_synthetic, row.n_test = len(split.train), len(y_syn), len(split.test)
    row.minority_class = minority
    row.metrics = classification_metrics(y_test, proba, info.n_classes, minority=minority)
    row.confusion = confusion_matrix(y_test, proba.argmax(axis=1), info.n_classes).tolist()
    row.times = {"fit_s": fit_s, "sample_s": sample_s, "train_s": train_s, "predict_s": predict_s,
                 **({} if fit_load_s is None else {"fit_load_s": fit_load_s})}
    if quality and not method.augments:
        _keep_reference(config, cell, split, classifier)
    elif quality and made.quality_x is not None:
        tic = time.perf_counter()
        reference = _reference(config, cell, split, ctx, clf_rep)
        row.quality.update(classifier_metrics(
            reference, lambda: _new_classifier(config, cell, info),
            ctx.views.convert(made.quality_x, method_rep, clf_rep), made.quality_y, x_train[: len(split.train)],
            x_test, y_test, info.n_classes, derive(cell.seed, *split.where, cell.method, cell.classifier, "tstr")))
        row.times["quality_s"] = made.quality_s + time.perf_counter() - tic
    if not clean_only and config.attacks:
        tic = time.perf_counter()
        _attack(config, cell, split, ctx, classifier, clf_rep, x_test, y_test, proba, row)
        row.times["attack_s"] = time.perf_counter() - tic


def _fit_trace(report: Any) -> tuple[str, list[dict[str, float]]]:
    """A generator's stop reason and inner-signal curve (:class:`methods.gan.monitor.FitReport`); empty for other methods."""
    return ("", []) if report is None else (report.stop_reason, [dict(point) for point in report.curve or ()])


def _new_classifier(config: StudyConfig, cell: Cell, info: DataInfo) -> Any:
    """An unfitted classifier of the cell's kind, with the study's config for it."""
    return CLASSIFIERS.get(cell.classifier)(config.classifier_config(cell.classifier), info=info, device=config.device)


def _classifier_rng(cell: Cell, split: Split) -> np.random.Generator:
    """The classifier's training seed: independent of the method, so every method starts alike."""
    return derive(cell.seed, *split.where, cell.classifier, "fit")


def _attack(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, classifier: Any, clf_rep: str,
            x_test: np.ndarray, y_test: np.ndarray, proba: np.ndarray, row: ResultRow) -> None:
    """The study's attacks on the trained classifier over the real test fold, into ``row``.

    The unit of eps comes from the real training windows of the split only (no synthetic, no test
    windows); every attack run draws its randomness from a seed derived from the cell and the run.
    """
    attacks = {name: ATTACKS.get(name)(config.attack_config(name), device=config.device) for name in config.attacks}
    x_real = ctx.views.real(clf_rep, split.train) if classifier.differentiable else x_test[:0]

    def rng_for(attack: str, eps: float | None) -> np.random.Generator:
        return derive(cell.seed, *split.where, cell.method, cell.classifier, "attack", attack, eps)

    row.robust, row.robust_reasons = robustness(classifier, x_real, x_test, y_test, proba, attacks, config.eps, rng_for)
    row.attacks = config.attack_keys()


QUALITY_PER_CLASS = 500
"""Synthetic windows per class drawn for the quality metrics (fewer when the training fold has fewer)."""


@dataclass
class _Synthetic:
    """One method fit's synthetic windows, what producing them cost and, with ``quality``, a quality draw.

    ``fit_s`` is the seconds the method's fit took, ``fit_load_s`` those loading it from the fit
    cache (None when it was fitted here). ``quality_x`` (in the method's representation) and
    ``quality_y`` are a separate draw of ``min(n_c, QUALITY_PER_CLASS)`` windows of every class
    ``c`` with ``n_c`` training windows: the policy's windows may cover only the minority class,
    but train-on-synthetic needs every class and the distances compare like class proportions.
    None when not measured (no quality, the ``none`` method, or a method that could not draw
    them; a warning says why).
    """

    x: np.ndarray
    y: np.ndarray
    fit_s: float
    sample_s: float
    stats: dict[str, float]
    fit_report: Any = None
    fit_load_s: float | None = None
    quality: dict[str, float] = field(default_factory=dict)
    quality_x: np.ndarray | None = None
    quality_y: np.ndarray | None = None
    quality_s: float = 0.0


_SYNTHETIC: dict[str, _Synthetic] = {}
_SYNTHETIC_KEEP = 4


def _split_key(config: StudyConfig, split: Split, *names: str) -> str:
    """Key of a fit on ``split`` by the named components under ``config`` (memo keys)."""
    return config_hash([config.computed(), split.where, split.train_hash, *names])


def _synthetic(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, method: Any, method_rep: str,
               quality: bool) -> _Synthetic:
    """Fit the method on the split's training windows and draw the policy's synthetic windows.

    The result depends on the split and the method, not the classifier (its seeds are derived
    without it), so the cells of one fold that differ only in the classifier share it: the last
    few are kept in memory, with the seconds the original fit and sample took. With ``quality``
    an augmenting method also draws a quality set, whose classifier-free quality is measured
    once, and whose class profiles are written to ``<out>/quality/`` (:mod:`reports.spectra`).

    Returns
    -------
    _Synthetic
        Shared with other cells: read, never modify. ``x`` is in ``method_rep``.
    """
    key = _split_key(config, split, cell.method, f"{type(method).__module__}.{type(method).__qualname__}", method_rep)
    if key not in _SYNTHETIC:
        y, info = ctx.labels(cell.task)
        fitted = _fit_method(config, cell, split, ctx, method, method_rep)
        method = fitted.method
        requests = Policy.parse(config.policy).requests(y[split.train], info.n_classes)
        tic = time.perf_counter()
        x_syn, y_syn = method.sample(requests, rng=derive(cell.seed, *split.where, cell.method, "sample"))
        sample_s = time.perf_counter() - tic
        made = _Synthetic(x_syn, y_syn, fitted.fit_s, sample_s, dict(method.stats_),
                          fit_report=getattr(method, "fit_report_", None), fit_load_s=fitted.load_s)
        if quality and method.augments:
            tic = time.perf_counter()
            _sample_quality(config, cell, split, ctx, method, method_rep, made)
            made.quality_s = time.perf_counter() - tic
        while len(_SYNTHETIC) >= _SYNTHETIC_KEEP:
            _SYNTHETIC.pop(next(iter(_SYNTHETIC)))
        _SYNTHETIC[key] = made
    return _SYNTHETIC[key]


def _sample_quality(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, method: Any, method_rep: str,
                    made: _Synthetic) -> None:
    """Draw the quality set of a fitted method, measure it without a classifier and write its class profiles.

    Fills ``made.quality_x``, ``made.quality_y`` and ``made.quality``. A method that cannot draw
    the set (ESC-GAN's filter may reject every edit) leaves them empty, with a warning: the cell's
    own synthetic windows were drawn, so its scores stand.
    """
    y, info = ctx.labels(cell.task)
    y_train = y[split.train]
    counts = np.bincount(y_train, minlength=info.n_classes)
    rng = derive(cell.seed, *split.where, cell.method, "quality")
    try:
        x_q, y_q = method.sample({c: int(min(n, QUALITY_PER_CLASS)) for c, n in enumerate(counts)}, rng=rng)
    except BenchError as e:
        log.warning("%s on %s: no quality set (%s); its quality columns stay empty", cell.method, split.where[-1], e)
        return
    if not len(y_q):  # a method that adds nothing, whatever it is asked for
        return
    made.quality_x, made.quality_y = x_q, y_q
    x_train = ctx.views.real(method_rep, split.train)
    scores = sample_metrics(x_q, y_q, x_train, y_train, ctx.views.real(method_rep, split.test), method_rep,
                            info.n_classes, info.sfreq, rng)
    de_grids = None
    if method_rep in ("raw", "de"):  # same conversion for real and synthetic windows, so they compare
        try:
            de_grids = (ctx.views.convert(x_train, method_rep, "de-grid"),
                        ctx.views.convert(x_q, method_rep, "de-grid"))
        except IncompatibleError:
            pass
    profiles = class_profiles(x_q, y_q, x_train, y_train, method_rep, info.class_names, info.band_names,
                              info.sfreq, de_grids)
    write_quality(quality_path(config.out, cell.dataset, cell.task, cell.protocol, cell.method, cell.seed,
                               split.where[-1], method_rep), **profiles)
    made.quality = scores


_REFERENCES: dict[str, Any] = {}
_REFERENCES_KEEP = 16
_REFERENCE_DIR: Path | None = None
"""Where the worker processes of one ``bench run`` share references (set by :func:`_start_worker`)."""


def _reference_path(key: str) -> Path | None:
    return None if _REFERENCE_DIR is None else _REFERENCE_DIR / f"{key}.pt"


def _keep_reference(config: StudyConfig, cell: Cell, split: Split, classifier: Any) -> None:
    """Remember a classifier trained on the real training windows only (a ``none`` cell's) for the fold's quality.

    In a worker process it is also written to the run's shared folder, so the other workers'
    cells of the fold load it instead of training it again.
    """
    import torch

    key = _split_key(config, split, cell.classifier)
    while len(_REFERENCES) >= _REFERENCES_KEEP:
        _REFERENCES.pop(next(iter(_REFERENCES)))
    _REFERENCES[key] = classifier
    if (path := _reference_path(key)) is not None:
        partial = path.with_suffix(f".{os.getpid()}.partial")
        torch.save(classifier, partial)
        partial.replace(path)  # atomic: another worker sees the whole file or none


def _reference(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, clf_rep: str) -> Any:
    """The fold's no-augmentation classifier of the cell's kind: the ``none`` cell's, or trained alike (same seed)."""
    import torch

    key = _split_key(config, split, cell.classifier)
    if key not in _REFERENCES and (path := _reference_path(key)) is not None and path.exists():
        _REFERENCES[key] = torch.load(path, weights_only=False)  # written by this run's own workers
    if key not in _REFERENCES:
        y, info = ctx.labels(cell.task)
        classifier = _new_classifier(config, cell, info).fit(ctx.views.real(clf_rep, split.train), y[split.train],
                                                             rng=_classifier_rng(cell, split))
        _keep_reference(config, cell, split, classifier)
    return _REFERENCES[key]


def _fit_method(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, method: Any,
                method_rep: str) -> Fitted:
    """Fit the method on the split's training windows, or load that fit from the fit cache.

    With ``config.fit_cache`` a method that sets ``cache_fit`` goes through :mod:`bench.fit_cache`:
    the result may be a loaded copy of ``method``, and its ``fit_s`` the original fit's seconds.
    """
    train = split.train
    rng_key = (cell.seed, *split.where, cell.method, "fit")

    def fit() -> float:
        y, _ = ctx.labels(cell.task)
        trials = {"trials": (ctx.groups.trial_id[train], ctx.groups.position[train])} if method.needs_trials else {}
        if method.inner_validation and not method.needs_trials:
            trials["groups"] = ctx.groups.trial_id[train]  # its inner validation split holds out whole trials
        tic = time.perf_counter()
        method.fit(ctx.views.real(method_rep, train), y[train], rng=derive(*rng_key), **trials)
        return time.perf_counter() - tic

    inputs = FitInputs(method=cell.method, representation=method_rep, data=ctx.prepared.key,
                       labels={"task": cell.task, **to_dict(config.labels)}, split=split.where,
                       train=split.train_hash, rng=rng_key)
    return load_or_fit(method, inputs, fit, enabled=config.fit_cache)


# ----------------------------------------------------------------------------------------------
# The study: plan, skip what is done, compute the rest (in parallel), log, summarise.


@dataclass
class StudyResult:
    """What ``run_study`` returns: the tidy table, the leaderboard and counts of what happened."""

    table: pd.DataFrame
    summary: pd.DataFrame
    computed: int
    skipped: int
    failed: int
    paths: list[Path]
    tracking_hint: str


def plan(config: StudyConfig) -> tuple[list[Cell], dict[str, DataContext]]:
    """Every cell of the study, in an order that keeps one method's folds, and a fold's classifiers, together.

    ``none`` comes first: its classifiers are the references of the other methods' generation quality.
    """
    contexts = {name: context(config, name) for name in config.datasets}
    cells = []
    for dataset in config.datasets:
        for task in config.tasks:
            for protocol in config.protocols:
                for seed in config.seeds:
                    folds = contexts[dataset].folds(task, protocol, seed)
                    for method in sorted(config.methods, key=lambda m: m != "none"):  # references first
                        for i, f in enumerate(folds):  # a fold's classifiers in a row share one method fit
                            cells.extend(Cell(dataset, task, protocol, seed, i, f.name, method, classifier)
                                         for classifier in config.classifiers)
    return cells, contexts


def _execute(config: StudyConfig, cells: list[tuple[Cell, tuple[str, str]]], study: str) -> Iterator[ResultRow]:
    """Compute cells in this process or in ``config.workers`` spawned processes, yielding rows as they finish.

    Workers take whole units (:func:`_units`): the classifiers of a method's fold share its fit,
    and a worker computes them in a row. Each finished cell comes back through a queue at once,
    so an interrupted study loses only the cells being computed.
    """
    units = _units(cells)
    workers = min(config.workers, len(units))
    if workers <= 1:
        config = with_runtime(config, jobs=1)  # one process: all the cores for each cell
        for cell, keys in cells:
            yield compute_cell(config, cell, study, keys)
        return
    config = with_runtime(config, jobs=workers)
    spawn = multiprocessing.get_context("spawn")  # forking a process that has started torch threads can hang
    rows = spawn.Queue()
    with tempfile.TemporaryDirectory(prefix="bench-references-") as shared:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=spawn, initializer=_start_worker,
                                   initargs=(rows, shared))
        try:
            futures = [pool.submit(_compute_unit, config, unit, study) for unit in units]
            for _ in range(len(cells)):
                while True:
                    try:
                        row = rows.get(timeout=1.0)
                        break
                    except queue.Empty:
                        broken = next((f for f in futures if f.done() and f.exception() is not None), None)
                        if broken is not None:
                            raise broken.exception()
                yield row
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _units(cells: list[tuple[Cell, tuple[str, str]]]) -> list[list[tuple[Cell, tuple[str, str]]]]:
    """Cells grouped by everything but the classifier (one method fit each), in plan order.

    The plan puts ``none`` first, so the references that generation quality needs (the folds'
    ``none`` classifiers) are usually written before another worker's fold asks for them.
    """
    units: dict[tuple, list[tuple[Cell, tuple[str, str]]]] = {}
    for cell, keys in cells:
        units.setdefault(astuple(cell)[:-1], []).append((cell, keys))
    return list(units.values())


_ROWS: Any = None
"""The queue a worker puts finished rows on (set by :func:`_start_worker`)."""


def _start_worker(rows: Any, shared: str) -> None:
    """Initialise a worker process: its result queue and the run's shared reference folder."""
    global _ROWS, _REFERENCE_DIR
    _ROWS, _REFERENCE_DIR = rows, Path(shared)


def _compute_unit(config: StudyConfig, unit: list[tuple[Cell, tuple[str, str]]], study: str) -> None:
    """Compute a unit's cells in order, putting each row on the queue as it finishes."""
    for cell, keys in unit:
        _ROWS.put(compute_cell(config, cell, study, keys))


def run_study(config: StudyConfig, progress: Callable[[int], Any] | None = None) -> StudyResult:
    """Run (or resume) a study: every cell of the grid, logged to MLflow and the output folder.

    Parameters
    ----------
    config : StudyConfig
    progress : callable, optional
        ``progress(total)`` returns an object with ``update(n)`` and ``close()`` (e.g. tqdm).

    Returns
    -------
    StudyResult
    """
    from bench.tracking import Tracker  # mlflow is imported by the main process only

    cells, contexts = plan(config)
    store = CellStore(config.out)
    tracker = Tracker(config.resolved_tracking_uri, config.experiment)
    logged = tracker.logged_cells()
    parents = tracker.parent_runs()
    groups = [group_key(config, c, contexts[c.dataset].prepared.key) for c in cells]
    keyed = [(c, (cell_key(g, c), g)) for c, g in zip(cells, groups)]

    rows: dict[str, ResultRow] = {}
    attack_keys = config.attack_keys()
    todo = []
    for cell, keys in keyed:
        stored = None if config.force else store.load(keys[0])
        if stored is None or not covers(stored, attack_keys, config.eps):  # e.g. attacks added to a clean study
            todo.append((cell, keys))
            continue
        stored = restrict(stored, attack_keys, config.eps)
        rows[keys[0]] = stored
        if keys[0] not in logged:  # recorded on disk but not in this tracking store: log it now
            _log_cell(tracker, config, cell, stored, parents, contexts, replace=())

    bar = progress(len(todo)) if progress else None
    failed = 0
    cells_by_key = {keys[0]: cell for cell, keys in todo}
    for row in _execute(config, todo, config.experiment):
        cell = cells_by_key[row.cell_key]
        rows[row.cell_key] = row
        if row.status == "failed":
            failed += 1
        else:
            store.save(row)
            _log_cell(tracker, config, cell, row, parents, contexts, replace=logged.get(row.cell_key, ()))
        if bar:
            bar.update(1)
    if bar:
        bar.close()

    table = results_table([rows[keys[0]] for _, keys in keyed])
    summary = summarize(table, extra=[c for c in table.columns if c.startswith(("robust.", "quality."))],
                        gate=config.gate)
    _finish_parents(tracker, config, summary, table, parents, contexts)
    paths = write_table(table, config.out)
    Path(config.out, "study.yaml").write_text(to_yaml(config))
    return StudyResult(table=table, summary=summary, computed=len(todo), skipped=len(keyed) - len(todo),
                       failed=failed, paths=paths, tracking_hint=tracker.experiment_url_hint())


def _group_name(cell: Cell, leaky: bool, recipe: str) -> str:
    dataset, task, protocol, method, classifier = cell.group
    recipe = "" if recipe == "default" else f" [{recipe} recipe]"
    return f"{dataset}/{task}/{protocol}{' [leaky]' if leaky else ''}/{method}{recipe}/{classifier}"


def _log_cell(tracker: Any, config: StudyConfig, cell: Cell, row: ResultRow, parents: dict[str, str],
              contexts: dict[str, DataContext], replace: Any) -> None:
    params = flatten(cell_params(config, cell))
    leaky = PROTOCOLS.get(cell.protocol).leaky
    parent = tracker.ensure_parent(
        row.group_key, _group_name(cell, leaky, row.recipe), params,
        {"bench.leaky": str(leaky).lower(), "bench.status": "running", "bench.data": contexts[cell.dataset].prepared.key,
         **({"bench.tuned_from": config.tuned_from} if config.tuned_from else {})},
        parents,
    )
    metrics = {**row.metrics, **row.times, "n_train": row.n_train, "n_synthetic": row.n_synthetic, "n_test": row.n_test,
               **{f"method.{k}": v for k, v in row.method_stats.items()},
               **{f"quality.{k}": v for k, v in row.quality.items()},
               **{tracker.metric_name(f"robust.{k}"): v for k, v in row.robust.items()}}
    tags = {"bench.cell": row.cell_key, "bench.status": row.status, "bench.reason": row.reason[:5000],
            "bench.seed": str(cell.seed), "bench.fold": cell.fold_name,
            **({"bench.robust_reason": "; ".join(dict.fromkeys(row.robust_reasons.values()))[:5000]}
               if row.robust_reasons else {})}
    attack_params = {"eps": ",".join(map(eps_label, config.eps))} if row.attacks else {}
    attack_params.update(flatten({"attack": {a: to_dict(config.attack_config(a)) for a in row.attacks}}))
    artifacts: dict[str, Any] = {"config.yaml": to_yaml(config)}
    if row.confusion:
        artifacts["confusion_matrix.json"] = {"labels": list(range(len(row.confusion))), "rows_true_cols_pred": row.confusion}
    if row.fit_stop:
        tags["bench.fit_stop"] = row.fit_stop
    series = {f"fit.{name}": {int(p["epoch"]): p[name] for p in row.fit_curve} for name in ("signal", "seconds")
              if row.fit_curve}
    tracker.log_cell(parent, f"{cell.fold_name}/seed-{cell.seed}",
                     {**params, "seed": cell.seed, "fold": cell.fold_name, **attack_params}, metrics, tags, artifacts,
                     replace=replace, series=series)


def _finish_parents(tracker: Any, config: StudyConfig, summary: pd.DataFrame, table: pd.DataFrame,
                    parents: dict[str, str], contexts: dict[str, DataContext]) -> None:
    metric_cols = [c for c in summary.columns if c.endswith(("_mean", "_std")) or c in ("delta_vs_none", "n_cells")]
    group_keys = dict(zip(map(tuple, table[GROUP].to_numpy()), table["group_key"]))
    for _, s in summary.iterrows():
        run_id = parents.get(group_keys[tuple(s[GROUP])])
        if run_id is None:  # every cell failed: nothing was logged
            continue
        notes = "\n".join(contexts[s["dataset"]].prepared.notes)
        tracker.finish_parent(run_id, {tracker.metric_name(c): s[c] for c in metric_cols},
                              {"bench.status": s["status"], "bench.reason": s["reason"][:5000], "bench.gate": s["gate"],
                               "bench.gate_reason": s["gate_reason"][:5000]},
                              {"data_notes.txt": notes} if notes else {})
