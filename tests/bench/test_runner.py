"""The runner on a tiny synthetic study: leakage, not-applicable pairs, failures, resume and parallel runs."""

from __future__ import annotations

import numpy as np
import pytest

from bench.cell import Cell
from bench.components import Method
from bench.config import ComponentConfig
from bench.context import context
from bench.errors import MethodError
from bench.executor import units as make_units
from bench.registry import CLASSIFIERS, METHODS
from bench.runner import plan, run_study
from bench.study import build_study
from methods.noise import GaussianNoise
from reports.leaderboard import format_leaderboard
from tests.bench.spies import SEEN, SpyClassifier, SpyMethod, row_hashes, seen

TINY = ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4"]


def study(tmp_path, *sets, **cli):
    cli = {"methods": ["none", "smote"], "classifiers": ["svm"], "folds": 2, "seeds": [0], "jobs": 1,
           "out": str(tmp_path / "out"), "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db", **cli}
    return build_study(None, TINY + list(sets), cli)


@pytest.mark.parametrize("protocol", ["trial-kfold", "subject-kfold", "loso", "within-subject"])
def test_no_test_window_or_trial_reaches_any_fit(tmp_path, protocol):
    SEEN.clear()
    with METHODS.temporarily("spy", SpyMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["spy"], classifiers=["spy"], protocols=[protocol])
        result = run_study(config)
        assert (result.table["status"] == "ok").all()
        ctx = context(config, "synthetic")
        index = {h: i for i, h in enumerate(row_hashes(ctx.views.real("raw")))}
        trial = ctx.prepared.segments.trial_id
        subject = ctx.prepared.segments.subject
        folds = ctx.folds("valence", protocol, 0)
        assert len(seen("method.fit")) == len(folds) == len(seen("classifier.fit"))
        for fold, seen_m, seen_c in zip(folds, seen("method.fit"), seen("classifier.fit")):
            for hashes in (seen_m, seen_c):
                rows = np.array([index[h] for h in hashes])
                # The spy saw exactly the training fold: the check is not vacuous...
                assert np.array_equal(np.sort(rows), np.sort(fold.train))
                # ...and nothing of the test fold, not even another window of a test trial.
                assert not set(rows) & set(fold.test)
                assert not set(trial[rows]) & set(trial[fold.test])
                if protocol in ("subject-kfold", "loso"):
                    assert not set(subject[rows]) & set(subject[fold.test])


def test_a_generators_inner_validation_split_and_probe_see_training_trials_only(tmp_path, monkeypatch):
    """The stopping signal is measured without the test fold: the generator trains on part of the
    training fold's trials, its probe is scored on the other part, and neither holds a test window.
    A changed algorithm is named in every row (``escgan[filter=none]``)."""
    import methods.gan.conditional as conditional
    from bench.tracking import Tracker

    probes = []
    original = conditional.Probe.__init__

    def spy(self, x_fit, y_fit, x_val, y_val, *args):
        probes.append((row_hashes(x_fit), row_hashes(x_val)))
        original(self, x_fit, y_fit, x_val, y_val, *args)

    monkeypatch.setattr(conditional.Probe, "__init__", spy)
    config = study(tmp_path, "method.cgan.epochs=2", "method.cgan.width=4", "method.cgan.latent_dim=8",
                   "method.escgan.epochs=1", "method.escgan.hid_channels=2", "method.escgan.mlp_hidden=8",
                   "method.escgan.filter=none", "classifier.esc-cnn.epochs=1", methods=["cgan", "escgan"],
                   classifiers=["esc-cnn"], quality=False)
    result = run_study(config)
    ctx = context(config, "synthetic")
    index = {h: i for i, h in enumerate(row_hashes(ctx.views.real("de-grid")))}
    trial = ctx.prepared.segments.trial_id
    folds = ctx.folds("valence", "trial-kfold", 0)
    assert len(probes) == 2 * len(folds)  # cgan's folds, then escgan's
    for fold, (fit_hashes, val_hashes) in zip(folds * 2, probes):
        fit, val = (np.array([index[h] for h in hashes]) for hashes in (fit_hashes, val_hashes))
        assert np.array_equal(np.sort(np.concatenate([fit, val])), np.sort(fold.train))  # the training fold, split
        assert len(val) and not set(trial[fit]) & set(trial[val])  # by whole trials
    table = result.table
    assert set(table["method"]) == {"cgan", "escgan[filter=none]"}
    cgan = table[table["method"] == "cgan"]
    assert (cgan["fit_stop"] == "epochs").all() and (cgan["method.fit.epochs"] == 2).all()
    assert cgan["method.fit.signal"].between(0, 1).all() and (table["profile"] == "quick").all()
    printed = format_leaderboard(result.summary)
    assert "escgan[filter=none]" in printed and "(profile quick)" in printed
    tracker = Tracker(config.resolved_tracking_uri, config.experiment)
    run = next(r for r in tracker._runs("tags.`bench.fit_stop` = 'epochs'") if r.data.params["method"] == "cgan")
    history = tracker.client.get_metric_history(run.info.run_id, "fit.signal")
    assert [m.step for m in history] == [1, 2]


