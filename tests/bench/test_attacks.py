"""Attacks: the eps ball, the [0, 1] clamping trap, untouched classifiers, binary and multi-class tasks,
every input representation, and the runner's robust columns, MLflow metrics and resume."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from bench.attacks import EpsScale, perturbation
from bench.cli import _parser
from bench.components import DataInfo
from bench.config import from_dict, to_yaml
from bench.errors import ConfigError, UnknownNameError
from bench.registry import ATTACKS, CLASSIFIERS
from bench.robustness import METRICS, key, robustness
from bench.runner import run_study
from bench.seeding import derive, torch_threads
from bench.study import build_study
from bench.testing.contracts import INFO, toy_data

ATTACK_NAMES = ["none", "fgsm", "pgd", "apgd", "deepfool", "cw"]
BOUNDED = ["fgsm", "pgd", "apgd"]
CLASSIFIER_OF = {"de-grid": "esc-cnn", "raw": "eegnet", "raw-grid": "sa-st-net"}
BINARY = DataInfo(sfreq=INFO.sfreq, ch_names=INFO.ch_names, grid=INFO.grid, band_names=INFO.band_names,
                  class_names=("low", "high"))


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny models: one torch thread is fastest, and much faster than two on a busy machine.
    with torch_threads(1):
        yield


def windows(representation: str, n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Toy windows in EEG-like units (tens, far outside [0, 1]) with one constant feature (a cell outside the hull)."""
    X, y = toy_data(representation, counts=(20 if representation == "de-grid" else 8,) * n_classes)
    X = 20.0 * X + 5.0
    X.reshape(len(X), -1)[:, -1] = 0.0
    return X, y


@functools.cache
def trained(representation: str, n_classes: int = 3):
    X, y = windows(representation, n_classes)
    cls = CLASSIFIERS.get(CLASSIFIER_OF[representation])
    epochs = 15 if representation == "de-grid" else 2
    config = from_dict(cls.Config, {**vars(cls.Config.tiny()), "epochs": epochs})
    clf = cls.from_config(config, info=INFO if n_classes == 3 else BINARY).fit(X, y, rng=derive(0, "fit", representation))
    return clf, X, y


def attack(name: str, **changes):
    cls = ATTACKS.get(name)
    return cls(from_dict(cls.Config, {**vars(cls.Config.tiny()), **changes}))


def rng_for(name, eps):
    return derive(0, "attack", name, eps)


# Every attack on de-grid; the raw representations (slower classifiers) with one bounded and one minimum-norm attack.
ON_GRID = [("de-grid", name) for name in ATTACK_NAMES] + [(rep, name) for rep in ("raw", "raw-grid") for name in ("pgd", "cw")]


@pytest.mark.parametrize(("representation", "name"), [(r, n) for r, n in ON_GRID if n in BOUNDED])
def test_bounded_attacks_stay_in_the_linf_ball_and_leave_constant_features_alone(name, representation):
    clf, X, y = trained(representation)
    scale = EpsScale.from_training(X)
    radius = scale.radius(0.3)
    delta = perturbation(attack(name), clf.module_, X, y, scale, 0.3, derive(0, name))
    assert delta.shape == X.shape and delta.dtype == np.float32
    assert np.abs(delta).max() <= radius
    assert np.abs(delta).max() >= 0.99 * radius  # the attack used its budget: the check is not vacuous
    assert not delta.reshape(len(X), -1)[:, -1].any()  # constant over the training windows: no budget
    assert (clf.predict(X + delta) != y).sum() >= (clf.predict(X) != y).sum()


def test_eps_is_in_training_standard_deviations_of_the_varying_features():
    X, _ = windows("raw")
    scale = EpsScale.from_training(X)
    std = X.reshape(len(X), -1).std(axis=0, dtype=np.float64)
    assert not scale.varying.reshape(-1)[-1] and scale.varying.reshape(-1)[:-1].all()
    assert scale.unit == pytest.approx(std[:-1].mean(), rel=1e-6)
    assert scale.radius(0.1) == pytest.approx(0.1 * std[:-1].mean(), rel=1e-6)


