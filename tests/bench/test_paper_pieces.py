"""The pieces the paper presets need: per-window min-max DE, the hard-case protocol, KID, last-N epoch scores, predict_mode."""

from __future__ import annotations

import numpy as np
import pytest

from bench.classifiers.esc_cnn import ESCClassifier
from bench.epoch_scores import LastEpochs
from bench.errors import ConfigError
from bench.fold_quality import classifier_metrics
from bench.hard_case import HardCase, selected_windows, thin_fold
from bench.protocols import Fold
from bench.quality import kernel_distance
from bench.testing.contracts import INFO, toy_data
from datasets.features import FeatureConfig, window_normalise


def test_minmax_bands_maps_each_window_and_channel_to_0_1_across_bands():
    de = np.array([[[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]]], dtype=np.float32)  # (1 window, 2 channels, 3 bands)
    out = window_normalise(de, "minmax-bands")
    assert np.allclose(out, [[[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]])  # a flat channel maps to 0, not NaN
    assert np.array_equal(window_normalise(de, "none"), de)
    with pytest.raises(ConfigError, match="window_norm"):
        FeatureConfig(window_norm="zscore")


def test_hard_case_keeps_the_asked_fraction_of_the_selected_training_windows_and_every_test_window():
    fold = Fold("fold-0", np.arange(0, 80), np.arange(80, 100))
    selected = np.zeros(100, dtype=bool)
    selected[::2] = True  # 40 selected training windows, 10 in the test fold
    thinned = thin_fold(fold, selected, 0.3, np.random.default_rng(0))
    assert selected[thinned.train].sum() == 12 and (~selected[thinned.train]).sum() == 40
    assert np.array_equal(thinned.test, fold.test) and np.all(np.diff(thinned.train) > 0)
    assert thin_fold(fold, selected, 1.0, np.random.default_rng(0)).train.size == 80
    for bad in ({"keep": 0.0}, {"select": "subject"}, {"select": "quadrant", "value": 4}):
        with pytest.raises(ConfigError, match="hard_case"):
            HardCase(**bad)
    y = np.array([0, 1, 1, 0])
    assert selected_windows(HardCase("quadrant", 2, 0.5), y, np.array([2, 2, 3, 0])).tolist() == [True, True, False, False]
    with pytest.raises(ConfigError, match="class 2 holds no window"):
        selected_windows(HardCase("class", 2, 0.5), y, y)


def test_the_runner_thins_the_training_folds_and_scores_last_epochs_and_quality_against_test(tmp_path):
    from bench.cell import CellCaches, compute_cell
    from bench.context import context
    from bench.runner import plan
    from bench.study import build_study

    sets = ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4",
            "classifier.esc-cnn.epochs=3", "classifier.esc-cnn.hid_channels=2", "classifier.esc-cnn.mlp_hidden=8",
            "hard_case.select=class", "hard_case.value=1", "hard_case.keep=0.25", "epoch_metrics=2",
            "quality_vs_test=true"]
    cli = {"methods": ["noise"], "classifiers": ["esc-cnn"], "folds": 2, "out": str(tmp_path / "out")}
    config = build_study(None, sets, cli)
    y, _ = context(config, "synthetic").labels("valence")
    thinned = context(config, "synthetic").folds("valence", "trial-kfold", 0)
    full = context(build_study(None, sets[:-5], cli), "synthetic").folds("valence", "trial-kfold", 0)
    for a, b in zip(thinned, full):
        assert np.array_equal(a.test, b.test)
        assert (y[a.train] == 1).sum() == round(0.25 * (y[b.train] == 1).sum())
        assert (y[a.train] == 0).sum() == (y[b.train] == 0).sum()
    cells, _ = plan(config)
    row = compute_cell(config, cells[0], "test", ("", ""), CellCaches())
    assert row.status == "ok" and row.n_train == len(thinned[0].train)
    assert row.metrics["last_epochs"] == 2
    assert row.metrics["last_max_accuracy"] >= row.metrics["last_mean_accuracy"]
    assert all(np.isfinite(row.quality[k]) for k in ("frechet_test", "kid_test", "kid"))


