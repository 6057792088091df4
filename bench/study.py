"""The configuration of one ``bench run``: a study, logged as one MLflow experiment.

Built once from defaults, an optional YAML file and ``--set`` overrides (in that order), validated
completely before any data is read: unknown component names, unknown config keys and bad values
fail at once, with the field, the rule and the fix. Component settings live under ``method``,
``classifier`` and ``dataset``, keyed by name::

    methods: [none, smote]
    folds: 3
    method: {smote: {k_neighbors: 3}}        # --set method.smote.k_neighbors=3
    classifier: {esc-cnn: {epochs: 20}}      # --set classifier.esc-cnn.epochs=20
    dataset: {synthetic: {n_subjects: 4}}    # --set dataset.synthetic.n_subjects=4
    attacks: [fgsm, pgd]                     # --attacks fgsm,pgd
    eps: [0.01, 0.05, 0.1]                   # --eps 0.01,0.05,0.1
    attack: {pgd: {steps: 20}}               # --set attack.pgd.steps=20
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bench.config import PROFILES, ComponentConfig, apply_sets, config_hash, from_dict, load_yaml, to_dict
from bench.errors import ConfigError
from bench.gate import GateRule
from bench.hard_case import HardCase
from bench.policy import Policy
from bench.registry import ATTACKS, CLASSIFIERS, DATASETS, METHODS, PROTOCOLS, Registry
from bench.robustness import eps_label
from datasets.features import FeatureConfig
from datasets.labels import COMPARISONS, TASKS
from datasets.segment import SegmentConfig

DEVICES = ("cpu", "cuda")
RECIPES = ("default", "paper")
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""Where results are logged when neither the settings nor ``$MLFLOW_TRACKING_URI`` say: ``mlflow.db`` here."""
MAX_AUTO_JOBS = 4
"""Most worker processes ``jobs=0`` starts: each holds the prepared data of the study's datasets."""
EXECUTORS = ("local", "ray")
RUNTIME_FIELDS = ("data_dir", "experiment", "tracking_uri", "out", "jobs", "threads", "force", "fit_cache",
                  "tuned_from", "gate", "preset", "executor", "ray_address")
"""Fields that decide where and how fast a study runs, record provenance or judge its results, not what it
computes (not hashed)."""


@dataclass(frozen=True)
class LabelRule:
    """How 1-9 ratings become binary classes: ``rating <comparison> threshold`` is high."""

    threshold: float = 5.0
    comparison: str = ">="

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ConfigError(f"labels.comparison must be one of {COMPARISONS}, got {self.comparison!r}")


DEFAULT_METHODS = ("none", "escgan", "de3dgan")
"""The methods of a plain ``bench run``: the baseline and the two paper methods."""
DEFAULT_SEEDS = (0, 1)
"""Root seeds of a plain ``bench run``: with 5 folds, 10 matched pairs per comparison with ``none``."""
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {"synthetic": {"n_subjects": 3}}
"""Reader settings of a study under its own ``dataset`` overrides. The synthetic dataset of ``bench run`` has
3 subjects (x 20 trials of 20 s: 1,200 windows, 960 per training fold) so that the default study (two GANs
and SA-ST-Net fitted on 10 folds) takes minutes on 2 CPU cores, with training folds still large enough for
the quick SA-ST-Net to learn (on 384 windows it stays at chance) and trials long enough for DE-3DGAN under
the papers' protocols (it trains on runs of 8 or more consecutive training windows of one trial). The
reader's own default (``datasets.synthetic.SyntheticConfig``: 8 subjects, 3,200 windows) is what the
documentation's measurements use."""
DEFAULT_CLASSIFIERS = ("svm", "esc-cnn")
"""The classifiers of a study that names none, before the methods' own (:func:`default_classifiers`)."""
DEFAULT = "default"
"""``classifiers: [default]`` (the default): :func:`default_classifiers` of the study's methods."""