def test_the_clamping_trap_is_live_on_this_data():
    # Feeding torchattacks the windows as they are clamps them to [0, 1]: predictions change at eps = 0.
    # The next test would catch an implementation that falls into it.
    import torchattacks

    clf, X, y = trained("de-grid")
    naive = torchattacks.FGSM(clf.module_, eps=0.0)(torch.from_numpy(X), torch.from_numpy(y)).numpy()
    assert (clf.predict(naive) != clf.predict(X)).any()


@pytest.mark.parametrize(("representation", "name"), ON_GRID)
def test_eps_zero_leaves_predictions_and_accuracy_unchanged(name, representation):
    clf, X, y = trained(representation)
    if name in ("deepfool", "cw") or representation != "de-grid":  # a dozen windows are enough
        X, y = X[::5], y[::5]
    proba = clf.predict_proba(X)
    robust, reasons = robustness(clf, X, X, y, proba, {name: attack(name)}, [0.0], rng_for)
    assert not reasons
    clean_accuracy = float((proba.argmax(1) == y).mean())
    assert robust[key(name, 0.0, "accuracy")] == clean_accuracy
    assert robust[key(name, 0.0, "success_rate")] == 0.0
    assert robust[key(name, 0.0, "eps_data")] == 0.0
    if name in BOUNDED:
        assert not perturbation(attack(name), clf.module_, X, y, EpsScale.from_training(X), 0.0, derive(1)).any()


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_an_attack_changes_neither_the_classifier_nor_torch_random_state(name):
    clf, X, y = trained("de-grid")
    before = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in clf.module_.parameters()]
    proba = clf.predict_proba(X)
    rng_state = torch.random.get_rng_state()
    perturbation(attack(name, random_start=True) if name == "pgd" else attack(name), clf.module_, X[:12], y[:12],
                 EpsScale.from_training(X), 0.2, derive(0))
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    after = clf.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    for p, g in zip(clf.module_.parameters(), grads):  # no gradient reached the weights
        assert p.requires_grad and (p.grad is None if g is None else torch.equal(p.grad, g))
    assert not clf.module_.training
    assert np.array_equal(clf.predict_proba(X), proba)


def test_random_start_comes_from_the_rng_given():
    clf, X, y = trained("de-grid")
    scale, pgd = EpsScale.from_training(X), attack("pgd", random_start=True, steps=1)
    one = perturbation(pgd, clf.module_, X, y, scale, 0.2, derive(0, "a"))
    assert np.array_equal(one, perturbation(pgd, clf.module_, X, y, scale, 0.2, derive(0, "a")))
    assert not np.array_equal(one, perturbation(pgd, clf.module_, X, y, scale, 0.2, derive(0, "b")))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_binary_and_multiclass_tasks(n_classes):
    clf, X, y = trained("de-grid", n_classes)
    proba = clf.predict_proba(X)
    attacks = {"pgd": attack("pgd"), "apgd": attack("apgd", loss="dlr"), "deepfool": attack("deepfool")}
    robust, reasons = robustness(clf, X, X[::6], y[::6], proba[::6], attacks, [0.0, 0.5, 50.0], rng_for)
    assert set(robust) == {key(a, e, m) for a in attacks for e in (0.0, 0.5, 50.0) for m in METRICS}
    for a in ("pgd", "deepfool"):
        accuracy = [robust[key(a, e, "accuracy")] for e in (0.0, 0.5, 50.0)]
        assert accuracy[0] == float((proba[::6].argmax(1) == y[::6]).mean()) > 0.5
        assert accuracy[0] >= accuracy[1] >= accuracy[2] and accuracy[2] < accuracy[0]
        assert 0 < robust[key(a, 50.0, "success_rate")] <= 1
        assert 0 <= robust[key(a, 0.5, "balanced_accuracy")] <= 1
    if n_classes == 2:  # APGD's DLR loss needs a third class
        assert "needs at least 3 classes" in reasons["apgd"]
        assert all(math.isnan(robust[key("apgd", e, m)]) for e in (0.0, 0.5) for m in METRICS)
    else:
        assert not reasons and robust[key("apgd", 50.0, "accuracy")] < robust[key("apgd", 0.0, "accuracy")]


