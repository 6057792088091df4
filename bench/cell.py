"""One cell of a study: its keys, and the pure computation of its result row.

A study expands into **cells**, one per (dataset, task, protocol, seed, fold, method,
classifier). A cell is a pure function of the study config and its key (:func:`compute_cell`):
it reads the prepared data through its :class:`~bench.context.DataContext`, derives its own seeds
(:class:`~bench.seeding.SeedScope` of the split), fits the method on the training fold only (or
loads that fit from the fit cache, :mod:`bench.fit_cache`), asks it for the policy's number of
windows, converts them into the classifier's representation, trains the classifier on real +
synthetic training windows and scores the real test fold, clean and under the study's attacks.

What one cell computes that others reuse (a fold's synthetic windows, the fold's no-augmentation
reference classifiers) is kept in :class:`CellCaches`, an object the caller owns and passes in:
the caches change how fast cells run, never what they compute.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.components import DataInfo
from bench.config import config_hash, to_dict
from bench.context import Contexts, DataContext, Split
from bench.epoch_scores import LastEpochs
from bench.errors import BenchError, IncompatibleError
from bench.fit_cache import FitInputs, Fitted, load_or_fit
from bench.fold_quality import class_profiles, classifier_metrics, sample_metrics
from bench.quality_files import quality_path, write_quality
from bench.metrics import classification_metrics, confusion_matrix
from bench.registry import ATTACKS, CLASSIFIERS, METHODS, PROTOCOLS
from bench.results import FAILED, NOT_APPLICABLE, OK, ResultRow
from bench.robustness import robustness
from bench.seeding import torch_threads
from bench.study import StudyConfig
from datasets.cache import CODE_VERSION

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


def cell_params(config: StudyConfig, cell: Cell) -> dict[str, Any]:
    """Everything a cell's result depends on besides the data (hashed into its key, logged as params)."""
    return {
        "dataset": cell.dataset, "task": cell.task, "protocol": cell.protocol, "folds": config.folds,
        "method": cell.method, "classifier": cell.classifier, "policy": str(config.policy), "profile": config.profile,
        "recipe": config.recipe_of(cell.method),
        "device": config.device,
        "method_config": to_dict(config.method_config(cell.method)),
        "classifier_config": to_dict(config.classifier_config(cell.classifier)),
        "reader": to_dict(config.reader_config(cell.dataset)),
        "segment": to_dict(config.segment), "features": to_dict(config.features), "labels": to_dict(config.labels),
        "code_version": CODE_VERSION,
        **{name: to_dict(getattr(config, name)) for name in ("quality_vs_test", "epoch_metrics", "hard_case")
           if getattr(config, name)},  # only when set, so the keys of earlier results stay valid
    }


def group_key(config: StudyConfig, cell: Cell, data_key: str) -> str:
    """Key of the cell's leaderboard group: its params and the prepared data, without seed and fold."""
    return config_hash({"params": cell_params(config, cell), "data": data_key})


def cell_key(group: str, cell: Cell) -> str:
    """Key of one cell: its group's key, seed and fold."""
    return config_hash({"group": group, "seed": cell.seed, "fold": cell.fold_name})


def minority_class(y: np.ndarray) -> int:
    """The rarest class present in ``y`` (n,) (the smallest label on ties)."""
    counts = np.bincount(y)
    present = np.flatnonzero(counts)
    return int(present[np.argmin(counts[present])])


# ----------------------------------------------------------------------------------------------
# What cells share: synthetic windows of a fold's method fit, the fold's reference classifiers.


QUALITY_PER_CLASS = 500
"""Synthetic windows per class drawn for the quality metrics (fewer when the training fold has fewer)."""


@dataclass
class Synthetic:
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


class _Recent(dict):
    """A dict that keeps its ``keep`` newest entries."""

    def __init__(self, keep: int) -> None:
        super().__init__()
        self.keep = keep

    def add(self, key: str, value: Any) -> Any:
        while len(self) >= self.keep:
            self.pop(next(iter(self)))
        self[key] = value
        return value


class References:
    """The folds' classifiers trained on real training windows only, which generation quality compares against.

    Parameters
    ----------
    folder : Path, optional
        A folder the worker processes of one run share: a reference kept by one is written there and
        loaded by the others instead of being trained again.
    keep : int
        References held in memory.
    """

    def __init__(self, folder: Path | None = None, keep: int = 16) -> None:
        self.folder = folder
        self._memory = _Recent(keep)

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.pt"

    def get(self, key: str) -> Any | None:
        """The reference stored under ``key`` (in memory, else in the shared folder), or None."""
        import torch

        if key not in self._memory and (path := self._path(key)) is not None and path.exists():
            self._memory.add(key, torch.load(path, weights_only=False))  # written by this run's own workers
        return self._memory.get(key)

    def put(self, key: str, classifier: Any) -> None:
        """Keep ``classifier`` under ``key`` (and write it to the shared folder, atomically)."""
        import torch

        self._memory.add(key, classifier)
        if (path := self._path(key)) is not None:
            partial = path.with_suffix(f".{os.getpid()}.partial")
            torch.save(classifier, partial)
            partial.replace(path)  # atomic: another worker sees the whole file or none


