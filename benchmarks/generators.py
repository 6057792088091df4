"""Did each generator learn? Fit cost, stop reason, inner signal, test-side quality and the gate, per generator.

Run by hand, never by the tests::

    PYTHONPATH=. .venv/bin/python benchmarks/generators.py [--methods escgan,cgan] [--reps de-grid,raw]
        [--folds 5] [--seeds 0,1] [--jobs 1] [--profile quick] [--fit-budget S]
    PYTHONPATH=. .venv/bin/python benchmarks/generators.py --curve escgan --scale 4 [--rep de-grid] [--fold 0]
        [--fit-budget S]  (S replaces the scaled budget, so a loaded machine does not cut the curve short)

The first form runs one ``bench run`` study per representation on the synthetic dataset
(trial-kfold, valence) with the generators and one classifier that consumes that representation
(``esc-cnn`` for DE grids, ``eegnet`` for raw windows, ``sa-st-net`` for DE-3DGAN's raw-grid
frames), then prints per generator and representation, as means over folds: fit seconds,
generator updates, stop reasons, the inner-validation signal (the probe's balanced accuracy on
held-out training trials, and the same probe trained on real windows), test-side TSTR balanced
accuracy against the real-data classifier's, MMD, Frechet distance, and the quality gate.

The second form fits one generator on one fold of the training data with ``--scale`` times the
profile's epochs and budget and no early stop, and prints its inner-validation curve (signal
against updates and seconds): how much budget a generator that does not pass would need. The
test fold is never used there.

Outputs go to ``benchmarks/out/generators/`` (fresh MLflow database and results per run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out" / "generators"
GENERATORS = ("escgan", "de3dgan", "cgan", "wgan-gp", "vae", "ddpm")
CLASSIFIER = {"de-grid": "esc-cnn", "raw": "eegnet", "raw-grid": "sa-st-net"}
NATIVE = {"escgan": ("de-grid",), "de3dgan": ("raw-grid",)}
"""Generators whose representation is fixed; the others model raw windows or DE grids, by config."""


def reader_size() -> list[str]:
    """``--set`` items for the synthetic reader's own size (8 x 20 x 20 s), on which docs/generators.md measured,
    instead of the smaller default-study size (``bench.study.DATASET_DEFAULTS``)."""
    from bench.study import DATASET_DEFAULTS
    from datasets.synthetic import SyntheticConfig

    return [f"dataset.synthetic.{name}={getattr(SyntheticConfig(), name)}" for name in DATASET_DEFAULTS["synthetic"]]


def study(methods: list[str], rep: str, args: argparse.Namespace) -> pd.DataFrame:
    """One study of ``methods`` in representation ``rep``; its results table."""
    from bench.runner import run_study
    from bench.study import build_study

    folder = OUT / f"{rep}-{'-'.join(methods)}"
    shutil.rmtree(folder, ignore_errors=True)
    sets = reader_size() + [f"method.{m}.representation={rep}" for m in methods if m not in NATIVE]
    cli = {"methods": methods, "classifiers": [CLASSIFIER[rep]], "folds": args.folds, "jobs": args.jobs,
           **({"seeds": [int(s) for s in args.seeds.split(",")]} if args.seeds else {}),
           "profile": args.profile, "out": str(folder / "results"), "tracking_uri": f"sqlite:///{folder}/mlflow.db",
           "fit_cache": not args.no_fit_cache, **({"fit_budget": args.fit_budget} if args.fit_budget else {})}
    config = build_study(sets=sets, cli=cli)
    tic = time.perf_counter()
    result = run_study(config)
    print(f"  [{rep}: {len(result.table)} cells in {time.perf_counter() - tic:.0f} s, {result.failed} failed]")
    return result.table.assign(representation=rep)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (method, representation): means over folds of the fit and quality columns, and the gate."""
    from bench.gate import GateRule, judge

    rows = []
    for (method, rep), cells in table.groupby(["method", "representation"], sort=False):
        ok = cells[cells["status"] == "ok"]
        gate, reason = judge(ok, GateRule())

        def mean(col: str) -> float:
            return float(ok[col].mean()) if col in ok and len(ok) else np.nan

        rows.append({
            "method": method, "rep": rep, "folds": len(ok), "fit_s": mean("method.fit.seconds"),
            "steps": mean("method.fit.steps"), "stop": ",".join(sorted(set(ok.get("fit_stop", pd.Series(dtype=str))))),
            "signal": mean("method.fit.signal"), "signal_real": mean("method.fit.signal_real"),
            "tstr": mean("quality.tstr_balanced_accuracy"), "real": mean("quality.real_balanced_accuracy"),
            "tstr_min_ratio": float(ok["quality.tstr_ratio"].min()) if "quality.tstr_ratio" in ok else np.nan,
            "mmd": mean("quality.mmd"), "frechet": mean("quality.frechet"), "kept": mean("method.kept") / mean("method.asked")
            if "method.asked" in ok else np.nan, "gate": gate or "-", "reason": reason,
            "status": ",".join(sorted(set(cells["status"]))),
        })
    return pd.DataFrame(rows)


