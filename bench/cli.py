"""Command line: ``python -m bench run``, ``tune``, ``report`` and ``list``.

``run`` with no arguments benchmarks none and the two paper methods (escgan, de3dgan) with svm, esc-cnn and
sa-st-net (DE-3DGAN's own classifier) on the built-in synthetic dataset (valence, leakage-safe ``trial-kfold``,
5 folds x 2 seeds: 10 matched pairs per comparison, quick profile), logs to MLflow and prints the leaderboard.
Options override the defaults; ``--config FILE`` reads a YAML file of the same settings and ``--set key=value``
overrides any single one.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.errors import BenchError, ConfigError
from bench.urls import mask_logs, mask_text, mask_url

TRACKING_HELP = "MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)"
"""Help of every ``--tracking-uri``; the default itself is :data:`bench.study.DEFAULT_TRACKING_URI`."""

FIT_CACHE_HELP = ("load generator fits made before (same windows, settings and code) from the fit cache under "
                  "$BENCH_CACHE_DIR/fits and keep new ones there (default: on)")
"""Help of every ``--fit-cache``."""

EXIT_FAILED_CELLS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C (finished cells kept, locks released)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _floats(text: str) -> list[float]:
    try:
        return [float(t) for t in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Honest benchmarks of EEG data augmentation.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="sweep methods x classifiers x datasets x tasks x protocols x folds x seeds",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    grid = run.add_argument_group("what to run (comma-separated lists)")
    grid.add_argument("--methods", type=_names, help="augmentation methods, or 'all' (default: none,escgan,de3dgan)")
    grid.add_argument("--classifiers", type=_names,
                      help="classifiers, or 'all' (default: svm,esc-cnn and the own classifier of every paper method in "
                           "--methods: escgan -> esc-cnn, de3dgan -> sa-st-net)")
    grid.add_argument("--datasets", type=_names, help="synthetic, deap, seed, amigos (default: synthetic)")
    grid.add_argument("--tasks", type=_names, help="valence, arousal, quadrant, emotion (default: valence)")
    grid.add_argument("--protocol", dest="protocols", type=_names,
                      help="trial-kfold (default), subject-kfold, loso, within-subject, paper-escgan, paper-de3dgan")
    grid.add_argument("--folds", type=int, help="folds of k-fold protocols (default: 5)")
    grid.add_argument("--seeds", type=_ints, help="root seeds, e.g. 0,1,2 (default: 0,1)")
    grid.add_argument("--policy", help="augmentation budget: balance (default), ratio=R, counts=0:N,1:M, none")
    grid.add_argument("--profile", choices=("quick", "paper"), help="component sizes (default: quick)")
    grid.add_argument("--recipe", choices=("default", "paper"),
                      help="default: fixed synthetic sets for every method; paper: methods with their paper's own "
                           "classifier training use it (e.g. ESC-GAN's online editing)")
    grid.add_argument("--attacks", type=_names,
                      help="attacks on every torch classifier's test fold: fgsm, pgd, apgd, deepfool, cw "
                           "(default: none, clean scores only)")
    grid.add_argument("--eps", type=_floats,
                      help="attack budgets in training standard deviations per feature (default: 0.01,0.05,0.1)")
    grid.add_argument("--quality", action=argparse.BooleanOptionalAction,
                      help="measure how real each method's synthetic windows look: spectra, MMD, Frechet distance, "
                           "train-on-synthetic-test-on-real, memorisation (default: on)")
    grid.add_argument("--fit-budget", type=float, metavar="SECONDS",
                      help="wall-clock seconds each generator fit may take; it stops earlier when its inner validation "
                           "signal plateaus (default: the profile's)")
    settings = run.add_argument_group("settings")
    settings.add_argument("--preset", help="start from a paper's settings: escgan-paper, de3dgan-paper (bench list "
                                           "shows them; every other option and --set overrides them)")
    settings.add_argument("--config", help="YAML file of settings (e.g. best.yaml from bench tune)")
    settings.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                          help="override one setting, e.g. folds=3, method.smote.k_neighbors=3, "
                               "classifier.esc-cnn.epochs=20, dataset.synthetic.n_subjects=4, attack.pgd.steps=20, "
                               "gate.ratio=0.8 (repeatable)")
    settings.add_argument("--data-dir", help="folder holding deap/, seed/, amigos/ (default: $BENCH_DATA_DIR)")
    out = run.add_argument_group("where results go and how fast")
    out.add_argument("--tracking-uri", help=TRACKING_HELP)
    out.add_argument("--experiment", help="MLflow experiment name (default: bench)")
    out.add_argument("--out", help="output folder for results tables and resume records (default: results)")
    out.add_argument("--jobs", type=int, help="worker processes computing cells in parallel (default: 1, in this process; "
                     "0: one per core, at most 4)")
    out.add_argument("--threads", type=int, help="torch threads per cell (default: cores / workers; with "
                     "--executor ray: 1, and the CPUs each unit asks Ray for)")
    out.add_argument("--executor", choices=("local", "ray"),
                     help="local (default: this process, or --jobs worker processes) or ray (a Ray cluster; "
                          "pip install -e .[ray]; docs/scaling.md)")
    out.add_argument("--ray-address", help="with --executor ray: the cluster to join, 'auto' for the one `ray start` "
                                           "runs here (default: start a local Ray instance with --jobs CPUs, or all)")
    out.add_argument("--device", help="cpu (default), cuda or cuda:N")
    out.add_argument("--force", action="store_true", default=None, help="recompute cells that already finished")
    out.add_argument("--fit-cache", action=argparse.BooleanOptionalAction, help=FIT_CACHE_HELP)
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    out.add_argument("--dry-run", action="store_true",
                     help="print the resolved study as YAML and the planned cells (not-applicable pairs and why), "
                          "then stop: no data file is read, nothing is trained")

    _tune_parser(sub)
    _report_parser(sub)
    sub.add_parser("list", help="every registered dataset, method, classifier, protocol and attack, and the presets")
    return parser


TUNE_HELP = """Tune a method's and a classifier's hyperparameters with Optuna, honestly: every trial is scored
on an inner validation split of each outer fold's training windows (the same protocol splits them
again), never on a test fold. Several processes (on several machines) given the same --storage and
--study share one study; running the command again resumes it. The best configuration is written as
YAML for `python -m bench run --config best.yaml`."""


def _tune_parser(sub: Any) -> None:
    tune = sub.add_parser("tune", help="Optuna search on inner splits of the training folds (never the test folds)",
                          description=TUNE_HELP)
    what = tune.add_argument_group("what to tune")
    what.add_argument("--method", required=True, help="augmentation method, e.g. smote, noise, escgan")
    what.add_argument("--classifier", required=True, help="classifier, e.g. svm, esc-cnn")
    what.add_argument("--dataset", help="dataset (default: synthetic)")
    what.add_argument("--task", help="valence (default), arousal, quadrant, emotion")
    what.add_argument("--protocol", help="outer protocol, split again for validation (default: trial-kfold)")
    what.add_argument("--folds", type=int, help="outer folds (default: 5)")
    what.add_argument("--inner-folds", type=int, help="folds of the inner split; the first validates (default: 3)")
    what.add_argument("--outer-folds-used", type=int, help="score trials on the first N outer folds (default: all)")
    what.add_argument("--metric", help="validation metric maximised (default: balanced_accuracy)")
    what.add_argument("--profile", choices=("quick", "paper"), help="component sizes (default: quick)")
    what.add_argument("--policy", help="augmentation budget (default: balance)")
    what.add_argument("--seed", type=int, help="root seed of splits and fits (default: 0)")
    what.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                      help="fix a parameter (removed from the search), e.g. method.smote.k_neighbors=5, or any "
                           "study setting, e.g. dataset.synthetic.n_subjects=4 (repeatable)")
    what.add_argument("--space", help="YAML file of search-space overrides: method|classifier -> field -> "
                                      "{type: float|int|categorical, low, high, log, step, choices}")
    search = tune.add_argument_group("the search")
    search.add_argument("--trials", type=int, help="trials this process runs (default: 20)")
    search.add_argument("--timeout", type=float, help="stop starting trials after S seconds")
    search.add_argument("--sampler", choices=("tpe", "random", "cmaes"), help="default: tpe")
    search.add_argument("--pruner", choices=("median", "hyperband", "none"), help="default: median")
    search.add_argument("--storage", help="Optuna storage URL (default: sqlite:///optuna.db; e.g. "
                                          "postgresql://user:pw@host/db for many machines)")
    search.add_argument("--study",
                        help="Optuna study name (default: <method>-<classifier>-<dataset>-<task>-<protocol>)")
    out = tune.add_argument_group("where results go")
    out.add_argument("--out", help="best configuration, YAML for bench run --config (default: best.yaml)")
    out.add_argument("--tracking-uri",
                     help=TRACKING_HELP)
    out.add_argument("--experiment", help="MLflow experiment (default: bench-tune)")
    out.add_argument("--data-dir", help="folder holding deap/, seed/, amigos/ (default: $BENCH_DATA_DIR)")
    out.add_argument("--device", help="cpu (default), cuda or cuda:N")
    out.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    out.add_argument("--fit-cache", action=argparse.BooleanOptionalAction, help=FIT_CACHE_HELP)
    out.add_argument("-q", "--quiet", action="store_true", help="no line per trial")


REPORT_HELP = """Comparison tables (mean ± std, best bold, second underlined, ranks, gain over none, leaky
protocols marked), statistics (one-sided paired Wilcoxon of each method against none with Holm's
correction and effect sizes; Friedman and Nemenyi with a critical-difference diagram), plots and
one self-contained HTML page, from a run's results table or an MLflow experiment. `bench run`
writes the same report into <out>/report at its end."""


def _report_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="tables, statistics, plots and an HTML page from a run's results",
                            description=REPORT_HELP)
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--results", help="a results.csv or results.parquet written by bench run")
    source.add_argument("--experiment", help="an MLflow experiment written by bench run (see --tracking-uri)")
    report.add_argument("--tracking-uri", help=TRACKING_HELP)
    report.add_argument("--out", help="report folder (default: report/ beside --results, else report-<experiment>)")
    report.add_argument("--format", dest="formats", default="md,csv,tex,html",
                        help="comma-separated subset of md,csv,tex,html (default: all)")
    report.add_argument("--metric", default="balanced_accuracy", help="score compared (default: balanced_accuracy)")
    report.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    report.add_argument("--no-log", action="store_true", help="with --experiment: do not log the report to MLflow")


def report_with_notes(table: Any, out: Path, formats: Sequence[str], title: str, link: str, quality_dir: Path | None,
                      metric: str = "balanced_accuracy", alpha: float = 0.05, gate: Any = None) -> list[Path]:
    """Build and write a report, printing its statistical caveats as ``note:`` lines on stderr.

    ``gate`` is the :class:`bench.gate.GateRule` the rows are held to (default: the default rule).
    """
    import warnings

    from reports.report import build, write_report as write

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = build(table, title, link, quality_dir, metric, alpha, gate)
    for w in dict.fromkeys(str(w.message) for w in caught):
        print(f"note: {w}", file=sys.stderr)
    return write(report, out, formats)


def command_report(args: argparse.Namespace) -> int:
    from bench.preflight import check_writable
    from bench.study import resolve_tracking_uri
    from bench.tracking import Tracker, read_results
    from reports.report import load_results, parse_formats

    formats = parse_formats(args.formats)
    if not 0 < args.alpha < 1:
        raise ConfigError(f"--alpha {args.alpha}: must be between 0 and 1, e.g. 0.05")
    uri = resolve_tracking_uri(args.tracking_uri)
    if args.results:
        table, link, title = load_results(args.results), "", f"bench report — {args.results}"
        out, quality = Path(args.out or Path(args.results).parent / "report"), Path(args.results).parent
    else:
        table, link = read_results(uri, args.experiment)
        title, out, quality = f"bench report — {args.experiment}", Path(args.out or f"report-{args.experiment}"), None
    check_writable(out, "--out")  # before the plots are drawn
    paths = report_with_notes(table, out, formats, title, link, quality, args.metric, args.alpha)
    if args.experiment and not args.no_log:
        Tracker(uri, args.experiment).log_report(out)
        print(f"logged to MLflow experiment {args.experiment!r} (run 'report', artifacts report/)", file=sys.stderr)
    for path in paths:
        if path.parent == out:
            print(path)
    return 0


_STUDY_OPTIONS = ("methods", "classifiers", "datasets", "tasks", "protocols", "folds", "seeds", "policy", "profile",
                  "recipe", "attacks", "eps", "quality", "fit_budget", "data_dir", "tracking_uri", "experiment", "out",
                  "jobs", "threads", "executor", "ray_address", "device", "force", "fit_cache")


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    from tqdm import tqdm

    return lambda total: tqdm(total=total, desc="cells", unit="cell", file=sys.stderr, disable=None)  # no bar off a terminal


def command_run(args: argparse.Namespace) -> int:
    from bench.dry_run import describe
    from bench.presets import build_studies

    configs = build_studies(args.preset, args.config, args.sets, {k: getattr(args, k) for k in _STUDY_OPTIONS})
    if args.dry_run:
        print("\n\n".join(describe(config) for config in configs))
        return 0
    if len(configs) > 1:  # a preset set datasets apart: one study (and results folder) each
        from dataclasses import replace

        configs = [replace(c, out=str(Path(c.out) / "-".join(c.datasets))) for c in configs]
    from bench.preflight import check_run, check_writable
    from bench.study_lock import StudyLock

    with contextlib.ExitStack() as locks:
        for config in configs:  # one writer per study: refused before anything is opened
            check_writable(config.out, "--out")
            locks.enter_context(StudyLock(config.out))
        for config in configs:  # every study's stores and folders, before any computes
            check_run(config)
        return max(_run_one(config, args.quiet) for config in configs)


def _run_one(config: Any, quiet: bool) -> int:
    """Run one study, print its leaderboard and write its report; the exit code."""
    from bench.runner import run_study
    from reports.leaderboard import format_leaderboard

    if config.tuned_from:
        print(f"config tuned in {config.tuned_from}", file=sys.stderr)
    print(f"study {config.experiment!r}: datasets {', '.join(config.datasets)}; tasks {', '.join(config.tasks)}; "
          f"protocols {', '.join(config.protocols)}; {len(config.methods)} methods x {len(config.classifiers)} "
          f"classifiers; seeds {list(config.seeds)}; profile {config.profile}; policy {config.policy}"
          + (f"; preset {config.preset}" if config.preset else ""), file=sys.stderr)
    if config.attacks:
        print(f"attacks {', '.join(config.attacks)} at eps {', '.join(map(str, config.eps))} (training standard "
              "deviations per feature) on every torch classifier's test fold", file=sys.stderr)
    tic = time.perf_counter()
    result = run_study(config, progress=_progress(quiet))
    print(format_leaderboard(result.summary))
    print(f"\n{result.computed} cells computed, {result.skipped} already done (skipped), {result.failed} failed "
          f"in {time.perf_counter() - tic:.0f} s", file=sys.stderr)
    print(f"results: {', '.join(str(p) for p in result.paths)}", file=sys.stderr)
    _report_run(config, result)
    print(f"MLflow:  {result.tracking_hint}", file=sys.stderr)
    return EXIT_FAILED_CELLS if result.failed else 0


def _report_run(config: Any, result: Any) -> None:
    """The report of a finished run, into ``<out>/report`` and the experiment's MLflow ``report`` run."""
    from bench.tracking import Tracker

    out = Path(config.out) / "report"
    try:
        paths = report_with_notes(result.table, out, ("md", "csv", "tex", "html"),
                                  f"bench report — {config.experiment}", result.tracking_hint, Path(config.out),
                                  gate=config.gate)
    except BenchError as e:
        print(f"no report: {e}", file=sys.stderr)
        return
    Tracker(config.resolved_tracking_uri, config.experiment).log_report(out)
    print(f"report:  {next(p for p in paths if p.name == 'report.html')} (also logged to MLflow)", file=sys.stderr)