def test_paper_protocol_is_flagged_leaky_in_the_results(tmp_path):
    result = run_study(study(tmp_path, protocols=["paper-escgan"], methods=["none"]))
    assert result.table["leaky"].all()
    assert result.summary["leaky"].all()


class DeMethod(SpyMethod):
    """Pretends to generate DE windows."""

    representation = "de"


def test_incompatible_pairs_are_recorded_as_not_applicable_with_the_reason(tmp_path):
    with METHODS.temporarily("de-only", DeMethod):
        result = run_study(study(tmp_path, methods=["de-only"], classifiers=["eegnet"]))
    assert set(result.table["status"]) == {"not-applicable"}
    assert result.table["reason"].str.contains("cannot feed a raw classifier: DE cannot become a waveform").all()
    assert result.summary.loc[0, "status"] == "not-applicable"


class GridCopyMethod(Method):
    """Returns copies of its training grids (a grid generator that has learnt them by heart)."""

    Config = ComponentConfig

    def fit(self, X, y, *, rng):
        self.X_, self.y_ = X, y
        return self

    def _sample(self, counts, rng):
        index = np.concatenate([np.flatnonzero(self.y_ == c)[:n] for c, n in counts.items()]).astype(int)
        return self.X_[index], self.y_[index]


class RawGridCopy(GridCopyMethod):
    representation = "raw-grid"


class DeGridCopy(GridCopyMethod):
    representation = "de-grid"


def test_grid_generators_feed_the_de_classifiers(tmp_path):
    with METHODS.temporarily("raw-grid", RawGridCopy), METHODS.temporarily("de-grid", DeGridCopy):
        result = run_study(study(tmp_path, "quality=false", methods=["raw-grid", "de-grid"], classifiers=["svm"]))
    assert (result.table["status"] == "ok").all() and (result.table["n_synthetic"] > 0).all() and len(result.table) == 4


def test_raw_grid_frames_reach_a_raw_classifier_as_their_electrodes_exact_windows(tmp_path):
    SEEN.clear()
    with METHODS.temporarily("grid", RawGridCopy), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, "quality=false", methods=["grid"], classifiers=["spy"])
        result = run_study(config)
        ctx = context(config, "synthetic")
        train = ctx.views.real("raw", ctx.folds("valence", "trial-kfold", 0)[0].train)
    assert (result.table["n_synthetic"] > 0).all()
    fitted, known = seen("classifier.fit")[0], set(row_hashes(train))
    assert set(fitted) == known and len(fitted) > len(known)  # the synthetic windows are training windows again


def test_not_applicable_cells_are_listed_on_their_parent_run_in_mlflow(tmp_path):
    from bench.tracking import Tracker, read_results

    with METHODS.temporarily("de-only", DeMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["none", "de-only"], classifiers=["spy"])
        result = run_study(config)
        again = run_study(config)  # a rerun finds the n/a cells recorded: nothing computed, nothing logged twice
    table = result.table[result.table["method"] == "de-only"]
    assert set(table["status"]) == {"not-applicable"}
    assert table["reason"].str.contains("cannot feed a raw classifier").all()
    assert result.summary.set_index("method").loc["de-only", "status"] == "not-applicable"
    # in MLflow: a parent per pair, named method · classifier; n/a cells listed on it, with no run of their own
    tracker = Tracker(config.resolved_tracking_uri, config.experiment)
    runs = tracker._runs("")
    parents = {r.info.run_name: r for r in runs if "bench.group" in r.data.tags}
    assert set(parents) == {"none · spy", "de-only · spy"}
    na = parents["de-only · spy"]
    assert na.data.params["protocol"] == "trial-kfold" and na.data.params["dataset"] == "synthetic"
    assert len(na.data.params) == 8 and na.data.tags["bench.status"] == "not-applicable"
    assert na.data.tags["bench.na_cells"].startswith("fold-0/seed-0, fold-1/seed-0: ")
    assert "cannot feed a raw classifier" in na.data.tags["bench.na_cells"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == na.info.run_id]
    assert not children and "balanced_accuracy_mean" in parents["none · spy"].data.metrics
    logged, hint = read_results(config.resolved_tracking_uri, config.experiment)
    assert logged.set_index("cell_key").loc[table["cell_key"], "status"].eq("not-applicable").all() and len(logged) == 4
    assert "workflowType=machine_learning" in hint
    assert tracker.client.get_experiment(tracker.experiment_id).tags["mlflow.experimentKind"] == "custom_model_development"
    assert again.computed == 0 and len([r for r in runs if "bench.cell" in r.data.tags]) == 2  # none's two folds