def curve(name: str, rep: str, scale: float, fold: int, profile: str, budget: float | None = None) -> None:
    """Fit ``name`` with ``scale`` x the profile's epochs and budget (or ``budget`` seconds), no early stop; print its
    inner signal."""
    from bench.registry import METHODS
    from bench.context import context
    from bench.seeding import derive
    from bench.study import build_study

    config = build_study(sets=reader_size(), cli={"methods": [name], "profile": profile})
    ctx = context(config, "synthetic")
    y, info = ctx.labels("valence")
    train = ctx.folds("valence", "trial-kfold", 0)[fold].train  # the test fold is not read
    cls = METHODS.get(name)
    base = cls.Config.for_profile(profile)
    overrides = {"epochs": int(base.epochs * scale), "fit_budget_s": budget or base.fit_budget_s * scale, "patience": 0}
    if name not in NATIVE:
        overrides["representation"] = rep
    method = cls.from_config(cls.Config.for_profile(profile, overrides), info=info)
    rep = cls.representation_for(method.config, rep)
    kwargs = ({"trials": (ctx.groups.trial_id[train], ctx.groups.position[train])} if cls.needs_trials
              else {"groups": ctx.groups.trial_id[train]})
    method.fit(ctx.views.real(rep, train), y[train], rng=derive(0, "benchmark", name, "fit"), **kwargs)
    report = method.fit_report_
    print(f"{name} ({rep}, fold {fold}, {profile} x {scale}: at most {overrides['epochs']} epochs, "
          f"{overrides['fit_budget_s']:.0f} s): stopped by {report.stop_reason} after {report.epochs} epochs, "
          f"{report.steps} updates, {report.seconds:.0f} s; probe on real windows {report.signal_real:.3f}")
    print(f"{'epoch':>6}{'updates':>9}{'seconds':>9}{'signal':>8}")
    for point in report.curve:
        print(f"{point['epoch']:>6}{point['step']:>9}{point['seconds']:>9.0f}{point['signal']:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=",".join(GENERATORS))
    parser.add_argument("--reps", default="de-grid,raw", help="representations of the four baseline generators")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", help="root seeds, e.g. 0,1 (default: the study's)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--fit-budget", type=float)
    parser.add_argument("--no-fit-cache", action="store_true")
    parser.add_argument("--curve", metavar="METHOD", help="print one fit's inner-validation curve instead")
    parser.add_argument("--scale", type=float, default=4.0, help="with --curve: x the profile's epochs and budget")
    parser.add_argument("--rep", default="de-grid", help="with --curve: the baseline generator's representation")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="with --curve: torch threads (0: torch's default)")
    args = parser.parse_args()
    import datasets
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    datasets.prepare("synthetic")
    print(f"cores: {os.cpu_count()}, profile {args.profile}")
    if args.curve:
        curve(args.curve, args.rep, args.scale, args.fold, args.profile, args.fit_budget)
        return
    methods = args.methods.split(",")
    tables = []
    for rep in ("de-grid", "raw-grid", "raw"):
        names = [m for m in methods if NATIVE.get(m, tuple(args.reps.split(","))).__contains__(rep)]
        if names:
            tables.append(study(names, rep, args))
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 90,
                           "display.float_format", "{:.3f}".format):
        print(summary(pd.concat(tables, ignore_index=True)).to_string(index=False))


if __name__ == "__main__":
    main()