_TUNE_OPTIONS = ("method", "classifier", "dataset", "task", "protocol", "folds", "inner_folds", "outer_folds_used",
                 "metric", "profile", "policy", "seed", "space", "trials", "timeout", "sampler", "pruner", "storage",
                 "study", "out", "tracking_uri", "experiment", "data_dir", "device", "threads", "fit_cache")


def command_tune(args: argparse.Namespace) -> int:
    import optuna

    from bench.preflight import check_tune
    from bench.tuning import TuneConfig, tune

    config = TuneConfig.from_options({k: getattr(args, k) for k in _TUNE_OPTIONS}, args.sets)
    check_tune(config)
    optuna.logging.set_verbosity(optuna.logging.WARNING if args.quiet else optuna.logging.INFO)
    mask_logs(optuna.logging.get_logger("optuna"))
    print(f"study {config.study_name!r} in {mask_url(config.storage)}: tuning {config.method_name} with {config.classifier_name} on "
          f"{config.dataset}/{config.task}/{config.protocol}, {config.trials} trials, {config.metric} on inner "
          f"validation splits of the training folds", file=sys.stderr)
    result = tune(config)
    print(f"best {config.metric} = {result.best_value:.4f} (trial {result.best_trial}; study trials: "
          f"{', '.join(f'{n} {s.lower()}' for s, n in sorted(result.states.items()))}) in {result.seconds:.0f} s")
    for name, value in sorted(result.best_params.items()):
        print(f"  {name} = {value!r}")
    print(f"best config: {result.out}   (run it: python -m bench run --config {result.out})")
    print(f"MLflow:  {result.tracking_hint}", file=sys.stderr)
    return 0