class FailingMethod(SpyMethod):
    """Fails on the second fold."""

    calls = 0

    def fit(self, X, y, *, rng):
        FailingMethod.calls += 1
        if FailingMethod.calls == 2:
            raise MethodError("boom on purpose")
        return super().fit(X, y, rng=rng)


def test_a_failed_cell_is_reported_and_retried_on_the_next_run(tmp_path):
    FailingMethod.calls = 0
    with METHODS.temporarily("flaky", FailingMethod):
        config = study(tmp_path, methods=["flaky"], classifiers=["svm"])
        first = run_study(config)
        assert first.failed == 1 and first.computed == 2
        assert "boom on purpose" in " ".join(first.table["reason"])
        second = run_study(config)
    assert second.computed == 1 and second.skipped == 1 and second.failed == 0


class InterruptingMethod(SpyMethod):
    """Simulates Ctrl-C during the third cell."""

    calls = 0

    def fit(self, X, y, *, rng):
        InterruptingMethod.calls += 1
        if InterruptingMethod.calls == 3:
            raise KeyboardInterrupt
        return super().fit(X, y, rng=rng)


def test_an_interrupted_run_loses_only_the_running_cell(tmp_path):
    InterruptingMethod.calls = 0
    with METHODS.temporarily("interrupting", InterruptingMethod):
        config = study(tmp_path, methods=["interrupting"], classifiers=["svm"], protocols=["loso"])  # 4 cells
        with pytest.raises(KeyboardInterrupt):
            run_study(config)
        again = run_study(config)
    assert again.skipped == 2 and again.computed == 2


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_parallel_jobs_give_the_same_results_as_one(tmp_path):
    # Two workers take (method, fold) units; smote's generation quality needs the fold's `none`
    # classifier, which the other worker may have trained: it is shared, or retrained alike.
    sets = ["classifier.esc-cnn.epochs=2"]
    one = run_study(study(tmp_path / "a", *sets, classifiers=["svm", "esc-cnn"], jobs=1, threads=1))
    two = run_study(study(tmp_path / "b", *sets, classifiers=["svm", "esc-cnn"], jobs=2, threads=1))
    cols = ["method", "classifier", "fold", "balanced_accuracy", "accuracy", "auroc", "n_synthetic",
            "quality.frechet", "quality.tstr_balanced_accuracy"]
    assert one.table[cols].equals(two.table[cols])
    assert (one.table["status"] == "ok").all()
    assert one.table.loc[one.table["classifier"] == "esc-cnn", "quality.frechet"].notna().sum() == 2  # smote's folds


def test_a_worker_takes_a_methods_fold_whole_and_none_comes_first():
    cells = [(Cell("d", "t", "p", 0, fold, f"f{fold}", method, clf), (f"{method}{fold}{clf}", "g"))
             for method in ("smote", "none") for fold in (0, 1) for clf in ("svm", "esc-cnn")]
    units = make_units(cells)
    assert [[c.classifier for c, _ in unit.cells] for unit in units] == [["svm", "esc-cnn"]] * 4
    assert [(u.cells[0][0].method, u.cells[0][0].fold) for u in units] == [("smote", 0), ("smote", 1), ("none", 0),
                                                                          ("none", 1)]
    planned, _ = plan(build_study(None, TINY, {"methods": ["smote", "none"], "folds": 2, "seeds": [0]}))
    assert [c.method for c in planned] == ["none"] * 4 + ["smote"] * 4  # 2 folds x 2 classifiers


