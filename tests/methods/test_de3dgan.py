"""DE-3DGAN as a method: trial runs, DE videos, fit/sample, the paper recipe, and behaviour on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from bench.errors import ConfigError, MethodError
from bench.registry import CLASSIFIERS
from bench.testing.contracts import INFO, toy_trials
from datasets.features import DE3DGAN_FEATURES, de_video
from methods.de3dgan import De3dGan, De3dganConfig, trial_runs


def test_trial_runs_are_consecutive_frames_of_one_trial_in_time_order():
    trial = np.array([5, 5, 5, 5, 7, 7, 7, 5, 5, 7])
    position = np.array([3, 0, 1, 2, 0, 1, 2, 5, 6, 4])
    runs = trial_runs(trial, position, min_frames=2)
    assert [r.tolist() for r in runs] == [[1, 2, 3, 0], [7, 8], [4, 5, 6]]
    assert [r.tolist() for r in trial_runs(trial, position, min_frames=3)] == [[1, 2, 3, 0], [4, 5, 6]]


def test_de_video_puts_two_half_second_windows_in_each_frame_and_leaves_empty_cells_zero():
    rng = np.random.default_rng(0)
    frames = np.zeros((6, 128, 9, 9))
    frames[:, :, 4, 4] = rng.normal(size=(6, 128))
    frames[:, :, 2, 2] = 3 * rng.normal(size=(6, 128))
    video = de_video(frames, 128.0, DE3DGAN_FEATURES)
    assert video.shape == (4, 12, 9, 9) and video.dtype == np.float32
    assert (video[:, :, 0, 0] == 0).all()
    # Tripling the amplitude adds ln(3) to the DE of every band (beyond the filters' start-up).
    assert np.allclose((video[:, 4:, 2, 2] - video[:, 4:, 4, 4]).mean(), np.log(3), atol=0.25)
    # A louder second half of the trial raises the DE of its windows only.
    frames[3:, :, 4, 4] *= 10
    louder = de_video(frames, 128.0, DE3DGAN_FEATURES)
    assert np.allclose(louder[:, :6, 4, 4], video[:, :6, 4, 4])
    assert (louder[:, 7:, 4, 4] - video[:, 7:, 4, 4] > 1.5).all()
    with pytest.raises(ConfigError, match="windows per frame must divide"):
        de_video(frames[:, :127], 128.0, DE3DGAN_FEATURES)


def _toy(n_per_class=(16, 16)):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    X = np.zeros((len(y), 128, 9, 9), np.float32)
    t = np.arange(128) / 128
    cells = [(2, 2), (2, 6), (4, 4), (6, 3)]
    for i, label in enumerate(y):
        for r, c in cells:
            X[i, :, r, c] = (1 + 2 * label) * np.sin(2 * np.pi * 10 * t + i) + 0.3 * rng.normal(size=128)
    return X, y


def test_fit_needs_trials_and_whole_runs():
    X, y = _toy()
    method = De3dGan.from_config(De3dganConfig.tiny(), info=INFO)
    with pytest.raises(ConfigError, match="needs trials"):
        method.fit(X, y, rng=np.random.default_rng(0))
    scattered = (np.arange(len(y)), np.zeros(len(y), dtype=np.int64))  # every frame its own trial
    with pytest.raises(MethodError, match="no run of 8 or more consecutive"):
        method.fit(X, y, rng=np.random.default_rng(0), trials=scattered)


def test_sample_generates_frames_of_the_requested_class_inside_the_electrode_cells():
    X, y = _toy()
    method = De3dGan.from_config(De3dganConfig.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0), trials=toy_trials(y))
    # One of each class's two trials is the inner validation split: G trains on the other half.
    assert method.stats_["frames_covered"] == 0.5 and len(method.runs_) == 4
    assert method.fit_report_.curve and 0 <= method.fit_report_.signal <= 1
    Xs, ys = method.sample({0: 3, 1: 12}, rng=np.random.default_rng(1))
    assert Xs.shape == (15, 128, 9, 9) and ys.tolist() == [0] * 3 + [1] * 12
    assert (Xs[:, :, ~method.mask_] == 0).all() and method.mask_.sum() == 4
    assert method.stats_["asked"] == method.stats_["kept"] == 15


def test_sample_never_repeats_a_frame_and_counts_the_shortfall(caplog):
    X, y = _toy()
    method = De3dGan.from_config(De3dganConfig.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0), trials=toy_trials(y))
    with caplog.at_level("WARNING"):
        Xs, ys = method.sample({0: 3, 1: 20}, rng=np.random.default_rng(1))
    assert ys.tolist() == [0] * 3 + [1] * 16  # class 1's trials give 16 distinct frames
    assert len(np.unique(Xs.reshape(len(Xs), -1), axis=0)) == len(Xs)
    assert method.stats_["asked"] == 23 and method.stats_["kept"] == 19
    assert "class 1: 16 of 20" in caplog.text and "without repeats" in caplog.text


def test_paper_recipe_pretrains_then_fine_tunes_with_twins(monkeypatch):
    X, y = _toy()
    method = De3dGan.from_config(De3dganConfig.tiny(), info=INFO).fit(X, y, rng=np.random.default_rng(0), trials=toy_trials(y))
    clf = CLASSIFIERS.get("sa-st-net").from_config(CLASSIFIERS.get("sa-st-net").Config.tiny(), info=INFO)
    assert method.paper_incompatibility(clf) is None
    assert "fc1 features" in method.paper_incompatibility(CLASSIFIERS.get("esc-cnn").from_config(info=INFO))
    seen = {}
    original = method._finetune

    def spy(classifier, X_, y_, twins, has_twin, gen):
        seen["pretrained"] = hasattr(classifier, "module_")
        seen["twins"], seen["has_twin"] = twins, has_twin
        before = [p.detach().clone() for p in classifier.module_.parameters()]
        original(classifier, X_, y_, twins, has_twin, gen)
        seen["changed"] = any(not (a == b.detach()).all() for a, b in zip(before, classifier.module_.parameters()))

    monkeypatch.setattr(method, "_finetune", spy)
    method.train_paper(clf, X, y, rng=np.random.default_rng(0))
    assert seen["pretrained"] and seen["changed"] and seen["has_twin"].all()
    assert seen["twins"].shape == X.shape and not np.array_equal(seen["twins"], X)
    assert clf.predict_proba(X).shape == (len(X), INFO.n_classes)


@pytest.mark.slow  # an evidence test (about 9 s), like the other generators': run by .ci/run
def test_generated_frames_follow_their_own_trials_topography_and_band_power():
    """Synthetic-dataset frames with a planted per-trial topography (a gain of exp(u), u ~ N(0, 0.5)
    per electrode cell): after a short fit, each trial's generated frames have the band-DE
    topography of that trial's real frames rather than another's, and band DE within 0.8 nats.

    The dataset's own trial-to-trial topography differences (0.1-0.2 nats) are below what the
    quick sizes resolve in seconds; the planted one makes the conditioning measurable.
    """
    from bench.context import context
    from bench.study import StudyConfig
    from tests.methods.generator_evidence import READER_SIZE

    ctx = context(StudyConfig(dataset={"synthetic": READER_SIZE}), "synthetic")
    y_all, info = ctx.labels("valence")
    train = ctx.folds("valence", "trial-kfold", 0)[0].train
    trial_id, position = ctx.groups.trial_id[train], ctx.groups.position[train]
    take = np.isin(trial_id, np.unique(trial_id)[:8]) & (position < 10)
    X, trial_id, position = ctx.views.real("raw-grid", train[take]), trial_id[take], position[take]
    rng = np.random.default_rng(0)
    for t in np.unique(trial_id):
        X[trial_id == t] *= np.exp(rng.normal(0, 0.5, (1, 1, 9, 9))).astype(np.float32)
    # The band-power variant with the earlier quick schedule (critic every 3rd epoch), 15 epochs on every trial.
    variant = {"epochs": 15, "w_spectral": 5.0, "d_every": 3, "val_fraction": 0.0, "fit_budget_s": 0.0}
    method = De3dGan.from_config(De3dganConfig.for_profile("quick", variant), info=info)
    assert method.config.variant() == "w_spectral=5,d_every=3"
    method.fit(X, y_all[train[take]], rng=np.random.default_rng(0), trials=(trial_id, position))

    def band_de(frames):  # (bands, electrode cells), the filters' start-up skipped
        return de_video(frames, info.sfreq, DE3DGAN_FEATURES)[:, 2:].mean(axis=1)[:, method.mask_]

    fake = np.stack([band_de(method.generate(r)) for r in range(len(method.runs_))])
    real = np.stack([band_de(X[run]) for run in method.runs_])
    assert np.abs((fake - real).mean(axis=(0, 2))).max() < 0.8
    topo = lambda a: (a - a.mean(2, keepdims=True)) / a.std(2, keepdims=True)  # noqa: E731
    distance = ((topo(fake)[:, None] - topo(real)[None]) ** 2).mean(axis=(2, 3))  # (generated trial, real trial)
    nearest_is_own = distance.argmin(axis=1) == np.arange(len(real))
    assert nearest_is_own.mean() >= 0.75, f"own trial nearest for {nearest_is_own.mean():.0%} of trials"