def command_list() -> int:
    from bench.presets import describe as describe_presets
    from bench.registry import ATTACKS, CLASSIFIERS, DATASETS, METHODS, PROTOCOLS

    for title, registry in (("datasets", DATASETS), ("methods", METHODS), ("classifiers", CLASSIFIERS),
                            ("protocols", PROTOCOLS), ("attacks", ATTACKS)):
        print(f"{title}:")
        for name, line in registry.describe().items():
            cls = registry.get(name)
            if getattr(cls, "representation", None):
                line += f"  [{getattr(cls, 'representation_label', cls.representation)}]"
            if getattr(cls, "leaky", False):
                line += "  [LEAKY]"
            if getattr(cls, "own_classifier", ""):
                line += f"  [own classifier {cls.own_classifier}: in the study when --classifiers is not given]"
            print(f"  {name:<18}{line}")
    print("presets (bench run --preset NAME; docs/presets.md):")
    for name, line in describe_presets().items():
        print(f"  {name:<18}{line}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 some cells failed, 2 bad input, 130 Ctrl-C, 143 SIGTERM).

    Bad input is reported before anything is computed (:mod:`bench.preflight`), as one line. SIGTERM
    is handled like Ctrl-C: what finished is kept, a line says how to resume.
    """
    args = _parser().parse_args(argv)
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        return _main(args)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _main(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(args: argparse.Namespace) -> int:
    """:func:`main` once the arguments are parsed (and SIGTERM handled)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bench.executor_ray").setLevel(logging.INFO)  # where a cluster's workers read the data
    mask_logs()  # no log line shows a URL's password
    try:
        if args.command == "list":
            return command_list()
        if args.command == "tune":
            return command_tune(args)
        if args.command == "report":
            return command_report(args)
        return command_run(args)
    except BenchError as e:
        print(f"error: {mask_text(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:
        how = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        print(f"\n{how}: finished cells are saved; run the same command again to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED
    except Exception:  # a crash: its traceback, with any URL's password masked
        import traceback

        print(mask_text(traceback.format_exc()), file=sys.stderr, end="")
        return 1  # as Python's own exit on an uncaught exception