class SpyPaperMethod(SpyMethod):
    """Has a paper recipe that records what it trains the classifier on."""

    paper_recipe = True

    def paper_incompatibility(self, classifier):
        return None if classifier.name == "spy" else "spy recipe needs the spy classifier"

    def train_paper(self, classifier, X, y, *, rng):
        SEEN.append(("method.train_paper", row_hashes(X)))
        classifier.fit(X, y, rng=rng)
        self.stats_ = {"acceptance": 0.5}


def test_paper_recipe_trains_on_the_training_fold_only_and_is_recorded_per_row(tmp_path):
    SEEN.clear()
    with METHODS.temporarily("spy", SpyPaperMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["none", "spy"], classifiers=["spy", "svm"], recipe="paper")
        result = run_study(config)
        ctx = context(config, "synthetic")
        index = {h: i for i, h in enumerate(row_hashes(ctx.views.real("raw")))}
        folds = ctx.folds("valence", "trial-kfold", 0)
    table = result.table.set_index(["method", "classifier", "fold"])
    assert (table.loc["spy", "spy"]["recipe"] == "paper").all() and (table.loc["spy", "spy"]["status"] == "ok").all()
    assert (table.loc["spy", "spy"]["method.acceptance"] == 0.5).all()
    assert (table.loc["none"]["recipe"] == "default").all() and (table.loc["none"]["status"] == "ok").all()
    assert (table.loc["spy", "svm"]["status"] == "not-applicable").all()
    assert table.loc["spy", "svm"]["reason"].str.contains("needs the spy classifier").all()
    # fit saw the training fold, train_paper the same windows; never a test window.
    recipe_calls = seen("method.train_paper")
    assert len(recipe_calls) == len(folds)
    for fold, hashes in zip(folds, recipe_calls):
        assert np.array_equal(np.sort([index[h] for h in hashes]), np.sort(fold.train))
    assert "spy+paper" in format_leaderboard(result.summary)


def test_the_classifiers_of_one_fold_share_one_method_fit(tmp_path):
    SEEN.clear()
    with METHODS.temporarily("spy", SpyMethod), CLASSIFIERS.temporarily("spy", SpyClassifier), \
            CLASSIFIERS.temporarily("spy-too", SpyClassifier):
        result = run_study(study(tmp_path, methods=["spy"], classifiers=["spy", "spy-too"]))
    assert (result.table["status"] == "ok").all() and len(result.table) == 4
    assert len(seen("method.fit")) == 2 and len(seen("classifier.fit")) == 4
    times = result.table.groupby("fold")["fit_s"].nunique()
    assert (times == 1).all()  # both rows of a fold report the one fit's time


class SpyTrialMethod(SpyMethod):
    """Needs trials; records the trial ids it is given."""

    needs_trials = True
    trials_seen: list = []

    def fit(self, X, y, *, rng, trials=None):
        SpyTrialMethod.trials_seen.append(trials)
        return super().fit(X, y, rng=rng)


def test_a_method_that_needs_trials_gets_those_of_its_training_windows_only(tmp_path):
    SEEN.clear()
    SpyTrialMethod.trials_seen = []
    with METHODS.temporarily("spy", SpyTrialMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["spy"], classifiers=["spy"])
        run_study(config)
        ctx = context(config, "synthetic")
        folds = ctx.folds("valence", "trial-kfold", 0)
    assert len(SpyTrialMethod.trials_seen) == len(folds)
    for fold, (trial_id, position) in zip(folds, SpyTrialMethod.trials_seen):
        assert np.array_equal(trial_id, ctx.groups.trial_id[fold.train])
        assert np.array_equal(position, ctx.groups.position[fold.train])
        assert not set(trial_id) & set(ctx.groups.trial_id[fold.test])