def default_classifiers(methods: tuple[str, ...]) -> tuple[str, ...]:
    """:data:`DEFAULT_CLASSIFIERS` and the own classifier of every method that has one (``escgan`` -> ``esc-cnn``,
    ``de3dgan`` -> ``sa-st-net``), each once, in that order."""
    own = (METHODS.get(m).own_classifier for m in methods)
    return tuple(dict.fromkeys((*DEFAULT_CLASSIFIERS, *(c for c in own if c))))


@dataclass(frozen=True)
class StudyConfig:
    """Everything one ``bench run`` computes, and where it puts the results.

    Parameters
    ----------
    datasets, tasks, protocols, methods, classifiers : tuple of str
        Registered names swept as a grid; ``("all",)`` for methods or classifiers means every
        registered one. ``classifiers`` left at ``("default",)`` becomes
        :func:`default_classifiers` of the methods: the two on DE features (``svm``,
        ``esc-cnn``), which train in seconds, plus the paper methods' own (``escgan`` ->
        ``esc-cnn``, ``de3dgan`` -> ``sa-st-net``). Default methods are :data:`DEFAULT_METHODS`;
        ``--methods all`` adds the other classical methods and the four baseline generators.
    folds : int
        Folds of k-fold protocols (``loso`` makes one per subject).
    seeds : tuple of int
        Root seeds; each repeats the whole grid with its own splits and initialisations
        (:data:`DEFAULT_SEEDS`).
    policy : Policy
        Augmentation budget, see :class:`bench.policy.Policy`; written ``balance``, ``ratio=R``, ...
        (parsed once, when the config is built).
    profile : {"quick", "paper"}
        Size of every component (``quick``: CPU minutes; ``paper``: the published settings).
    recipe : {"default", "paper"}
        How synthetic data reaches the classifier. ``default``: every method's fixed synthetic set
        of the policy's size, added to the real training windows. ``paper``: methods that define
        their paper's own classifier training (ESC-GAN's online editing with mixup) use it; the
        others run the default recipe. Each result row records the recipe it used.
    segment, features, labels
        Windows, DE features and the rating threshold, shared by every dataset.
    attacks : tuple of str
        Attacks run on every trained torch classifier over its real test fold (``none`` or nothing:
        clean scores only, which are always reported). See :mod:`bench.attacks`.
    eps : tuple of float
        Attack budgets in units of the real training windows' per-feature standard deviation
        (reported in the data's own units too); 0.01 with ``pgd``'s defaults is the ESC-GAN
        reference code's PGD.
    quality : bool
        Measure the generation quality of every augmenting method's synthetic windows
        (:mod:`bench.fold_quality`): results columns ``quality.<metric>`` and the spectra and DE
        grids under ``<out>/quality/`` that the report plots.
    fit_budget : float or None
        Wall-clock seconds each generator fit may take (``--fit-budget``): sets ``fit_budget_s``
        of every generator whose ``method`` overrides do not set it (None: the profile's).
    quality_vs_test : bool
        Also compare the synthetic windows with the **test** fold in the no-augmentation
        classifier's features (``quality.frechet_test``, ``quality.kid_test``), as ESC-GAN's
        reference computes FID and KID (``train_gan.py``). A report only: selecting or stopping
        on these would leak the test fold.
    epoch_metrics : int
        Score the test fold after each of the last N training epochs of every torch classifier and
        report the mean and max over them (``last_mean_<metric>``, ``last_max_<metric>``), as
        DE-3DGAN's reference does with N = 100 (``Finetune_Classifier_Valence.py``). 0: off. The
        max is selected on the test fold (optimistic); the per-epoch scores never steer training.
    hard_case : HardCase or None
        The hard-case protocol (:mod:`bench.hard_case`): thin one class or quadrant of every
        training fold (YAML ``hard_case: {select: quadrant, value: 0, keep: 0.3}``).
    gate : GateRule
        The quality gate every augmenting leaderboard row is held to (:mod:`bench.gate`; YAML
        ``gate: {ratio: 0.9, fold_floor: 0.8}``, ``--set gate.ratio=0.8``): its verdict is the
        leaderboard's ``gate`` column and the MLflow parent runs' ``bench.gate`` tag.
    method, classifier, dataset, attack : dict of name -> dict
        Config overrides per component, applied on top of the profile (datasets: on top of
        :data:`DATASET_DEFAULTS`).
    data_dir : str or None
        Folder holding the licensed datasets (default ``$BENCH_DATA_DIR``).
    experiment : str
        MLflow experiment name (one per study).
    tracking_uri : str or None
        MLflow tracking URI (default ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``).
    out : str
        Output folder: results tables and the per-cell records that make runs resumable.
    jobs : int
        Worker processes computing cells in parallel (each holds its own copy of the prepared
        data); 1 (default) computes in this process with all the cores for each cell, 0 means
        one worker per core, at most :data:`MAX_AUTO_JOBS`.
    threads : int
        Torch threads per cell; 0 means the cores divided by the worker count (under Ray: 1). Under
        Ray it is also the CPUs each unit asks for.
    executor : {"local", "ray"}
        Where units are computed: this machine (``jobs``), or a Ray cluster (:mod:`bench.executor_ray`).
    ray_address : str or None
        The Ray cluster to join: None starts a local Ray instance with this machine's cores (or
        ``jobs`` CPUs when given), ``auto`` joins the cluster ``ray start`` runs here, ``ray://host:10001``
        a remote one.
    device : {"cpu", "cuda"}
    force : bool
        Recompute cells that already finished.
    fit_cache : bool
        Load every generator fit (a method with ``cache_fit``) made before on the same windows
        with the same settings from the fit cache instead of fitting again, and keep new ones
        there (:mod:`bench.fit_cache`). Changes speed, not what is computed.
    tuned_from : str or None
        Provenance of a config written by ``bench tune``: ``<optuna storage>#<study>#trial-<n>``
        (recorded as the ``bench.tuned_from`` tag of the MLflow parent runs and in ``study.yaml``).
    preset : str or None
        The preset the settings started from (``--preset``, :mod:`bench.presets`); provenance only,
        every setting it made is in the config itself.
    """

    datasets: tuple[str, ...] = ("synthetic",)
    tasks: tuple[str, ...] = ("valence",)
    protocols: tuple[str, ...] = ("trial-kfold",)
    methods: tuple[str, ...] = DEFAULT_METHODS
    classifiers: tuple[str, ...] = (DEFAULT,)
    folds: int = 5
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    policy: Policy = Policy("balance")
    profile: str = "quick"
    recipe: str = "default"
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    labels: LabelRule = field(default_factory=LabelRule)
    method: dict[str, dict[str, Any]] = field(default_factory=dict)
    classifier: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset: dict[str, dict[str, Any]] = field(default_factory=dict)
    attacks: tuple[str, ...] = ()
    eps: tuple[float, ...] = (0.01, 0.05, 0.1)
    attack: dict[str, dict[str, Any]] = field(default_factory=dict)
    quality: bool = True
    fit_budget: float | None = None
    quality_vs_test: bool = False
    epoch_metrics: int = 0
    hard_case: HardCase | None = None
    gate: GateRule = field(default_factory=GateRule)
    data_dir: str | None = None
    experiment: str = "bench"
    tracking_uri: str | None = None
    out: str = "results"
    jobs: int = 1
    threads: int = 0
    executor: str = "local"
    ray_address: str | None = None
    device: str = "cpu"
    force: bool = False
    fit_cache: bool = True
    tuned_from: str | None = None
    preset: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "methods", _expand(self.methods, METHODS, "methods"))
        if tuple(self.classifiers) == (DEFAULT,):
            object.__setattr__(self, "classifiers", default_classifiers(self.methods))
        object.__setattr__(self, "classifiers", _expand(self.classifiers, CLASSIFIERS, "classifiers"))
        for name, registry in (("datasets", DATASETS), ("protocols", PROTOCOLS)):
            object.__setattr__(self, name, _expand(getattr(self, name), registry, name, allow_all=False))
        for task in self.tasks:
            if task not in TASKS:
                raise ConfigError(f"tasks: unknown task {task!r}; choose from {', '.join(TASKS)}")
        if not self.tasks or not self.seeds:
            raise ConfigError("tasks and seeds must each name at least one value")
        if self.folds < 2:
            raise ConfigError(f"folds must be at least 2, got {self.folds}; use --folds 5 for 5-fold protocols")
        if self.profile not in PROFILES:
            raise ConfigError(f"profile must be one of {PROFILES}, got {self.profile!r}")
        if self.recipe not in RECIPES:
            raise ConfigError(f"recipe must be one of {RECIPES}, got {self.recipe!r}")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        if self.fit_budget is not None and not (math.isfinite(self.fit_budget) and self.fit_budget > 0):
            raise ConfigError(f"fit_budget must be a number of seconds > 0, got {self.fit_budget!r}; e.g. --fit-budget 120")
        if self.epoch_metrics < 0:
            raise ConfigError(f"epoch_metrics must be a number of epochs >= 0 (0: off), got {self.epoch_metrics}")
        if self.jobs < 0 or self.threads < 0:
            raise ConfigError(f"jobs and threads must be >= 0 (0 = automatic), got jobs={self.jobs} threads={self.threads}")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}; "
                              "e.g. --executor ray")
        if self.ray_address is not None and self.executor != "ray":
            raise ConfigError(f"ray_address={self.ray_address!r} is set but executor is {self.executor!r}; "
                              "add --executor ray, or drop --ray-address")
        if not isinstance(self.policy, Policy):
            object.__setattr__(self, "policy", Policy.parse(self.policy))
        self._check_attacks()
        # Build every component config that is used or overridden, so unknown names, unknown keys
        # and bad values fail now (an override of a component not in the grid is still checked).
        for name in set(self.methods) | set(self.method):
            self.method_config(name)
        for name in set(self.classifiers) | set(self.classifier):
            self.classifier_config(name)
        for name in set(self.datasets) | set(self.dataset):
            self.reader_config(name)
        for name in set(self.attacks) | set(self.attack):
            self.attack_config(name)

    def _check_attacks(self) -> None:
        for name in self.attacks:
            ATTACKS.get(name)
        if len(set(self.attacks)) != len(self.attacks):
            raise ConfigError(f"attacks lists a name twice: {list(self.attacks)}")
        # "none" is the clean evaluation, which is always scored.
        object.__setattr__(self, "attacks", tuple(a for a in self.attacks if a != "none"))
        for e in self.eps:
            if not (e >= 0 and math.isfinite(e)):
                raise ConfigError(f"eps: every budget must be a finite number >= 0 (in training standard deviations), "
                                  f"got {e!r}; e.g. --eps 0.01,0.05,0.1")
        labels = [eps_label(e) for e in self.eps]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"eps lists a budget twice (as written in column names): {labels}")
        if self.attacks and not self.eps:
            raise ConfigError("eps must name at least one budget when attacks are requested, e.g. --eps 0.01,0.05,0.1")

    def recipe_of(self, method: str) -> str:
        """The recipe a method's cells use: ``paper`` only when asked for and the method has one."""
        return "paper" if self.recipe == "paper" and METHODS.get(method).paper_recipe else "default"

    def method_config(self, name: str) -> ComponentConfig:
        """The resolved config of method ``name``: its profile, ``fit_budget`` for a generator, the ``method`` overrides."""
        config_cls = METHODS.get(name).Config
        budget = ({"fit_budget_s": self.fit_budget}
                  if self.fit_budget is not None and "fit_budget_s" in {f.name for f in dataclasses.fields(config_cls)}
                  else {})
        return config_cls.for_profile(self.profile, {**budget, **self.method.get(name, {})}, where=f"method.{name}")

    def method_label(self, name: str) -> str:
        """How results name method ``name``: with its variant when the config changes the algorithm (``escgan[filter=target]``)."""
        variant = self.method_config(name).variant()
        return f"{name}[{variant}]" if variant else name

    def classifier_config(self, name: str) -> ComponentConfig:
        """The resolved config of classifier ``name``."""
        return CLASSIFIERS.get(name).Config.for_profile(self.profile, self.classifier.get(name), where=f"classifier.{name}")

    def attack_config(self, name: str) -> ComponentConfig:
        """The resolved config of attack ``name``: its profile plus the ``attack`` overrides."""
        return ATTACKS.get(name).Config.for_profile(self.profile, self.attack.get(name), where=f"attack.{name}")

    def attack_keys(self) -> dict[str, str]:
        """Requested attack -> hash of its resolved settings (identifies its stored robust scores)."""
        return {name: config_hash({"attack": name, "config": to_dict(self.attack_config(name))})
                for name in self.attacks}

    def reader_config(self, name: str) -> Any:
        """The reader config of dataset ``name``: :data:`DATASET_DEFAULTS`, then the ``dataset`` overrides."""
        config_cls = type(DATASETS.get(name)().config)
        return from_dict(config_cls, {**DATASET_DEFAULTS.get(name, {}), **self.dataset.get(name, {})},
                         where=f"dataset.{name}")

    @property
    def resolved_tracking_uri(self) -> str:
        """``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else MLflow's default ``sqlite:///mlflow.db``."""
        return resolve_tracking_uri(self.tracking_uri)

    @property
    def workers(self) -> int:
        """Worker processes: ``jobs``, or for 0 one per core up to :data:`MAX_AUTO_JOBS`."""
        return self.jobs or max(1, min(os.cpu_count() or 1, MAX_AUTO_JOBS))

    def threads_for(self, workers: int) -> int:
        """Torch threads per cell while ``workers`` processes compute cells: ``threads``, or the cores shared out."""
        return self.threads or max(1, (os.cpu_count() or 1) // workers)

    @property
    def torch_threads(self) -> int:
        """Torch threads per cell of ``bench run``."""
        return self.threads_for(self.workers)

    def computed(self) -> dict[str, Any]:
        """The plain config without the runtime fields: what the results depend on."""
        return {k: v for k, v in to_dict(self).items() if k not in RUNTIME_FIELDS}


def _expand(names: tuple[str, ...], registry: Registry, field_name: str, allow_all: bool = True) -> tuple[str, ...]:
    if not names:
        raise ConfigError(f"{field_name} must name at least one {registry.kind}")
    if allow_all and tuple(names) == ("all",):
        return tuple(registry.names())
    for name in names:
        registry.get(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"{field_name} lists a name twice: {list(names)}")
    return tuple(names)


def build_study(
    file: str | os.PathLike[str] | None = None,
    sets: list[str] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> StudyConfig:
    """Defaults <- YAML ``file`` <- command-line options ``cli`` <- ``--set`` items.

    Parameters
    ----------
    file : path, optional
        A YAML mapping of StudyConfig fields (e.g. the ``best.yaml`` written by ``bench tune``).
    sets : list of str
        ``key.path=value`` overrides, applied last.
    cli : mapping
        Options given on the command line (only those the user set).
    """
    data: dict[str, Any] = load_yaml(file) if file else {}
    data.update({k: v for k, v in (cli or {}).items() if v is not None})
    data = apply_sets(data, list(sets or []))
    return from_dict(StudyConfig, data, where="config")


def resolve_tracking_uri(uri: str | None) -> str:
    """``uri``, else ``$MLFLOW_TRACKING_URI``, else :data:`DEFAULT_TRACKING_URI`."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def with_runtime(config: StudyConfig, **changes: Any) -> StudyConfig:
    """A copy with runtime fields changed (never changes what is computed)."""
    bad = set(changes) - set(RUNTIME_FIELDS)
    if bad:
        raise ConfigError(f"with_runtime only changes runtime fields {RUNTIME_FIELDS}, not {sorted(bad)}")
    return replace(config, **changes)
