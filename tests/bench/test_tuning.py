"""bench tune on a tiny synthetic study: no test fold is touched, search spaces, pruning, workers, resume, best.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from bench import tuning
from bench.cli import main
from bench.errors import BenchError, ConfigError
from bench.integrity import HOST
from bench.registry import CLASSIFIERS, METHODS
from bench.context import context
from bench.runner import run_study
from bench.study import build_study
from bench.tracking import Tracker
from bench.tuning import TuneConfig, inner_splits, load_space, suggest_overrides, tune
from tests.bench.spies import SEEN, SpyClassifier, SpyMethod, row_hashes

REPO = Path(__file__).resolve().parents[2]
TINY = ("dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4")


def tune_config(tmp_path, **changes) -> TuneConfig:
    settings = {"method": "noise", "classifier": "svm", "folds": 2, "inner_folds": 2, "trials": 2,
                "storage": f"sqlite:///{tmp_path}/optuna.db", "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
                "out": str(tmp_path / "best.yaml"), **changes}
    sets = settings.pop("sets", TINY)
    return TuneConfig.from_options(settings, sets)


def _runs(config, kind):
    tracker = Tracker(config.study.resolved_tracking_uri, config.study.experiment)
    return tracker.client.search_runs([tracker.experiment_id], f"tags.`bench.kind` = '{kind}'")


def test_tuning_never_touches_an_outer_test_fold(tmp_path):
    SEEN.clear()
    with METHODS.temporarily("spy", SpyMethod), CLASSIFIERS.temporarily("spy", SpyClassifier):
        config = tune_config(tmp_path, method="spy", classifier="spy", folds=3, outer_folds_used=2)
        tune(config)
        ctx = context(config.study, "synthetic")
        pairs = inner_splits(config, ctx)
    index = {h: i for i, h in enumerate(row_hashes(ctx.views.real("raw")))}
    trial = ctx.prepared.segments.trial_id
    assert len(pairs) == 2
    for outer, split in pairs:  # validation windows are inside the outer training fold, apart from the inner training
        assert set(split.train) | set(split.test) <= set(outer.train)
        assert not set(trial[split.train]) & set(trial[split.test])
    assert {kind for kind, _ in SEEN} == {"method.fit", "classifier.fit", "classifier.predict"}
    for kind, hashes in SEEN:
        rows = np.sort([index[h] for h in hashes])
        side = "test" if kind == "classifier.predict" else "train"
        # Every fit saw exactly an inner training split, every prediction exactly a validation split...
        matches = [outer for outer, split in pairs if np.array_equal(rows, getattr(split, side))]
        assert len(matches) == 1, kind
        # ...so nothing of that outer fold's test windows, nor of its test trials.
        assert not set(rows) & set(matches[0].test)
        assert not set(trial[rows]) & set(trial[matches[0].test])


def _trial():
    return optuna.create_study().ask()


def test_parameters_are_prefixed_and_set_fixes_one(tmp_path):
    config = tune_config(tmp_path, method="smote", sets=TINY + ("method.smote.k_neighbors=2",))
    trial = _trial()
    overrides = suggest_overrides(trial, config, {})
    assert set(trial.params) == {"classifier.C", "classifier.gamma"}  # k_neighbors is fixed, not searched
    assert overrides["method"] == {}
    assert tuning.with_overrides(config, overrides).method_config("smote").k_neighbors == 2
    free = suggest_overrides(trial2 := _trial(), tune_config(tmp_path, method="smote"), {})
    assert set(trial2.params) == {"method.k_neighbors", "classifier.C", "classifier.gamma"}
    assert free["method"]["k_neighbors"] == trial2.params["method.k_neighbors"]


def test_a_fixed_parameter_is_applied_in_every_trial_and_in_best_yaml(tmp_path):
    config = tune_config(tmp_path, method="smote", sets=TINY + ("method.smote.k_neighbors=2",))
    result = tune(config)
    study = optuna.load_study(study_name=config.study_name, storage=config.storage)
    assert all(set(t.params) == {"classifier.C", "classifier.gamma"} for t in study.trials)
    best = build_study(result.out)
    assert best.method["smote"] == {"k_neighbors": 2}
    assert set(best.classifier["svm"]) == {"C", "gamma"}


def test_a_space_file_replaces_and_adds_distributions(tmp_path):
    space_file = tmp_path / "space.yaml"
    space_file.write_text("method:\n  k_neighbors: {type: int, low: 1, high: 3}\n"
                          "classifier:\n  kernel: {type: categorical, choices: [rbf, linear]}\n"
                          "  C: {type: float, low: 0.5, high: 2.0, log: true}\n")
    config = tune_config(tmp_path, method="smote", space=str(space_file))
    space = load_space(space_file, config)
    trial = _trial()
    overrides = suggest_overrides(trial, config, space)
    assert set(trial.params) == {"method.k_neighbors", "classifier.C", "classifier.gamma", "classifier.kernel"}
    assert 1 <= overrides["method"]["k_neighbors"] <= 3
    assert 0.5 <= overrides["classifier"]["C"] <= 2.0
    assert overrides["classifier"]["kernel"] in ("rbf", "linear")


@pytest.mark.parametrize("text, expected", [
    ("method:\n  k: {type: int, low: 1, high: 3}\n", "method.k: smote has no field 'k'; its fields are k_neighbors"),
    ("model:\n  C: {type: float, low: 1, high: 2}\n", "unknown section 'model'"),
    ("classifier:\n  C: {type: real, low: 1, high: 2}\n", "classifier.C: type must be one of"),
    ("classifier:\n  C: {type: float, low: 2, high: 1}\n", "classifier.C: `low <= high` must hold"),
    ("classifier:\n  C: {type: float, low: 0, high: 1, log: true}\n", "`low > 0` must hold for `log=True`"),
    ("classifier:\n  kernel: {type: categorical}\n", "classifier.kernel: The `choices` must contain one or more elements"),
    ("classifier:\n  C: {type: float, lo: 1, high: 2}\n", "classifier.C: unknown key 'lo'"),
    ("method:\n  k_neighbors: {type: int, low: 0, high: 3}\n", "smote rejects the value 0"),
    ("method:\n  k_neighbors: {type: float, low: 1, high: 4}\n", "smote rejects the value 2.5"),
])
def test_bad_space_files_are_rejected_naming_file_and_key(tmp_path, text, expected):
    space_file = tmp_path / "space.yaml"
    space_file.write_text(text)
    with pytest.raises(ConfigError, match="search space") as err:
        load_space(space_file, tune_config(tmp_path, method="smote"))
    assert str(space_file) in str(err.value) and expected in str(err.value)


def test_a_space_file_may_not_search_a_field_fixed_with_set(tmp_path):
    space_file = tmp_path / "space.yaml"
    space_file.write_text("method:\n  k_neighbors: {type: int, low: 1, high: 3}\n")
    config = tune_config(tmp_path, method="smote", sets=TINY + ("method.smote.k_neighbors=2",))
    with pytest.raises(ConfigError, match="fixed by --set method.smote.k_neighbors"):
        load_space(space_file, config)


class PruneAtSecondStep(optuna.pruners.BasePruner):
    """Prunes every trial once it has reported a value at step 1."""

    def prune(self, study, trial):
        return max(trial.intermediate_values, default=-1) >= 1


def test_torch_classifiers_report_every_epoch_and_get_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(tuning, "_pruner", lambda name: PruneAtSecondStep())
    tiny_cnn = tuple(f"classifier.esc-cnn.{k}" for k in ("hid_channels=2", "mlp_hidden=8", "epochs=3", "batch_size=16"))
    config = tune_config(tmp_path, method="none", classifier="esc-cnn", sets=TINY + tiny_cnn, threads=1)
    with pytest.raises(BenchError, match="no trial .* completed"):
        tune(config)
    study = optuna.load_study(study_name=config.study_name, storage=config.storage)
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
    # One value per epoch (steps 0 and 1 of the first outer fold's 3 epochs), then pruned.
    assert all(sorted(t.intermediate_values) == [0, 1] for t in study.trials)
    runs = _runs(config, "tune-trial")
    assert sorted(r.data.tags["bench.trial_state"] for r in runs) == ["PRUNED", "PRUNED"]
    assert all(r.info.status == "KILLED" for r in runs)


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_two_worker_processes_share_one_study(tmp_path):
    config = tune_config(tmp_path, study="shared")
    # The data cache and both databases exist before the workers start (as with a PostgreSQL database and an
    # MLflow server): two processes creating one SQLite schema at the same moment would race.
    context(config.study, "synthetic")
    optuna.storages.RDBStorage(config.storage)
    Tracker(config.study.resolved_tracking_uri, config.study.experiment)
    args = [sys.executable, "-m", "bench", "tune", "--method", "noise", "--classifier", "svm", "--folds", "2",
            "--inner-folds", "2", "--trials", "2", "--storage", config.storage, "--study", "shared",
            "--tracking-uri", config.study.resolved_tracking_uri, "-q"]
    args += [a for s in TINY for a in ("--set", s)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    workers = [subprocess.Popen(args + ["--out", str(tmp_path / f"best-{i}.yaml")], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = optuna.load_study(study_name="shared", storage=config.storage)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    parents = _runs(config, "tune")
    trials = _runs(config, "tune-trial")
    assert len(parents) == 1 and parents[0].info.run_name == "tune/shared"
    assert sorted(int(r.data.tags["bench.optuna_trial"]) for r in trials) == [0, 1, 2, 3]
    assert {r.data.tags["mlflow.parentRunId"] for r in trials} == {parents[0].info.run_id}


def test_running_again_resumes_the_study_and_other_settings_are_refused(tmp_path):
    config = tune_config(tmp_path, trials=1)
    first = tune(config)
    second = tune(config)
    assert first.states == {"COMPLETE": 1} and second.states == {"COMPLETE": 2}
    assert second.parent_run_id == first.parent_run_id
    assert len(_runs(config, "tune")) == 1 and len(_runs(config, "tune-trial")) == 2
    trial_run = _runs(config, "tune-trial")[0]
    assert "balanced_accuracy" in trial_run.data.metrics and "classifier.C" in trial_run.data.params
    with pytest.raises(ConfigError, match="other settings .*inner_folds.*--study NEW_NAME"):
        tune(tune_config(tmp_path, trials=1, inner_folds=3))


def test_the_parent_run_of_a_killed_tune_process_is_marked_killed_by_the_next_one(tmp_path):
    config = tune_config(tmp_path, trials=1, study="first")
    parent = tune(config).parent_run_id
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tracker = Tracker(config.study.resolved_tracking_uri, config.study.experiment)
    tracker.client.set_tag(parent, "bench.writer", f"{HOST}:{dead.pid}")  # killed while tuning
    tracker.client.update_run(parent, status="RUNNING")
    tune(tune_config(tmp_path, trials=1, study="second"))  # another study of the experiment
    assert tracker.client.get_run(parent).info.status == "KILLED"
    assert tune(config).parent_run_id == parent  # resumed: this process writes it, and it finishes
    run = tracker.client.get_run(parent)
    assert run.info.status == "FINISHED" and run.data.tags["bench.writer"] == f"{HOST}:{os.getpid()}"


def test_best_yaml_runs_with_bench_run_and_records_where_it_came_from(tmp_path):
    config = tune_config(tmp_path)
    result = tune(config)
    assert f"runs?workflowType=machine_learning&orderByKey=metrics.%60best_{config.metric}%60" in result.tracking_hint
    best = build_study(result.out, cli={"out": str(tmp_path / "run"), "experiment": "from-tune"})
    assert best.tuned_from == f"sqlite:///{tmp_path}/optuna.db#{config.study_name}#trial-{result.best_trial}"
    assert best.methods == ("noise",) and best.classifiers == ("svm",) and best.folds == 2
    assert best.method["noise"]["sigma"] == pytest.approx(result.best_params["method.sigma"])
    run = run_study(best)
    assert run.failed == 0
    assert f"tuned_from: {best.tuned_from}" in (tmp_path / "run" / "study.yaml").read_text()
    tracker = Tracker(best.resolved_tracking_uri, "from-tune")
    parents = tracker.client.search_runs([tracker.experiment_id], "tags.`bench.group` != ''")
    assert {r.data.tags["bench.tuned_from"] for r in parents} == {best.tuned_from}


def test_storage_must_not_be_the_tracking_store(tmp_path, capsys):
    with pytest.raises(ConfigError, match="cannot share one database"):
        tune_config(tmp_path, storage=f"sqlite:///{tmp_path}/mlflow.db")
    code = main(["tune", "--method", "noise", "--classifier", "svm", "--storage", f"sqlite:///{tmp_path}/x.db",
                 "--tracking-uri", f"sqlite:///{tmp_path}/../{tmp_path.name}/x.db"])
    assert code == 2 and "cannot share one database" in capsys.readouterr().err


def test_bad_settings_are_refused_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="metric 'f1' .* balanced_accuracy"):
        tune_config(tmp_path, metric="f1")
    with pytest.raises(ConfigError, match="outer_folds_used must be between 1 and folds=2"):
        tune_config(tmp_path, outer_folds_used=3)
    with pytest.raises(BenchError, match="no-such-method"):
        tune_config(tmp_path, method="no-such-method")