def test_kernel_distance_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same = kernel_distance(a, b, subsets=20, subset_size=200, rng=rng)
    shifted = kernel_distance(a, b + 1.0, subsets=20, subset_size=200, rng=rng)
    assert abs(same) < 0.05 < shifted
    # one subset of everything equals the unbiased MMD^2 written out
    x, y = a[:50], b[:50] + 0.5
    k = lambda u, v: (u @ v.T / 8 + 1) ** 3  # noqa: E731
    m = 50
    direct = ((k(x, x).sum() - np.trace(k(x, x))) / (m * (m - 1)) + (k(y, y).sum() - np.trace(k(y, y))) / (m * (m - 1))
              - 2 * k(x, y).mean())
    assert kernel_distance(x, y, subsets=1, subset_size=50) == pytest.approx(direct)


def fitted_cnn(**overrides):
    X, y = toy_data("de-grid", counts=(30, 30))
    config = ESCClassifier.Config.for_profile("quick", {"hid_channels": 2, "mlp_hidden": 8, "epochs": 3,
                                                       "batch_size": 16, "dropout": 0.5, **overrides})
    info = INFO.__class__(**{**INFO.__dict__, "class_names": ("a", "b")})
    return ESCClassifier.from_config(config, info=info).fit(X, y, rng=np.random.default_rng(1)), X, y


def test_predict_mode_train_scores_with_dropout_on_reproducibly():
    evaluated, X, _ = fitted_cnn()
    trained, _, _ = fitted_cnn(predict_mode="train")
    assert not np.allclose(evaluated.predict_proba(X), trained.predict_proba(X))  # same weights, dropout on
    assert np.array_equal(trained.predict_proba(X), trained.predict_proba(X))  # masks from the fit's seed
    assert not trained.module_.training  # the mode is restored


def test_last_epochs_keeps_the_last_n_test_scores_and_chains_an_existing_hook():
    clf, X, y = fitted_cnn()
    calls = []
    clf.on_epoch = lambda epoch, loss: calls.append(epoch)
    last = LastEpochs(2, X, y, 2).install(clf)
    clf.fit(X, y, rng=np.random.default_rng(1))
    assert calls == [0, 1, 2] and len(last.scores) == 2
    summary = last.summary()
    assert summary["last_epochs"] == 2
    accs = [s["accuracy"] for s in last.scores]
    assert summary["last_mean_accuracy"] == pytest.approx(np.mean(accs))
    assert summary["last_max_accuracy"] == pytest.approx(max(accs))
    assert LastEpochs(3, X, y, 2).summary() == {}
    last.remove(clf)
    assert clf.on_epoch is not None and clf.on_epoch(7, 0.0) is None and calls[-1] == 7  # the original hook is back


def test_a_reference_classifier_kept_after_last_epoch_scoring_carries_no_hook_and_is_shared(tmp_path):
    # The de3dgan-paper preset with --jobs 2 failed its `none` cells: the kept reference still held
    # the scoring closure (and the test fold), which cannot be saved for the other workers.
    import torch

    from bench.cell import CellCaches, References, compute_cell
    from bench.runner import plan
    from bench.study import build_study

    sets = ["dataset.synthetic.n_subjects=2", "dataset.synthetic.n_trials=4", "dataset.synthetic.trial_s=4",
            "classifier.esc-cnn.epochs=2", "classifier.esc-cnn.hid_channels=2", "classifier.esc-cnn.mlp_hidden=8",
            "epoch_metrics=2"]
    config = build_study(None, sets, {"methods": ["none"], "classifiers": ["esc-cnn"], "folds": 2,
                                      "out": str(tmp_path / "out")})
    shared = tmp_path / "references"  # the folder a run's worker processes share
    shared.mkdir()
    cells, _ = plan(config)
    row = compute_cell(config, cells[0], "test", ("", ""), CellCaches(references=References(shared)))
    assert row.status == "ok", row.reason
    assert row.metrics["last_epochs"] == 2
    saved = list(shared.glob("*.pt"))
    assert len(saved) == 1 and torch.load(saved[0], weights_only=False).on_epoch is None


def test_classifier_metrics_compares_with_the_test_fold_only_when_asked():
    clf, X, y = fitted_cnn()
    rng = np.random.default_rng(0)
    base = classifier_metrics(clf, fitted_cnn, X[:20], y[:20], X[20:40], X[40:], y[40:], 2, rng)
    assert "frechet_test" not in base and np.isfinite(base["kid"])
    both = classifier_metrics(clf, lambda: fitted_cnn()[0].__class__.from_config(clf.config, info=clf.info), X[:20], y[:20],
                              X[20:40], X[40:], y[40:], 2, np.random.default_rng(0), vs_test=True)
    assert np.isfinite(both["frechet_test"]) and np.isfinite(both["kid_test"])
    assert both["frechet"] == pytest.approx(base["frechet"])