@dataclass
class CellCaches:
    """What the cells computed by one process share; owned by the caller (a runner, an executor's worker).

    Attributes
    ----------
    contexts : Contexts
        The prepared datasets of the study.
    synthetic : dict
        The last few method fits' :class:`Synthetic` windows (a fold's classifiers share one fit).
    references : References
    """

    contexts: Contexts = field(default_factory=Contexts)
    synthetic: _Recent = field(default_factory=lambda: _Recent(4))
    references: References = field(default_factory=References)


# ----------------------------------------------------------------------------------------------
# Computing a cell


def compute_cell(config: StudyConfig, cell: Cell, study: str, keys: tuple[str, str], caches: CellCaches) -> ResultRow:
    """Compute one cell: fit, sample, convert, train, score. Never touches the tracking store.

    Parameters
    ----------
    config : StudyConfig
    cell : Cell
    study : str
        Experiment name, recorded in the row.
    keys : (cell key, group key)
    caches : CellCaches
        Shared with the other cells this process computes.

    Returns
    -------
    ResultRow
        ``ok`` with metrics, ``not-applicable`` with the reason the pair is incompatible, or ``failed`` with
        the error (the traceback is logged).
    """
    ctx = caches.contexts.get(config, cell.dataset)
    row = _new_row(config, cell, study, keys)
    job = _job(config, cell, ctx.fold(cell.task, cell.protocol, cell.seed, cell.fold), ctx, caches, row, full=True)
    if job is None:
        return row
    try:
        with torch_threads(config.torch_threads):
            job.fit_and_score(row)
    except Exception as e:  # recorded as a failed cell; the study goes on
        log.error("cell %s failed:\n%s", cell, traceback.format_exc())
        row.status, row.reason = FAILED, f"{type(e).__name__}: {e}"
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
        Windows to fit on and to score; ``split.seeds`` gives the seeds.
    on_classifier : callable, optional
        Called with the classifier before it is trained (e.g. to hook per-epoch reporting in).

    Raises
    ------
    IncompatibleError
        When the pair (or its recipe) is not applicable (a cell would be ``not-applicable``).
    """
    row = _new_row(config, cell, "", ("", ""))
    job = _job(config, cell, split, ctx, CellCaches(), row, full=False)
    if job is not None:
        with torch_threads(config.threads_for(1)):  # tuning scores in this process, one split at a time
            job.fit_and_score(row, on_classifier=on_classifier)
    if row.status == NOT_APPLICABLE:
        raise IncompatibleError(f"{cell.method} with {cell.classifier}: {row.reason}")
    return row


def _new_row(config: StudyConfig, cell: Cell, study: str, keys: tuple[str, str]) -> ResultRow:
    return ResultRow(study=study, dataset=cell.dataset, task=cell.task, protocol=cell.protocol,
                     method=config.method_label(cell.method), classifier=cell.classifier, seed=cell.seed,
                     fold=cell.fold_name, leaky=PROTOCOLS.get(cell.protocol).leaky, status=OK,
                     recipe=config.recipe_of(cell.method), profile=config.profile, cell_key=keys[0], group_key=keys[1])


def _job(config: StudyConfig, cell: Cell, split: Split, ctx: DataContext, caches: CellCaches, row: ResultRow,
         full: bool) -> _Job | None:
    """The cell's job on ``split``, or None with ``row`` not applicable and why."""
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
    return _Job(config, cell, split, ctx, caches, method_rep, clf_rep, full)


def _fit_trace(report: Any) -> tuple[str, list[dict[str, float]]]:
    """A generator's stop reason and inner-signal curve (:class:`methods.gan.monitor.FitReport`); empty for other methods."""
    return ("", []) if report is None else (report.stop_reason, [dict(point) for point in report.curve or ()])