def test_a_method_that_joins_windows_is_not_applicable_when_windows_overlap(tmp_path):
    with METHODS.temporarily("spy", SpyTrialMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        result = run_study(study(tmp_path, "segment.stride_s=0.5", methods=["spy"], classifiers=["spy"]))
    assert set(result.table["status"]) == {"not-applicable"}
    assert result.table["reason"].str.contains("windows must not overlap").all()


def test_quality_columns_profiles_and_mlflow_metrics_for_augmenting_methods(tmp_path):
    from bench.tracking import read_results
    from reports.spectra import load_quality

    config = study(tmp_path, "classifier.esc-cnn.epochs=2", methods=["none", "noise"], classifiers=["svm", "esc-cnn"])
    table = run_study(config).table
    noise, none = table[table["method"] == "noise"], table[table["method"] == "none"]
    for metric in ("psd_distance", "mmd", "frechet", "tstr_balanced_accuracy", "memorisation_ratio"):
        assert f"quality.{metric}" in table and none[f"quality.{metric}"].isna().all()
    assert noise["quality.mmd"].notna().all() and noise["quality.memorisation_ratio"].gt(0).all()
    assert noise["quality.tstr_balanced_accuracy"].between(0, 1).all()
    assert noise.loc[noise["classifier"] == "svm", "quality.psd_distance"].isna().all()  # the svm's noise is DE
    assert noise.loc[noise["classifier"] == "svm", "quality.frechet"].isna().all()  # no penultimate layer
    assert (noise.loc[noise["classifier"] == "esc-cnn", "quality.frechet"] >= 0).all()
    maps = load_quality(config.out)
    assert [m.method for m in maps] == ["noise"] and maps[0].n_files == 2 * 2  # two folds x two representations
    logged, _ = read_results(config.resolved_tracking_uri, config.experiment)
    assert np.allclose(np.sort(logged["quality.mmd"].dropna()), np.sort(noise["quality.mmd"]))
    assert not study(tmp_path, quality=False).quality


def test_quality_metrics_train_their_classifiers_on_training_and_synthetic_windows_only(tmp_path):
    """The fold's reference classifier (Frechet features) and the train-on-synthetic classifier
    never see a test window: every dataset window any classifier fit gets is a training window."""
    SEEN.clear()
    with CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["noise"], classifiers=["spy"])
        result = run_study(config)
        assert result.table["quality.tstr_balanced_accuracy"].notna().all()
        ctx = context(config, "synthetic")
        index = {h: i for i, h in enumerate(row_hashes(ctx.views.real("raw")))}
        folds = ctx.folds("valence", "trial-kfold", 0)
        fits = seen("classifier.fit")
        assert len(fits) == 3 * len(folds)  # per fold: the cell's, the reference, train-on-synthetic
        for i, fold in enumerate(folds):
            real = [{index[h] for h in hashes if h in index} for hashes in fits[3 * i : 3 * i + 3]]
            assert real[0] == real[1] == set(fold.train) and not real[2]  # TSTR: synthetic windows only


class ShortNoise(GaussianNoise):
    """Gaussian noise that reports one window fewer than asked for, as a filtering generator would."""

    def _sample(self, counts, rng):
        x, y = super()._sample(counts, rng)
        self.stats_ = {"asked": float(len(y)), "kept": float(len(y) - 1)}
        return x, y


def test_the_quality_gate_reaches_the_table_the_leaderboard_and_the_mlflow_parent_runs(tmp_path):
    from bench.tracking import Tracker

    with METHODS.temporarily("short", ShortNoise), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = study(tmp_path, methods=["none", "short"], classifiers=["spy"], policy="ratio=0.5")
        result = run_study(config)
    table = result.table.set_index(["method", "fold"])
    short, none = table.loc["short"], table.loc["none"]
    # the real-data score is the fold's no-augmentation classifier's: the `none` cell's, on the same test fold
    assert np.array_equal(short["quality.real_balanced_accuracy"], none["balanced_accuracy"])
    assert np.allclose(short["quality.tstr_ratio"],
                       short["quality.tstr_balanced_accuracy"] / short["quality.real_balanced_accuracy"])
    assert none["quality.tstr_ratio"].isna().all() and (short["method.kept"] == short["method.asked"] - 1).all()
    summary = result.summary.set_index("method")
    assert summary.loc["none", "gate"] == "" and summary.loc["short", "gate"] == "fail"
    asked = short["method.asked"].iloc[0]
    assert summary.loc["short", "gate_reason"].startswith(f"generator produced {asked - 1:.0f} of {asked:.0f} windows "
                                                          "asked for on 2 of 2 folds")
    assert "FAIL" in format_leaderboard(result.summary) and "windows asked for" in format_leaderboard(result.summary)
    tracker = Tracker(config.resolved_tracking_uri, config.experiment)
    runs = {tracker.client.get_run(i).data.params["method"]: tracker.client.get_run(i).data
            for i in tracker.parent_runs().values()}
    assert runs["short"].tags["bench.gate"] == "fail" and runs["none"].tags["bench.gate"] == ""
    assert runs["short"].tags["bench.gate_reason"] == summary.loc["short", "gate_reason"]
    assert runs["short"].metrics["quality.tstr_ratio_mean"] == pytest.approx(summary.loc["short", "quality.tstr_ratio_mean"])