def test_a_classifier_without_gradients_gets_nan_and_the_reason():
    X, y = toy_data("de")
    svm = CLASSIFIERS.get("svm")
    clf = svm.from_config(svm.Config.tiny(), info=INFO).fit(X, y, rng=derive(0))
    robust, reasons = robustness(clf, X, X, y, clf.predict_proba(X), {"fgsm": attack("fgsm")}, [0.1], rng_for)
    assert all(math.isnan(v) for v in robust.values()) and len(robust) == len(METRICS)
    assert "not differentiable" in reasons["fgsm"]


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_attack_configs_round_trip_and_reject_unknown_keys(name):
    import yaml

    cls = ATTACKS.get(name)
    for config in (cls.Config(), cls.Config.tiny(), cls.Config.for_profile("quick")):
        assert from_dict(cls.Config, yaml.safe_load(to_yaml(config))) == config
    with pytest.raises(ConfigError, match="unknown key 'stepz'"):
        from_dict(cls.Config, {"stepz": 3})
    with pytest.raises(ConfigError, match="batch_size"):
        from_dict(cls.Config, {"batch_size": 0})


def test_pgd_defaults_are_the_reference_preset_and_bad_values_are_rejected():
    pgd = ATTACKS.get("pgd").Config()
    assert (pgd.steps, pgd.step_size, pgd.random_start) == (10, 0.1, False)  # eps 0.01 -> step 0.001
    with pytest.raises(ConfigError, match="step_size"):
        from_dict(ATTACKS.get("pgd").Config, {"step_size": -1})
    with pytest.raises(ConfigError, match="loss"):
        from_dict(ATTACKS.get("apgd").Config, {"loss": "hinge"})


def test_study_attack_settings_from_the_command_line():
    args = _parser().parse_args(["run", "--attacks", "none,fgsm,pgd", "--eps", "0,0.05", "--set", "attack.pgd.steps=20"])
    config = build_study(None, args.sets, {"attacks": args.attacks, "eps": args.eps})
    assert config.attacks == ("fgsm", "pgd") and config.eps == (0.0, 0.05)
    assert config.attack_config("pgd").steps == 20
    assert config.attack_keys()["pgd"] != build_study(None, [], {"attacks": ["pgd"]}).attack_keys()["pgd"]
    assert build_study(None, [], {"attacks": ["none"]}).attacks == ()
    with pytest.raises(UnknownNameError, match="Did you mean 'pgd'"):
        build_study(None, [], {"attacks": ["pdg"]})
    with pytest.raises(ConfigError, match="eps"):
        build_study(None, [], {"attacks": ["fgsm"], "eps": [-0.1]})
    with pytest.raises(ConfigError, match="twice"):
        build_study(None, [], {"attacks": ["fgsm"], "eps": [0.1, 0.10]})
    with pytest.raises(ConfigError, match="attack.pgd"):
        build_study(None, ["attack.pgd.stepz=3"], {"attacks": ["pgd"]})


TINY = ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4",
        "classifier.esc-cnn.epochs=2"]


