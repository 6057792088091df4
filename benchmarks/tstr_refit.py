"""Explain one cell's TSTR: refit its generator on the same split from other initialisations.

Run by hand, never by the tests::

    PYTHONPATH=. .venv/bin/python benchmarks/tstr_refit.py ddpm --rep de-grid --fold 3 --split-seed 0 --inits 0,1

``benchmarks/generators.py`` reported a TSTR far below chance for ``ddpm`` and ``wgan-gp`` on
fold-3 of seed 0 (DE grids). This script fits the generator on that fold's training windows
(``quick``, no fit budget) once per ``--inits`` value and prints, per fit: the inner signal (the
probe on held-out training trials) and its ceiling, the same probe trained on the samples and on
the real training windows scored on the test fold, the row's classifier (``esc-cnn`` for DE grids,
as in ``generators.py``) trained on the samples and scored on the test fold and on the training
windows, and the cosine between the synthetic and the real high-minus-low class-mean difference.

It reads the test fold to explain a number already reported; nothing is selected, stopped or
tuned on it.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    from sklearn.metrics import balanced_accuracy_score

    from bench.context import context
    from bench.registry import CLASSIFIERS, METHODS
    from bench.seeding import torch_threads
    from bench.study import build_study
    from benchmarks.generators import CLASSIFIER, reader_size
    from methods.gan.monitor import Probe

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method")
    parser.add_argument("--rep", default="de-grid")
    parser.add_argument("--fold", type=int, default=3)
    parser.add_argument("--split-seed", type=int, default=0, help="the root seed whose splits the cell used")
    parser.add_argument("--inits", default="0,1", help="generator and classifier initialisations, one fit each")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    config = build_study(sets=reader_size(), cli={"methods": [args.method]})
    ctx = context(config, "synthetic")
    y, info = ctx.labels("valence")
    split = ctx.folds("valence", "trial-kfold", args.split_seed)[args.fold]
    x_train, y_train = ctx.views.real(args.rep, split.train), y[split.train]
    x_test, y_test = ctx.views.real(args.rep, split.test), y[split.test]
    cls, clf_cls = METHODS.get(args.method), CLASSIFIERS.get(CLASSIFIER[args.rep])
    real_diff = x_train[y_train == 1].mean(0) - x_train[y_train == 0].mean(0)
    probe_real = Probe(x_train, y_train, x_test, y_test, args.rep, info.sfreq, info.n_classes).real_score
    print(f"{args.method} on {args.rep}, fold {args.fold} of split seed {args.split_seed}: the probe trained on real "
          f"training windows scores {probe_real:.3f} on the test fold")
    for init in (int(s) for s in args.inits.split(",")):
        with torch_threads(args.threads):
            config_m = cls.Config.for_profile("quick", {"representation": args.rep, "fit_budget_s": 0.0})
            method = cls.from_config(config_m, info=info).fit(
                x_train, y_train, rng=np.random.default_rng(init), groups=ctx.groups.trial_id[split.train])
            counts = np.bincount(y_train, minlength=info.n_classes)
            x_syn, y_syn = method.sample({c: int(n) for c, n in enumerate(counts)}, rng=np.random.default_rng(100 + init))
            clf = clf_cls.from_config(clf_cls.Config.for_profile("quick"), info=info).fit(
                x_syn, y_syn, rng=np.random.default_rng(init))
        report = method.fit_report_
        probe_syn = Probe(x_syn, y_syn, x_test, y_test, args.rep, info.sfreq, info.n_classes).real_score
        syn_diff = x_syn[y_syn == 1].mean(0) - x_syn[y_syn == 0].mean(0)
        cosine = float((real_diff * syn_diff).sum() / np.sqrt((real_diff**2).sum() * (syn_diff**2).sum()))
        print(f"  init {init}: stopped by {report.stop_reason} after {report.epochs} epochs; inner signal "
              f"{report.signal:.3f} (ceiling {report.signal_real:.3f}); probe on samples -> test {probe_syn:.3f}; "
              f"{CLASSIFIER[args.rep]} on samples -> test {balanced_accuracy_score(y_test, clf.predict(x_test)):.3f}, "
              f"-> training windows {balanced_accuracy_score(y_train, clf.predict(x_train)):.3f}; cosine of the "
              f"class-mean differences {cosine:.3f}")


if __name__ == "__main__":
    main()
