"""``bench tune``: Optuna search on inner validation splits of the training folds (the only optuna importer).

The honest way to tune is the default one here. Every trial is scored on **inner splits of the
outer training folds**: for each outer fold used, the same protocol splits that fold's training
windows once more (``inner_folds`` folds, keeping trials or subjects apart as the protocol does)
and the first inner fold is the validation split. The method and classifier are fitted on the
rest of the outer training windows and scored on the validation windows, through the very code
``bench run`` uses (:func:`bench.cell.score_split`). The outer test folds are never read: a
config tuned here and then run with ``bench run --config best.yaml`` is scored on windows no trial
has seen.

Search spaces come from the components themselves (``Config.search_space(trial)`` of the method
and of the classifier), named ``method.<field>`` and ``classifier.<field>`` in Optuna. ``--set
method.<name>.<field>=v`` fixes a field (it is removed from the search); a YAML file (``--space``)
replaces or adds distributions::

    method:
      k_neighbors: {type: int, low: 1, high: 20}
    classifier:
      C: {type: float, low: 0.01, high: 100, log: true}
      kernel: {type: categorical, choices: [rbf, linear]}

Trials report intermediate values so that a pruner can stop unpromising ones early: torch
classifiers report the validation metric after every epoch (step = outer fold x epochs + epoch),
others the running mean over the outer folds scored so far (step = outer fold).

Studies live in an Optuna RDB storage (a SQLite file by default, any SQLAlchemy URL otherwise):
several ``bench tune`` processes, on one machine or many, pointed at the same storage and study
name share the study (Optuna's own distributed mode), and running the command again resumes it.
A trial whose worker was killed is failed through its missing heartbeat and retried once.
Each study is a parent run in MLflow with a nested run per trial (see :mod:`bench.tracking`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml
from optuna.storages import RetryHeartbeatStaleTrialCallback

from bench.config import config_hash, flatten, from_dict, load_yaml, plain, to_dict
from bench.errors import BenchError, ConfigError, MethodError
from bench.preflight import check_stores_distinct
from bench.metrics import classification_metrics
from bench.protocols import Fold, SplitGroups
from bench.registry import CLASSIFIERS, METHODS, PROTOCOLS
from bench.cell import Cell, minority_class, score_split
from bench.context import DataContext, Split, context
from bench.seeding import SeedScope
from bench.study import RUNTIME_FIELDS, StudyConfig, build_study
from bench.urls import mask_text, mask_url, masked

DEFAULT_STORAGE = "sqlite:///optuna.db"
METRICS = ("balanced_accuracy", "accuracy", "macro_f1", "minority_recall", "auroc")
SAMPLERS = ("tpe", "random", "cmaes")
PRUNERS = ("median", "hyperband", "none")
KINDS = ("method", "classifier")
SPEC_TYPES = ("float", "int", "categorical")
_STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]*")
_FINGERPRINT_ATTR = "bench.fingerprint"
_SETTINGS_ATTR = "bench.settings"
_OVERRIDES_ATTR = "bench.overrides"
_FOLD_VALUES_ATTR = "bench.fold_values"
_PARENT_WAIT_S = 60.0


_STUDY_OPTIONS = ("method", "classifier", "dataset", "task", "protocol", "folds", "seed", "profile", "policy",
                  "tracking_uri", "experiment", "data_dir", "device", "threads", "fit_cache")
"""``bench tune`` options that describe the study its trials score (the rest describe the search)."""


def _single(field_name: str, doc: str) -> property:
    """A read-only property: the one value of ``self.study.<field_name>`` (checked to hold one)."""
    return property(lambda self: getattr(self.study, field_name)[0], doc=doc)


@dataclass(frozen=True)
class TuneConfig:
    """Everything one ``bench tune`` needs: the study its trials score, and the search.

    Build it from ``bench tune``'s options with :meth:`from_options`.

    Parameters
    ----------
    study : StudyConfig
        What every trial scores, on inner splits of its training folds: exactly one dataset, task,
        protocol, method, classifier and seed (the root seed of the splits and of every fit), with
        the profile, policy, folds, tracking store and runtime settings of ``bench run``. Its
        ``method.<name>`` and ``classifier.<name>`` fields (``--set``) are fixed, never searched.
    inner_folds : int
        Folds of the inner split of each outer training fold; the first is the validation split.
    outer_folds_used : int or None
        Score each trial on the inner splits of the first this-many outer folds (None: all). Fewer
        makes trials cheaper.
    metric : str
        Key of :func:`bench.metrics.classification_metrics` maximised (``recall_<k>`` too).
    trials : int
        Trials this process runs (added to those already in the study).
    timeout : float or None
        Stop starting trials after this many seconds.
    storage : str
        Optuna storage URL; must not be the MLflow tracking store.
    name : str or None
        Optuna study name (default ``<method>-<classifier>-<dataset>-<task>-<protocol>``).
    sampler : {"tpe", "random", "cmaes"}
    pruner : {"median", "hyperband", "none"}
    space : str or None
        YAML file of search-space overrides (see the module docstring).
    best_out : str
        Where the best configuration is written (YAML for ``bench run --config``).
    """

    study: StudyConfig
    inner_folds: int = 3
    outer_folds_used: int | None = None
    metric: str = "balanced_accuracy"
    trials: int = 20
    timeout: float | None = None
    storage: str = DEFAULT_STORAGE
    name: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    space: str | None = None
    best_out: str = "best.yaml"

    def __post_init__(self) -> None:
        study = self.study
        for field_name in ("datasets", "tasks", "protocols", "methods", "classifiers", "seeds"):
            if len(getattr(study, field_name)) != 1:
                raise ConfigError(f"bench tune scores one study cell group: {field_name} must hold one value, got "
                                  f"{list(getattr(study, field_name))}; pass one with --{field_name[:-1]}")
        if self.inner_folds < 2:
            raise ConfigError(f"inner_folds must be at least 2, got {self.inner_folds}; use --inner-folds 3")
        if self.outer_folds_used is not None and not 1 <= self.outer_folds_used <= study.folds:
            raise ConfigError(f"outer_folds_used must be between 1 and folds={study.folds}, got "
                              f"{self.outer_folds_used}; leave it unset to use every outer fold")
        if self.metric not in METRICS and not re.fullmatch(r"recall_\d+", self.metric):
            raise ConfigError(f"metric {self.metric!r} is not a classification metric; choose from "
                              f"{', '.join(METRICS)} or recall_<class>")
        if self.trials < 1:
            raise ConfigError(f"trials must be at least 1, got {self.trials}")
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout}")
        for name, value, choices in (("sampler", self.sampler, SAMPLERS), ("pruner", self.pruner, PRUNERS)):
            if value not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if not _STUDY_NAME.fullmatch(self.study_name):
            raise ConfigError(f"study name {self.study_name!r} must start with a letter or digit and hold only "
                              "letters, digits and . _ : + -; pass e.g. --study smote-svm-1")
        check_stores_distinct(self.storage, study.resolved_tracking_uri)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], sets: list[str] | tuple[str, ...] = ()) -> TuneConfig:
        """From ``bench tune``'s options (those the user gave) and ``--set`` items.

        Parameters
        ----------
        options : mapping
            ``method``, ``classifier``, ``dataset``, ``task``, ``protocol``, ``folds``, ``seed``,
            ``profile``, ``policy``, ``tracking_uri``, ``experiment`` (default ``bench-tune``; ``seed``: 0),
            ``data_dir``, ``device``, ``threads`` and ``fit_cache`` build :attr:`study`; ``study``
            (the Optuna study name), ``out`` (the best config's file) and the other fields of
            this class describe the search.
        sets : sequence of str
            ``key.path=value`` items applied to the study config last, as in ``bench run``.
        """
        options = {k: v for k, v in options.items() if v is not None}
        missing = [k for k in ("method", "classifier") if k not in options]
        if missing:
            raise ConfigError(f"bench tune needs --{' and --'.join(missing)}: the method and classifier tuned jointly")
        plural = {"method": "methods", "classifier": "classifiers", "dataset": "datasets", "task": "tasks",
                  "protocol": "protocols", "seed": "seeds"}
        cli = {plural.get(k, k): [v] if k in plural else v for k, v in options.items() if k in _STUDY_OPTIONS}
        cli.setdefault("experiment", "bench-tune")
        cli.setdefault("seeds", [0])
        search = {{"study": "name", "out": "best_out"}.get(k, k): v for k, v in options.items()
                  if k not in _STUDY_OPTIONS}
        return from_dict(cls, {"study": build_study(None, list(sets), cli), **search}, where="tune")

    method_name = _single("methods", "The registered method tuned.")
    classifier_name = _single("classifiers", "The registered classifier tuned with it.")
    dataset = _single("datasets", "The dataset the trials score on.")
    task = _single("tasks", "The task the trials score.")
    protocol = _single("protocols", "The outer protocol, split again for validation.")
    seed = _single("seeds", "Root seed of the splits and of every fit.")

    @property
    def study_name(self) -> str:
        """The Optuna study name."""
        return self.name or f"{self.method_name}-{self.classifier_name}-{self.dataset}-{self.task}-{self.protocol}"

    def fixed(self, kind: str) -> dict[str, Any]:
        """Fields of the ``method`` or ``classifier`` fixed by ``--set`` (never searched)."""
        name = self.method_name if kind == "method" else self.classifier_name
        return dict(getattr(self.study, kind).get(name, {}))


def storage_label(url: str) -> str:
    """The storage URL without its password (for tags, logs and ``tuned_from``): :func:`bench.urls.mask_url`."""
    return mask_url(url)


# ----------------------------------------------------------------------------------------------
# Search spaces


@dataclass(frozen=True)
class ParamSpec:
    """One distribution of a search space.

    Parameters
    ----------
    type : {"float", "int", "categorical"}
    low, high : number
        Bounds (inclusive) of ``float`` and ``int``.
    log : bool
        Sample on a log scale (``low`` > 0; no ``step``).
    step : number or None
        Discretisation step of ``float`` and ``int``.
    choices : tuple or None
        Values of ``categorical``.
    """

    type: str
    low: Any = None
    high: Any = None
    log: bool = False
    step: Any = None
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial: Any, name: str) -> Any:
        """Ask ``trial`` for a value of this distribution under ``name``."""
        if self.type == "categorical":
            return trial.suggest_categorical(name, list(self.choices))
        if self.type == "int":
            return trial.suggest_int(name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        """The Optuna distribution (raises ValueError, from Optuna, for an inconsistent one)."""
        if self.type == "categorical":
            return optuna.distributions.CategoricalDistribution(list(self.choices or ()))
        if self.type == "int":
            return optuna.distributions.IntDistribution(self.low, self.high, log=self.log, step=self.step or 1)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def probes(self) -> list[Any]:
        """Values a component config must accept for the distribution to be usable."""
        if self.type == "categorical":
            return list(self.choices)
        return [self.low, self.high, (self.low + self.high) / 2] if self.type == "float" else [self.low, self.high]


def _check_spec(spec: ParamSpec, where: str) -> None:
    """Raise ConfigError unless ``spec`` is a complete, consistent distribution.

    The value types and which keys a type takes are checked here; the rest (``low <= high``, ``low > 0``
    on a log scale, ``step > 0``, no step on a log scale, some choices) by Optuna's own distributions.
    """
    if spec.type not in SPEC_TYPES:
        raise ConfigError(f"{where}: type must be one of {', '.join(SPEC_TYPES)}, got {spec.type!r}")
    if spec.type == "categorical":
        if spec.low is not None or spec.high is not None or spec.log or spec.step is not None:
            raise ConfigError(f"{where}: a categorical distribution takes only choices, not low/high/log/step")
    else:
        number = int if spec.type == "int" else (int, float)
        for key in ("low", "high") + (("step",) if spec.step is not None else ()):
            value = getattr(spec, key)
            if isinstance(value, bool) or not isinstance(value, number):
                kind = "an integer" if spec.type == "int" else "a number"
                raise ConfigError(f"{where}: {key} must be {kind} for a {spec.type} distribution, got {value!r}")
        if spec.choices is not None:
            raise ConfigError(f"{where}: choices belong to categorical distributions; use low and high for {spec.type}")
    try:
        spec.distribution()
    except ValueError as e:
        raise ConfigError(f"{where}: {e} (e.g. {{type: categorical, choices: [rbf, linear]}} or "
                          "{type: float, low: 0.01, high: 100, log: true})") from e


def load_space(path: str | os.PathLike[str], config: TuneConfig) -> dict[str, dict[str, ParamSpec]]:
    """Read and validate a search-space override file.

    Parameters
    ----------
    path : path
        YAML mapping ``method`` / ``classifier`` -> field -> ``{type, low, high, log, step, choices}``.
    config : TuneConfig
        Names the components whose fields the file may search.

    Returns
    -------
    dict
        ``{"method": {field: ParamSpec}, "classifier": {...}}``.

    Raises
    ------
    ConfigError
        Naming the file and the key, for an unknown section or field, a malformed distribution, a
        value the component's config rejects, or a field also fixed with ``--set``.
    """
    data = load_yaml(path)
    space: dict[str, dict[str, ParamSpec]] = {}
    for kind, fields in data.items():
        if kind not in KINDS:
            raise ConfigError(f"search space {path}: unknown section {kind!r}; use 'method' and/or 'classifier'")
        if not isinstance(fields, Mapping):
            raise ConfigError(f"search space {path}: {kind} must map fields to distributions, got {fields!r}")
        name = config.method_name if kind == "method" else config.classifier_name
        cls = (METHODS if kind == "method" else CLASSIFIERS).get(name).Config
        valid = [f.name for f in dataclasses.fields(cls) if f.init]
        space[kind] = {}
        for key, raw in fields.items():
            where = f"search space {path}: {kind}.{key}"
            if key not in valid:
                raise ConfigError(f"{where}: {name} has no field {key!r}; its fields are {', '.join(valid)}")
            if key in config.fixed(kind):
                raise ConfigError(f"{where}: the field is fixed by --set {kind}.{name}.{key}=...; "
                                  "remove one of the two")
            spec = from_dict(ParamSpec, raw, where=where)
            _check_spec(spec, where)
            for value in spec.probes():
                try:
                    cls.for_profile(config.study.profile, {**config.fixed(kind), key: value}, where=f"{kind}.{name}")
                except ConfigError as e:
                    raise ConfigError(f"{where}: {name} rejects the value {value!r} of this distribution ({e}); "
                                      "narrow the distribution to values the field accepts") from None
            space[kind][key] = spec
    return space


class ComponentTrial:
    """What a component's ``search_space`` is given instead of the Optuna trial.

    ``suggest_*(name, ...)`` registers ``<kind>.<name>`` in the real trial; a field fixed with
    ``--set`` returns its fixed value without being searched; a field of the space file is drawn
    from the file's distribution instead of the component's own.

    Parameters
    ----------
    trial : optuna.Trial
    kind : {"method", "classifier"}
    fixed : mapping of field -> value
    overrides : mapping of field -> ParamSpec
    """

    def __init__(self, trial: Any, kind: str, fixed: Mapping[str, Any], overrides: Mapping[str, ParamSpec]) -> None:
        self.trial, self.kind, self.fixed, self.overrides = trial, kind, fixed, overrides

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> Any:
        return self._suggest(name, ParamSpec("float", low, high, log, step))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> Any:
        return self._suggest(name, ParamSpec("int", low, high, log, step))

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._suggest(name, ParamSpec("categorical", choices=tuple(choices)))

    def _suggest(self, name: str, spec: ParamSpec) -> Any:
        if name in self.fixed:
            return self.fixed[name]
        return self.overrides.get(name, spec).suggest(self.trial, f"{self.kind}.{name}")


def suggest_overrides(trial: Any, config: TuneConfig,
                      space: Mapping[str, Mapping[str, ParamSpec]]) -> dict[str, dict[str, Any]]:
    """The method's and classifier's field values of one trial (fixed fields excluded).

    Returns
    -------
    dict
        ``{"method": {field: value}, "classifier": {field: value}}``.
    """
    out = {}
    for kind, name, registry in (("method", config.method_name, METHODS), ("classifier", config.classifier_name, CLASSIFIERS)):
        fixed, extra = config.fixed(kind), space.get(kind, {})
        values = registry.get(name).Config.search_space(ComponentTrial(trial, kind, fixed, extra))
        values = {k: v for k, v in values.items() if k not in fixed}
        values.update({k: spec.suggest(trial, f"{kind}.{k}") for k, spec in extra.items() if k not in values})
        out[kind] = values
    return out


def with_overrides(config: TuneConfig, overrides: Mapping[str, Mapping[str, Any]]) -> StudyConfig:
    """The study config of a trial: the base config with the trial's field values on top of the fixed ones."""
    base = config.study
    return replace(base, method={**base.method, config.method_name: {**config.fixed("method"), **overrides["method"]}},
                   classifier={**base.classifier,
                               config.classifier_name: {**config.fixed("classifier"), **overrides["classifier"]}})


# ----------------------------------------------------------------------------------------------
# Inner splits and the objective


def inner_splits(config: TuneConfig, ctx: DataContext) -> list[tuple[Fold, Split]]:
    """The validation split of every outer fold used: never a window of an outer test fold.

    The outer training windows are split again by the same protocol (``inner_folds`` folds, on
    their own ids and labels); the first inner fold is the validation split.

    Returns
    -------
    list of (outer Fold, Split)
        ``Split.train`` and ``Split.test`` are global window indices, both inside the outer
        fold's training windows.
    """
    y, _ = ctx.labels(config.task)
    groups = ctx.groups
    outer = ctx.folds(config.task, config.protocol, config.seed)[: config.outer_folds_used]
    out = []
    for fold in outer:
        rows = fold.train
        sub = SplitGroups(groups.subject[rows], groups.session[rows], groups.trial_id[rows], groups.position[rows])
        seeds = ctx.seeds(config.task, config.protocol, config.seed)
        inner = PROTOCOLS.get(config.protocol)().split(sub, y[rows], config.inner_folds,
                                                       seeds.rng(fold.name, "inner-split"))[0]
        name = f"{fold.name}/inner-{config.inner_folds}"
        out.append((fold, Split(rows[inner.train], rows[inner.test], seeds.within(config.seed, name))))
    return out


class Objective:
    """Mean validation metric of a trial's config over the inner splits (maximised).

    Parameters
    ----------
    config : TuneConfig
    ctx : DataContext
    splits : list of Split
        The inner validation splits (:func:`inner_splits`).
    space : dict
        Search-space overrides (:func:`load_space`).
    """

    def __init__(self, config: TuneConfig, ctx: DataContext, splits: list[Split],
                 space: Mapping[str, Mapping[str, ParamSpec]]) -> None:
        self.config, self.ctx, self.splits, self.space = config, ctx, splits, space

    def __call__(self, trial: Any) -> float:
        cfg = self.config
        overrides = suggest_overrides(trial, cfg, self.space)
        trial.set_user_attr(_OVERRIDES_ATTR, plain(overrides))
        study_config = with_overrides(cfg, overrides)
        values: list[float] = []
        for i, split in enumerate(self.splits):
            cell = Cell(cfg.dataset, cfg.task, cfg.protocol, cfg.seed, i, split.name, cfg.method_name, cfg.classifier_name)
            hook = self._epoch_hook(trial, split, i)
            row = score_split(study_config, self.ctx, cell, split, on_classifier=hook)
            values.append(row.metrics[cfg.metric])
            trial.set_user_attr(_FOLD_VALUES_ATTR, list(values))
            if not hook.torch:
                _report(trial, float(np.nanmean(values)), i)
        return float(np.nanmean(values))

    def _epoch_hook(self, trial: Any, split: Split, fold_index: int) -> _EpochHook:
        y, _ = self.ctx.labels(self.config.task)
        return _EpochHook(trial, self.ctx, split, y, self.config.metric, fold_index)


class _EpochHook:
    """Given the classifier before training: a torch classifier reports the validation metric every epoch."""

    def __init__(self, trial: Any, ctx: DataContext, split: Split, y: np.ndarray, metric: str, fold_index: int) -> None:
        self.trial, self.ctx, self.split, self.y = trial, ctx, split, y
        self.metric, self.fold_index = metric, fold_index
        self.torch = False

    def __call__(self, classifier: Any) -> None:
        if "on_epoch" not in classifier.hooks:
            return
        self.torch = True
        x_val = self.ctx.views.real(classifier.representation, self.split.test)
        y_val = self.y[self.split.test]
        minority = minority_class(self.y[self.split.train])
        first_step = self.fold_index * classifier.config.epochs

        def on_epoch(epoch: int, train_loss: float) -> None:
            proba = classifier.predict_proba(x_val)
            value = classification_metrics(y_val, proba, classifier.info.n_classes, minority=minority)[self.metric]
            _report(self.trial, value, first_step + epoch)

        classifier.hook(on_epoch=on_epoch)


def _report(trial: Any, value: float, step: int) -> None:
    """Report an intermediate value; raise TrialPruned when the pruner says so."""
    if math.isnan(value):
        return
    trial.report(value, step)
    if trial.should_prune():
        raise optuna.TrialPruned(f"pruned at step {step} with intermediate value {value:.4f}")


# ----------------------------------------------------------------------------------------------
# The study: storage, sampler, pruner, MLflow, best config


@dataclass
class TuneResult:
    """What :func:`tune` returns."""

    study: str
    storage: str
    best_value: float
    best_params: dict[str, Any]
    best_trial: int
    states: dict[str, int]
    out: Path
    tracking_hint: str
    parent_run_id: str
    seconds: float


def _sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401  (Optuna's CmaEsSampler needs it)
        except ImportError:
            raise ConfigError("--sampler cmaes needs the cmaes package: pip install cmaes "
                              "(or use --sampler tpe)") from None
        return optuna.samplers.CmaEsSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(name: str) -> optuna.pruners.BasePruner:
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


HEARTBEAT_S = 60
"""Seconds between the heartbeats of a running trial; one silent for twice as long is failed and retried."""


def _storage(url: str, heartbeat_s: int = HEARTBEAT_S) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage; SQLite waits up to a minute for a lock held by another worker.

    Running trials send a heartbeat every ``heartbeat_s`` seconds. A trial whose worker was killed
    stops beating: the next worker to start a trial marks it FAIL after ``2 * heartbeat_s`` seconds
    and queues it again once with the same parameters (Optuna's ``RetryHeartbeatStaleTrialCallback``).
    """
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    try:
        with warnings.catch_warnings():  # the heartbeat is marked experimental since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=heartbeat_s,
                                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
    except Exception as e:  # SQLAlchemy: bad URL, missing driver, unreachable server
        reason = mask_text(" ".join(f"{type(e).__name__}: {e}".split())[:300])
        raise ConfigError(f"cannot open the Optuna storage {storage_label(url)!r} ({reason}); pass "
                          f"--storage {DEFAULT_STORAGE} or a reachable database URL such as "
                          "postgresql://user:password@host/db (pip install psycopg2-binary)") from e


def _settings(config: TuneConfig, space: Mapping[str, Mapping[str, ParamSpec]]) -> dict[str, Any]:
    """What the objective computes (a study must keep it for all of its trials)."""
    return {"study": config.study.computed(), "inner_folds": config.inner_folds,
            "outer_folds_used": config.outer_folds_used, "metric": config.metric, "space": plain(space)}


def _open_study(config: TuneConfig, settings: dict[str, Any]) -> tuple[optuna.Study, bool]:
    """Create the study, or load it when another worker or an earlier run created it.

    Returns
    -------
    study, created : optuna.Study, bool

    Raises
    ------
    ConfigError
        When an existing study of that name was made with different settings.
    """
    storage = _storage(config.storage)
    name = config.study_name
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage)
        created = False
    fingerprint = config_hash(settings)
    known = study.user_attrs.get(_FINGERPRINT_ATTR)
    if known is None:
        study.set_user_attr(_FINGERPRINT_ATTR, fingerprint)
        study.set_user_attr(_SETTINGS_ATTR, plain(settings))
    elif known != fingerprint:
        before, now = flatten(study.user_attrs.get(_SETTINGS_ATTR, {})), flatten(plain(settings))
        changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        raise ConfigError(f"study {name!r} in {storage_label(config.storage)} was tuned with other settings "
                          f"(differing: {', '.join(changed) or 'unknown'}); resume it with the same options, "
                          "or start a new study with --study NEW_NAME")
    # Concurrent workers must not draw the same points: the sampler's seed includes the process id and the
    # trials already recorded, so samplers are not reproducible run to run (every fit inside a trial is).
    n_before = len(study.get_trials(deepcopy=False))
    study.sampler = _sampler(config.sampler, SeedScope(config.seed, (name,)).seed(n_before, os.getpid()) % 2**32)
    study.pruner = _pruner(config.pruner)
    return study, created


def _parent_params(config: TuneConfig) -> dict[str, Any]:
    """The study's parent-run params: what it tunes, on which data, how it searches, what ``--set`` fixed."""
    study = config.study
    return flatten(plain({
        "method": config.method_name, "classifier": config.classifier_name, "dataset": config.dataset,
        "task": config.task, "protocol": config.protocol, "folds": study.folds, "seed": config.seed,
        "profile": study.profile, "policy": study.policy, **{k: getattr(config, k) for k in _SEARCH_PARAMS},
        "fixed": {kind: config.fixed(kind) for kind in KINDS}}))


_SEARCH_PARAMS = ("inner_folds", "outer_folds_used", "metric", "sampler", "pruner", "space")


def _parent_run(tracker: Any, config: TuneConfig, study: optuna.Study, created: bool) -> str:
    """The study's MLflow parent run: created by the worker that created the study, found by the others."""
    label = storage_label(config.storage)
    params = {**_parent_params(config), "storage": label}
    if not created:
        deadline = time.monotonic() + _PARENT_WAIT_S
        while True:
            found = tracker.find_tune_parent(config.study_name, label)
            if found is not None:
                tracker.reopen(found)
                return found
            # The creating worker records the run id once it has made the run (in its own tracking store).
            if "bench.mlflow_parent" in study.user_attrs or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    run_id = tracker.start_tune_parent(config.study_name, label, params)
    study.set_user_attr("bench.mlflow_parent", run_id)
    return run_id



class _TrialLogger:
    """Optuna callback: every finished trial of this worker becomes a nested MLflow run."""

    def __init__(self, tracker: Any, parent_id: str, config: TuneConfig) -> None:
        self.tracker, self.parent_id, self.config = tracker, parent_id, config

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        metric = self.config.metric
        metrics = {metric: trial.value} if trial.value is not None else {}
        series = {f"{metric}_intermediate": trial.intermediate_values,
                  f"{metric}_fold": dict(enumerate(trial.user_attrs.get(_FOLD_VALUES_ATTR, [])))}
        fixed = {f"{kind}.{k}": v for kind in KINDS for k, v in self.config.fixed(kind).items()}
        self.tracker.log_trial(self.parent_id, study.study_name, trial.number, trial.state.name,
                               {**trial.params, **{f"fixed.{k}": v for k, v in fixed.items()}}, metrics, series)
        best = _best_trial(study)
        if best is not None:
            self.tracker.update_tune_parent(self.parent_id, {f"best_{metric}": best.value},
                                            {"bench.best_trial": str(best.number)})


def _best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max(complete, key=lambda t: t.value) if complete else None


def best_study_config(config: TuneConfig, trial: optuna.trial.FrozenTrial, study: str) -> StudyConfig:
    """The ``bench run`` config of a trial: its overrides on the base config, with ``tuned_from`` set."""
    overrides = trial.user_attrs.get(_OVERRIDES_ATTR)
    if overrides is None:
        raise BenchError(f"trial {trial.number} of study {study!r} has no recorded overrides; "
                         "it was not made by bench tune")
    tuned_from = f"{storage_label(config.storage)}#{study}#trial-{trial.number}"
    return replace(with_overrides(config, overrides), tuned_from=tuned_from)


def write_best(path: str | os.PathLike[str], best: StudyConfig, value: float, metric: str) -> Path:
    """Write ``best`` as YAML that ``bench run --config`` accepts (runtime fields are left to the command line, but
    for the provenance and the quality gate)."""
    data = masked({k: v for k, v in to_dict(best).items() if k not in RUNTIME_FIELDS or k in ("tuned_from", "gate")})
    header = (f"# Written by bench tune from {best.tuned_from}\n"
              f"# {metric} = {value:.4f} on inner validation splits of the training folds (no test fold was used).\n"
              f"# Run it with: python -m bench run --config {path}\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))
    return path


def tune(config: TuneConfig) -> TuneResult:
    """Run ``config.trials`` trials (added to the study, which may be shared) and write the best config.

    Parameters
    ----------
    config : TuneConfig

    Returns
    -------
    TuneResult

    Raises
    ------
    ConfigError
        For bad settings, a space file that does not validate, an incompatible method and
        classifier, or a study of the same name made with other settings.
    BenchError
        When no trial of the study has completed.
    """
    from bench.tracking import Tracker

    tic = time.perf_counter()
    space = load_space(config.space, config) if config.space else {}
    ctx = context(config.study, config.dataset)
    splits = [split for _, split in inner_splits(config, ctx)]
    study, created = _open_study(config, _settings(config, space))
    tracker = Tracker(config.study.resolved_tracking_uri, config.study.experiment)
    tracker.close_stale_runs()  # e.g. the parent run of a tune process that was killed
    parent = _parent_run(tracker, config, study, created)
    study.optimize(Objective(config, ctx, splits, space), n_trials=config.trials, timeout=config.timeout,
                   callbacks=[_TrialLogger(tracker, parent, config)], catch=(MethodError,), gc_after_trial=False)
    best = _best_trial(study)
    states = _states(study)
    if best is None:
        tracker.update_tune_parent(parent, {}, {"bench.status": "no trial completed"}, finished=True)
        raise BenchError(f"no trial of study {config.study_name!r} completed ({states}); see the failed trials' "
                         "errors above, fix the settings (e.g. --set or --space) and run again to resume")
    best_config = best_study_config(config, best, config.study_name)
    out = write_best(config.best_out, best_config, best.value, config.metric)
    tracker.update_tune_parent(parent, {f"best_{config.metric}": best.value},
                               {"bench.best_trial": str(best.number), "bench.tuned_from": best_config.tuned_from},
                               finished=True)
    return TuneResult(study=config.study_name, storage=storage_label(config.storage), best_value=best.value,
                      best_params=dict(best.params), best_trial=best.number, states=states, out=out,
                      tracking_hint=tracker.experiment_url_hint(f"best_{config.metric}"), parent_run_id=parent,
                      seconds=time.perf_counter() - tic)


def _states(study: optuna.Study) -> dict[str, int]:
    """Trials of the study by state, e.g. ``{"COMPLETE": 18, "PRUNED": 2}``."""
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out
