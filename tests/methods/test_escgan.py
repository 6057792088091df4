"""ESC-GAN: networks, config, sampling with the filter, the paper recipe, and behaviour on synthetic data."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from bench.classifiers.esc_cnn import ESCClassifier
from bench.registry import CLASSIFIERS
from bench.errors import ConfigError, MethodError
from bench.context import context
from bench.study import StudyConfig
from bench.testing.contracts import INFO, toy_data
from datasets.grids import hull_mask
from methods.escgan import EscGan, EscganConfig, edit_targets, mixup_reversed
from methods.gan.escgan_nets import EditingGenerator, TwoHeadDiscriminator
from tests.methods.generator_evidence import READER_SIZE

MASK = torch.from_numpy(hull_mask("deap"))


def test_generator_edits_inside_the_hull_with_a_4h_x_3_x_3_latent_and_uses_the_label():
    torch.manual_seed(0)
    G = EditingGenerator(5, 8, 3, MASK).eval()
    e = torch.randn(4, 5, 9, 9)
    x0, z = G(e, torch.zeros(4, dtype=torch.long))
    x1, _ = G(e, torch.ones(4, dtype=torch.long))
    assert x0.shape == (4, 5, 9, 9) and z.shape == (4, 32, 3, 3)
    assert (x0[:, :, ~MASK] == 0).all()
    assert not torch.allclose(x0, x1)  # the control signal gates the latent (the f13a724 fix)
    x0.sum().backward()
    assert G.control.weight.grad.abs().sum() > 0 and G.encoder[0].weight.grad.abs().sum() > 0


def test_generator_at_reference_width_has_a_512_x_3_x_3_latent():
    G = EditingGenerator(5, 128, 2, MASK).eval()
    _, z = G(torch.randn(2, 5, 9, 9), torch.tensor([0, 1]))
    assert z.shape == (2, 512, 3, 3)
    assert G.control.weight.shape == (2, 4608)


def test_discriminator_gives_one_real_fake_logit_and_class_logits_with_gradients():
    D = TwoHeadDiscriminator(5, 8, 3, 16, 0.3)
    x = torch.randn(6, 5, 9, 9, requires_grad=True)
    r, c = D(x)
    assert r.shape == (6,) and c.shape == (6, 3)
    (r.sum() + c.sum()).backward()
    assert x.grad.abs().sum() > 0


def test_edit_targets_never_keep_the_label():
    y = np.array([0, 1, 2, 2, 1, 0])
    assert edit_targets(y, 3, "next").tolist() == [1, 2, 0, 0, 2, 1]
    drawn = edit_targets(np.repeat(y, 50), 3, "random", np.random.default_rng(0))
    assert (drawn != np.repeat(y, 50)).all() and set(drawn) == {0, 1, 2}
    t = edit_targets(torch.tensor(y), 3, "random", torch.Generator().manual_seed(0))
    assert (t != torch.tensor(y)).all()


def test_mixup_pairs_each_window_with_its_mirror_and_mixes_targets_alike():
    x = torch.arange(4.0).reshape(4, 1)
    soft = torch.eye(2)[[0, 0, 1, 1]]
    mx, ms = mixup_reversed(x, soft, 0.75)
    assert torch.allclose(mx[:, 0], torch.tensor([0.75, 1.25, 1.75, 2.25]))
    assert torch.allclose(ms.sum(dim=1), torch.ones(4)) and torch.allclose(ms[0], torch.tensor([0.75, 0.25]))
    assert torch.equal(mixup_reversed(x, soft, 1.0)[0], x)


@pytest.mark.parametrize("field, value", [("filter", "strict"), ("lr_g", 0.0), ("w_boundary", -1.0), ("target", "same"),
                                          ("hid_channels", 0), ("filter_threshold", float("inf"))])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"escgan.{field}"):
        EscganConfig(**{field: value})


def test_paper_profile_is_the_reference_setting():
    cfg = EscganConfig.for_profile("paper")
    assert (cfg.hid_channels, cfg.mlp_hidden, cfg.epochs, cfg.batch_size, cfg.lr_g, cfg.lr_d) == (128, 1024, 100, 256, 1e-4, 1e-4)
    assert (cfg.w_recon, cfg.w_adv, cfg.w_boundary, cfg.w_diverse, cfg.w_target) == (1, 0.5, 5, 1, 2.5)
    assert (cfg.smooth_fake, cfg.d_full_every, cfg.filter, cfg.filter_threshold) == (0.85, 5, "real-and-target", 0.0)
    assert cfg.d_fake_class and cfg.mixup and cfg.mixup_alpha == 0.2 and not cfg.train_mode_filter


def _fitted(**overrides):
    X, y = toy_data("de-grid", counts=(30, 12, 10))
    method = EscGan.from_config(EscganConfig.for_profile("quick", {**_TINY, **overrides}), info=INFO)
    return method.fit(X, y, rng=np.random.default_rng(0)), X, y


_TINY = {"hid_channels": 2, "mlp_hidden": 8, "epochs": 1, "batch_size": 16}


def test_sample_edits_other_classes_and_reports_the_acceptance(monkeypatch):
    method, X, y = _fitted(filter="none")
    edits = []
    original = method._judge
    monkeypatch.setattr(method, "_judge", lambda e, t: edits.append((e.clone(), t.clone())) or original(e, t))
    Xs, ys = method.sample({0: 0, 1: 5, 2: 3}, rng=np.random.default_rng(1))
    assert Xs.shape == (8, 5, 9, 9) and ys.tolist() == [1] * 5 + [2] * 3
    refs = {r.numpy().tobytes() for e, _ in edits for r in e}
    assert refs <= {r.tobytes() for r in X[y != 1]} | {r.tobytes() for r in X[y != 2]}
    for e, t in edits:  # references never come from the target class
        rows = [np.flatnonzero((X == r.numpy()).all(axis=(1, 2, 3)))[0] for r in e]
        assert not (y[rows] == t.numpy()).any()
    assert method.stats_["acceptance"] == 1.0 and (method.stats_["asked"], method.stats_["kept"]) == (8, 8)


def test_sample_returns_only_kept_edits_never_repeats_and_counts_the_shortfall(monkeypatch, caplog):
    method, X, y = _fitted(filter="real-and-target")
    n_refs = int((y != 1).sum())

    def judge_first(e, t):  # only the first edit of each chunk passes both tests
        x_hat, _, _ = EscGan._judge(method, e, t)
        first = torch.arange(len(e)) == 0
        return x_hat, first, first

    monkeypatch.setattr(method, "_judge", judge_first)
    with caplog.at_level(logging.WARNING):
        Xs, ys = method.sample({1: 4}, rng=np.random.default_rng(0))
    assert len(Xs) == 1 and (ys == 1).all()
    assert "class 1: 1 of 4" in caplog.text and f"R said real for 1 of {n_refs} edits" in caplog.text
    assert method.stats_["acceptance"] == pytest.approx(1 / n_refs)
    assert (method.stats_["asked"], method.stats_["kept"]) == (4, 1)
    monkeypatch.setattr(method, "_judge", lambda e, t: (e, torch.zeros(len(e), dtype=torch.bool),
                                                        torch.ones(len(e), dtype=torch.bool)))
    Xs, ys = method.sample({0: 2, 1: 2}, rng=np.random.default_rng(0))
    assert Xs.shape == (0, 5, 9, 9) and (method.stats_["asked"], method.stats_["kept"]) == (4, 0)


def test_fit_holds_out_whole_trials_and_reports_the_inner_signal():
    X, y = toy_data("de-grid", counts=(30, 12, 10))
    groups = np.arange(len(y)) // 2  # trials of two windows
    method = EscGan.from_config(EscganConfig.for_profile("quick", {**_TINY, "epochs": 3}), info=INFO)
    seen = []
    original = method._train
    method._train = lambda X_, y_, gen, monitor: seen.append(X_.numpy().copy()) or original(X_, y_, gen, monitor)
    method.fit(X, y, rng=np.random.default_rng(0), groups=groups)
    trained = {r.tobytes() for r in seen[0]}
    held = [g for g in np.unique(groups) if not any(r.tobytes() in trained for r in X[groups == g])]
    assert held and all(not any(r.tobytes() in trained for r in X[groups == g]) for g in held)
    assert len(seen[0]) + 2 * len(held) == len(X)  # whole trials, nothing lost
    report = method.fit_report_
    assert report.epochs == 3 and len(report.curve) == 3 and 0 <= report.signal <= 1
    assert report.stop_reason == "epochs" and method.stats_["fit.steps"] == report.steps > 0


def test_paper_recipe_edits_every_batch_online_and_trains_the_classifier(monkeypatch):
    method, X, y = _fitted(filter="none")
    clf = ESCClassifier.from_config(ESCClassifier.Config.tiny(), info=INFO)
    assert method.paper_incompatibility(clf) is None
    sizes = []
    loss_fn = torch.nn.CrossEntropyLoss

    class Recording(loss_fn):
        def forward(self, logits, target):
            sizes.append((len(logits), target.dtype, target.shape))
            return super().forward(logits, target)

    monkeypatch.setattr(torch.nn, "CrossEntropyLoss", Recording)
    method.train_paper(clf, X, y, rng=np.random.default_rng(0))
    # Every batch was doubled by its edits and trained against mixed-up class probabilities.
    batches = np.array([len(b) for b in torch.arange(len(X)).split(clf.config.batch_size)])
    assert sorted(n for n, _, _ in sizes) == sorted((2 * batches).tolist() * clf.config.epochs)
    assert all(dtype == torch.float32 and shape[1] == INFO.n_classes for _, dtype, shape in sizes)
    assert clf.on_batch is None and not method.generator_.training and not method.discriminator_.training
    assert method.stats_["acceptance"] == 1.0
    assert clf.predict_proba(X).shape == (len(X), INFO.n_classes)


def test_paper_recipe_needs_a_torch_classifier_on_de_grids():
    method, _, _ = _fitted()
    reason = method.paper_incompatibility(CLASSIFIERS.get("svm").from_config(info=INFO))
    assert "needs a torch classifier" in reason


def test_train_mode_filter_replicates_the_reference_and_leaves_g_and_d_in_eval_mode():
    method, X, y = _fitted(filter="none", train_mode_filter=True)
    modes = []
    original = method._judge
    method._judge = lambda e, t: modes.append((method.generator_.training, method.discriminator_.training)) or original(e, t)
    method.train_paper(ESCClassifier.from_config(ESCClassifier.Config.tiny(), info=INFO), X, y, rng=np.random.default_rng(0))
    assert modes and set(modes) == {(True, True)}
    assert not method.generator_.training and not method.discriminator_.training


@pytest.mark.slow  # a variant, not the default algorithm: run by .ci/run, opt-in locally
def test_edits_of_the_minority_class_look_like_it_to_an_independent_classifier():
    """85/15 synthetic valence: after a quick fit of the C-filter variant, edits into the minority class are read as that
    class by a logistic regression trained on real data, and none is a copy of a training window."""
    ctx = context(StudyConfig(dataset={"synthetic": READER_SIZE}), "synthetic")
    y_all, info = ctx.labels("valence")
    fold = ctx.folds("valence", "trial-kfold", 0)[0]
    X, y = ctx.views.real("de-grid", fold.train), y_all[fold.train]
    rng = np.random.default_rng(0)
    majority, minority = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    keep = np.concatenate([majority, rng.choice(minority, len(majority) * 15 // 85, replace=False)])
    X, y = X[keep], y[keep]
    # The variant the quick profile used to be (C-only filter, 10x reconstruction, no class loss on
    # edits in D, 8 epochs): the published objective at quick sizes does not pass this (see the Notes).
    variant = {"filter": "target", "w_recon": 10.0, "d_fake_class": False, "epochs": 8, "val_fraction": 0.0,
               "fit_budget_s": 0.0}
    method = EscGan.from_config(EscganConfig.for_profile("quick", variant), info=info).fit(X, y, rng=np.random.default_rng(1))
    assert method.config.variant() == "w_recon=10,d_fake_class=false,filter=target"
    n = int((y == 0).sum() - (y == 1).sum())
    Xs, ys = method.sample({1: n}, rng=np.random.default_rng(2))
    judge = LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced").fit(X.reshape(len(X), -1), y)
    test = ctx.views.real("de-grid", fold.test)
    assert judge.score(test.reshape(len(test), -1), y_all[fold.test]) > 0.8  # the judge itself is competent
    read_as_target = (judge.predict(Xs.reshape(n, -1)) == 1).mean()
    assert read_as_target > 0.75, f"only {read_as_target:.0%} of the edits read as the minority class"
    distances = np.sqrt(((Xs.reshape(n, 1, -1) - X.reshape(1, len(X), -1)) ** 2).sum(axis=2)).min(axis=1)
    assert distances.min() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_fit_sample_and_paper_recipe_run_on_cuda():
    X, y = toy_data("de-grid", counts=(30, 12, 10))
    method = EscGan.from_config(EscganConfig.tiny(), info=INFO, device="cuda").fit(X, y, rng=np.random.default_rng(0))
    assert next(method.generator_.parameters()).is_cuda
    Xs, _ = method.sample({1: 3}, rng=np.random.default_rng(0))
    assert isinstance(Xs, np.ndarray) and Xs.shape == (3, 5, 9, 9)
    method.train_paper(ESCClassifier.from_config(ESCClassifier.Config.tiny(), info=INFO, device="cuda"), X, y,
                       rng=np.random.default_rng(0))