@dataclass(frozen=True)
class _Job:
    """A cell's method and classifier on one split: everything its fit-and-score reads.

    ``full`` runs what a study cell runs besides the clean scores (generation quality, the
    references it needs, the study's attacks); tuning scores clean only.
    """

    config: StudyConfig
    cell: Cell
    split: Split
    ctx: DataContext
    caches: CellCaches
    method_rep: str
    clf_rep: str
    full: bool

    def fit_and_score(self, row: ResultRow, on_classifier: Callable[[Any], None] | None = None) -> None:
        """Fill ``row``: fit and sample (or the paper recipe), train, score; quality and attacks when ``full``."""
        config, cell, split, ctx = self.config, self.cell, self.split, self.ctx
        method_rep, clf_rep = self.method_rep, self.clf_rep
        y, info = ctx.labels(cell.task)
        quality = config.quality and self.full and row.recipe == "default"
        y_train, y_test = y[split.train], y[split.test]

        method = METHODS.get(cell.method).from_config(config.method_config(cell.method), info=info, device=config.device)
        classifier = self.new_classifier(info)
        if row.recipe == "paper" and (reason := method.paper_incompatibility(classifier)):
            row.status, row.reason = NOT_APPLICABLE, reason
            return
        if on_classifier is not None:
            on_classifier(classifier)
        last = (LastEpochs(config.epoch_metrics, ctx.views.real(clf_rep, split.test), y_test, info.n_classes)
                .install(classifier) if config.epoch_metrics and self.full and "on_epoch" in classifier.hooks else None)
        clf_rng = self.classifier_rng()
        x_train = ctx.views.real(clf_rep, split.train)
        made = None
        if row.recipe == "paper":
            fitted = self.fit_method(method)
            method, fit_s, fit_load_s, sample_s, y_syn = fitted.method, fitted.fit_s, fitted.load_s, 0.0, y_train[:0]
            tic = time.perf_counter()
            method.train_paper(classifier, x_train, y_train, rng=clf_rng)
            row.method_stats = dict(method.stats_)
            row.fit_stop, row.fit_curve = _fit_trace(getattr(method, "fit_report_", None))
        else:
            made = self.synthetic(method, quality=quality)
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
        if last is not None:
            row.metrics.update(last.summary())
            last.remove(classifier)  # the classifier may be kept as the fold's reference: no test fold on it
        row.confusion = confusion_matrix(y_test, proba.argmax(axis=1), info.n_classes).tolist()
        row.times = {"fit_s": fit_s, "sample_s": sample_s, "train_s": train_s, "predict_s": predict_s,
                     **({} if fit_load_s is None else {"fit_load_s": fit_load_s})}
        if quality and not method.augments:
            self.caches.references.put(self.split_key(cell.classifier), classifier)
        elif quality and made.quality_x is not None:
            tic = time.perf_counter()
            reference = self.reference()
            row.quality.update(classifier_metrics(
                reference, lambda: self.new_classifier(info),
                ctx.views.convert(made.quality_x, method_rep, clf_rep), made.quality_y, x_train[: len(split.train)],
                x_test, y_test, info.n_classes, split.seeds.rng(cell.method, cell.classifier, "tstr"),
                vs_test=config.quality_vs_test))
            row.times["quality_s"] = made.quality_s + time.perf_counter() - tic
        if self.full and config.attacks:
            tic = time.perf_counter()
            self.attack(classifier, x_test, y_test, proba, row)
            row.times["attack_s"] = time.perf_counter() - tic

    def new_classifier(self, info: DataInfo) -> Any:
        """An unfitted classifier of the cell's kind, with the study's config for it."""
        name = self.cell.classifier
        return CLASSIFIERS.get(name).from_config(self.config.classifier_config(name), info=info, device=self.config.device)

    def classifier_rng(self) -> np.random.Generator:
        """The classifier's training seed: independent of the method, so every method starts alike."""
        return self.split.seeds.rng(self.cell.classifier, "fit")

    def split_key(self, *names: str) -> str:
        """Key of a fit on the split by the named components under the config (cache keys)."""
        return config_hash([self.config.computed(), self.split.where, self.split.train_hash, *names])

    def reference(self) -> Any:
        """The fold's no-augmentation classifier of the cell's kind: the ``none`` cell's, or trained alike (same seed)."""
        key = self.split_key(self.cell.classifier)
        classifier = self.caches.references.get(key)
        if classifier is None:
            y, info = self.ctx.labels(self.cell.task)
            classifier = self.new_classifier(info).fit(self.ctx.views.real(self.clf_rep, self.split.train),
                                                       y[self.split.train], rng=self.classifier_rng())
            self.caches.references.put(key, classifier)
        return classifier

    def attack(self, classifier: Any, x_test: np.ndarray, y_test: np.ndarray, proba: np.ndarray,
               row: ResultRow) -> None:
        """The study's attacks on the trained classifier over the real test fold, into ``row``.

        The unit of eps comes from the real training windows of the split only (no synthetic, no test
        windows); every attack run draws its randomness from a seed derived from the cell and the run.
        """
        config, cell = self.config, self.cell
        attacks = {name: ATTACKS.get(name)(config.attack_config(name), device=config.device)
                   for name in config.attacks}
        x_real = self.ctx.views.real(self.clf_rep, self.split.train) if classifier.differentiable else x_test[:0]

        def rng_for(attack: str, eps: float | None) -> np.random.Generator:
            return self.split.seeds.rng(cell.method, cell.classifier, "attack", attack, eps)

        row.robust, row.robust_reasons = robustness(classifier, x_real, x_test, y_test, proba, attacks, config.eps,
                                                    rng_for)
        row.attacks = config.attack_keys()

    def synthetic(self, method: Any, quality: bool) -> Synthetic:
        """Fit the method on the split's training windows and draw the policy's synthetic windows.

        The result depends on the split and the method, not the classifier (its seeds are derived
        without it), so the cells of one fold that differ only in the classifier share it through
        ``caches.synthetic``, with the seconds the original fit and sample took. With ``quality``
        an augmenting method also draws a quality set, whose classifier-free quality is measured
        once, and whose class profiles are written to ``<out>/quality/``.

        Returns
        -------
        Synthetic
            Shared with other cells: read, never modify. ``x`` is in ``method_rep``.
        """
        cell, split = self.cell, self.split
        key = self.split_key(cell.method, f"{type(method).__module__}.{type(method).__qualname__}", self.method_rep)
        if key not in self.caches.synthetic:
            y, info = self.ctx.labels(cell.task)
            fitted = self.fit_method(method)
            method = fitted.method
            requests = self.config.policy.requests(y[split.train], info.n_classes)
            tic = time.perf_counter()
            x_syn, y_syn = method.sample(requests, rng=split.seeds.rng(cell.method, "sample"))
            sample_s = time.perf_counter() - tic
            made = Synthetic(x_syn, y_syn, fitted.fit_s, sample_s, dict(method.stats_),
                             fit_report=getattr(method, "fit_report_", None), fit_load_s=fitted.load_s)
            if quality and method.augments:
                tic = time.perf_counter()
                self.sample_quality(method, made)
                made.quality_s = time.perf_counter() - tic
            self.caches.synthetic.add(key, made)
        return self.caches.synthetic[key]

    def sample_quality(self, method: Any, made: Synthetic) -> None:
        """Draw the quality set of a fitted method, measure it without a classifier and write its class profiles.

        Fills ``made.quality_x``, ``made.quality_y`` and ``made.quality``. A method that cannot draw
        the set (ESC-GAN's filter may reject every edit) leaves them empty, with a warning: the cell's
        own synthetic windows were drawn, so its scores stand.
        """
        cell, split, ctx, method_rep = self.cell, self.split, self.ctx, self.method_rep
        y, info = ctx.labels(cell.task)
        y_train = y[split.train]
        counts = np.bincount(y_train, minlength=info.n_classes)
        rng = split.seeds.rng(cell.method, "quality")
        try:
            x_q, y_q = method.sample({c: int(min(n, QUALITY_PER_CLASS)) for c, n in enumerate(counts)}, rng=rng)
        except BenchError as e:
            log.warning("%s on %s: no quality set (%s); its quality columns stay empty", cell.method, split.name, e)
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
        write_quality(quality_path(self.config.out, cell.dataset, cell.task, cell.protocol, cell.method, cell.seed,
                                   split.name, method_rep), **profiles)
        made.quality = scores

    def fit_method(self, method: Any) -> Fitted:
        """Fit the method on the split's training windows, or load that fit from the fit cache.

        With ``config.fit_cache`` a method that sets ``cache_fit`` goes through :mod:`bench.fit_cache`:
        the result may be a loaded copy of ``method``, and its ``fit_s`` the original fit's seconds.
        """
        cell, split, ctx = self.cell, self.split, self.ctx
        train = split.train

        def fit() -> float:
            y, _ = ctx.labels(cell.task)
            trials = ({"trials": (ctx.groups.trial_id[train], ctx.groups.position[train])}
                      if method.needs_trials else {})
            if method.inner_validation and not method.needs_trials:
                trials["groups"] = ctx.groups.trial_id[train]  # its inner validation split holds out whole trials
            tic = time.perf_counter()
            method.fit(ctx.views.real(self.method_rep, train), y[train], rng=split.seeds.rng(cell.method, "fit"),
                       **trials)
            return time.perf_counter() - tic

        return load_or_fit(method, fit_inputs(self.config, cell, ctx, split, self.method_rep), fit,
                           enabled=self.config.fit_cache)


def fit_inputs(config: StudyConfig, cell: Cell, ctx: DataContext, split: Split, method_rep: str) -> FitInputs:
    """What the fit of ``cell``'s method on ``split`` in ``method_rep`` depends on (its fit cache key's inputs)."""
    return FitInputs(method=cell.method, representation=method_rep, data=ctx.prepared.key,
                     labels={"task": cell.task, **to_dict(config.labels)}, split=split.where,
                     train=split.train_hash, rng=split.seeds.key(cell.method, "fit"))