def test_the_runner_reports_robust_scores_logs_them_and_resumes(tmp_path):
    from mlflow.tracking import MlflowClient

    def study(**cli):
        return build_study(None, TINY, {"methods": ["none"], "classifiers": ["svm", "esc-cnn"], "folds": 2, "seeds": [0], "jobs": 1, "threads": 1,
                                        "out": str(tmp_path / "out"), "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
                                        **cli})

    clean = run_study(study())
    assert clean.computed == 4 and not clean.table.columns.str.startswith("robust.").any()

    attacked = run_study(study(attacks=["fgsm", "pgd"], eps=[0, 0.5]))
    assert attacked.computed == 4  # the stored clean cells have no robust scores: computed again
    table = attacked.table
    assert (table["status"] == "ok").all()
    cols = [f"robust.{a}@{e}.{m}" for a in ("fgsm", "pgd") for e in ("0", "0.5") for m in METRICS]
    assert set(cols) <= set(table.columns)
    cnn, svm = table[table["classifier"] == "esc-cnn"], table[table["classifier"] == "svm"]
    for a in ("fgsm", "pgd"):
        assert cnn[f"robust.{a}@0.accuracy"].tolist() == cnn["accuracy"].tolist()
        assert cnn[f"robust.{a}@0.balanced_accuracy"].tolist() == cnn["balanced_accuracy"].tolist()
        assert (cnn[f"robust.{a}@0.5.eps_data"] > 0).all()
        assert (cnn[f"robust.{a}@0.5.accuracy"] <= cnn["accuracy"]).all()
    scores = cnn[[c for c in cols if not c.endswith("eps_data")]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    assert svm[cols].isna().all().all() and svm["robust_reason"].str.contains("svm is not differentiable").all()
    assert (cnn["robust_reason"] == "").all()
    pd.testing.assert_frame_equal(table[["accuracy", "auroc"]], clean.table[["accuracy", "auroc"]])  # clean path unchanged

    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("bench").experiment_id], "tags.`bench.cell` != ''")
    assert len(runs) == 4  # the clean runs of the recomputed cells were replaced
    cnn_runs = [r for r in runs if r.data.params["classifier"] == "esc-cnn"]
    assert all("robust.pgd.eps_0.5.accuracy" in r.data.metrics and r.data.params["attack.pgd.steps"] == "10"
               for r in cnn_runs)
    assert all("not differentiable" in r.data.tags["bench.robust_reason"] for r in runs if r not in cnn_runs)

    again = run_study(study(attacks=["pgd"], eps=[0.5]))  # a subset of what is stored: nothing to compute
    assert again.computed == 0
    assert {c for c in again.table.columns if c.startswith("robust.")} == {f"robust.pgd@0.5.{m}" for m in METRICS}
    clean_again = run_study(study())
    assert clean_again.computed == 0 and not clean_again.table.columns.str.startswith("robust.").any()


def test_stored_robust_scores_are_reused_only_for_the_same_attack_settings():
    from bench.results import ResultRow
    from bench.robustness import covers, restrict

    keys = build_study(None, [], {"attacks": ["pgd", "fgsm"]}).attack_keys()
    robust = {key(a, e, m): 0.5 for a in keys for e in (0.0, 0.1) for m in METRICS}
    row = ResultRow(study="s", dataset="d", task="t", protocol="p", method="m", classifier="c", seed=0, fold="f",
                    leaky=False, status="ok", robust=robust, attacks=keys, robust_reasons={"fgsm": "why"})
    assert covers(row, keys, [0.1]) and covers(row, {"pgd": keys["pgd"]}, [0.0, 0.1]) and covers(row, {}, [0.1])
    assert not covers(row, keys, [0.2])
    other = build_study(None, ["attack.pgd.steps=2"], {"attacks": ["pgd"]}).attack_keys()
    assert not covers(row, other, [0.1])
    assert not covers(ResultRow.from_json(ResultRow(**{**vars(row), "robust": {}, "attacks": {}}).to_json()), keys, [0.1])
    only = restrict(row, {"pgd": keys["pgd"]}, [0.1])
    assert set(only.robust) == {key("pgd", 0.1, m) for m in METRICS} and only.robust_reasons == {}
    assert ResultRow.from_json(only.to_json()) == only
