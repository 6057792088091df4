"""Command line: ``python -m bench run`` and ``python -m bench list``.

``run`` with no arguments benchmarks every registered method with the two DE classifiers (svm,
esc-cnn) on the built-in synthetic dataset (valence, leakage-safe ``trial-kfold``, 5 folds, quick profile),
logs to MLflow and prints the leaderboard. Options override the defaults; ``--config FILE`` reads
a YAML file of the same settings and ``--set key=value`` overrides any single one.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.errors import BenchError

EXIT_FAILED_CELLS = 1
EXIT_USAGE = 2


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Honest benchmarks of EEG data augmentation.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="sweep methods x classifiers x datasets x tasks x protocols x folds x seeds",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    grid = run.add_argument_group("what to run (comma-separated lists)")
    grid.add_argument("--methods", type=_names, help="augmentation methods, or 'all' (default: all)")
    grid.add_argument("--classifiers", type=_names, help="classifiers, or 'all' (default: svm,esc-cnn)")
    grid.add_argument("--datasets", type=_names, help="synthetic, deap, seed, amigos (default: synthetic)")
    grid.add_argument("--tasks", type=_names, help="valence, arousal, quadrant, emotion (default: valence)")
    grid.add_argument("--protocol", dest="protocols", type=_names,
                      help="trial-kfold (default), subject-kfold, loso, within-subject, paper-escgan, paper-de3dgan")
    grid.add_argument("--folds", type=int, help="folds of k-fold protocols (default: 5)")
    grid.add_argument("--seeds", type=_ints, help="root seeds, e.g. 0,1,2 (default: 0)")
    grid.add_argument("--policy", help="augmentation budget: balance (default), ratio=R, counts=0:N,1:M, none")
    grid.add_argument("--profile", choices=("quick", "paper"), help="component sizes (default: quick)")
    grid.add_argument("--recipe", choices=("default", "paper"),
                      help="default: fixed synthetic sets for every method; paper: methods with their paper's own "
                           "classifier training use it (e.g. ESC-GAN's online editing)")
    settings = run.add_argument_group("settings")
    settings.add_argument("--config", help="YAML file of settings (e.g. best.yaml from bench tune)")
    settings.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                          help="override one setting, e.g. folds=3, method.smote.k_neighbors=3, "
                               "classifier.esc-cnn.epochs=20, dataset.synthetic.n_subjects=4 (repeatable)")
    settings.add_argument("--data-dir", help="folder holding deap/, seed/, amigos/ (default: $BENCH_DATA_DIR)")
    out = run.add_argument_group("where results go and how fast")
    out.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)")
    out.add_argument("--experiment", help="MLflow experiment name (default: bench)")
    out.add_argument("--out", help="output folder for results tables and resume records (default: results)")
    out.add_argument("--jobs", type=int, help="cells computed in parallel processes (default: 1)")
    out.add_argument("--threads", type=int, help="torch threads per cell (default: cores / jobs)")
    out.add_argument("--device", help="cpu (default), cuda or cuda:N")
    out.add_argument("--force", action="store_true", default=None, help="recompute cells that already finished")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    sub.add_parser("list", help="every registered dataset, method, classifier, protocol and attack")
    return parser


_STUDY_OPTIONS = ("methods", "classifiers", "datasets", "tasks", "protocols", "folds", "seeds", "policy", "profile",
                  "recipe", "data_dir", "tracking_uri", "experiment", "out", "jobs", "threads", "device", "force")


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    from tqdm import tqdm

    return lambda total: tqdm(total=total, desc="cells", unit="cell", file=sys.stderr, disable=None)  # no bar off a terminal


def command_run(args: argparse.Namespace) -> int:
    from bench.runner import run_study
    from bench.study import build_study
    from reports.leaderboard import format_leaderboard

    config = build_study(args.config, args.sets, {k: getattr(args, k) for k in _STUDY_OPTIONS})
    print(f"study {config.experiment!r}: datasets {', '.join(config.datasets)}; tasks {', '.join(config.tasks)}; "
          f"protocols {', '.join(config.protocols)}; {len(config.methods)} methods x {len(config.classifiers)} "
          f"classifiers; seeds {list(config.seeds)}; profile {config.profile}; policy {config.policy}", file=sys.stderr)
    tic = time.perf_counter()
    result = run_study(config, progress=_progress(args.quiet))
    print(format_leaderboard(result.summary))
    print(f"\n{result.computed} cells computed, {result.skipped} already done (skipped), {result.failed} failed "
          f"in {time.perf_counter() - tic:.0f} s", file=sys.stderr)
    print(f"results: {', '.join(str(p) for p in result.paths)}", file=sys.stderr)
    print(f"MLflow:  {result.tracking_hint}", file=sys.stderr)
    return EXIT_FAILED_CELLS if result.failed else 0


def command_list() -> int:
    from bench.registry import ATTACKS, CLASSIFIERS, DATASETS, METHODS, PROTOCOLS

    for title, registry in (("datasets", DATASETS), ("methods", METHODS), ("classifiers", CLASSIFIERS),
                            ("protocols", PROTOCOLS), ("attacks", ATTACKS)):
        print(f"{title}:")
        for name, line in registry.describe().items():
            cls = registry.get(name)
            if getattr(cls, "representation", None):
                line += f"  [{cls.representation}]"
            if getattr(cls, "leaky", False):
                line += "  [LEAKY]"
            print(f"  {name:<18}{line}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 some cells failed, 2 bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "list":
            return command_list()
        return command_run(args)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted: finished cells are saved; run the same command again to resume", file=sys.stderr)
        return 130
