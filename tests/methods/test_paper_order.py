"""The reference's G-then-D step order (both generators), DE-3DGAN's whole-trial runs and its twin-aware feature term."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.testing.contracts import INFO, toy_data, toy_trials
from methods.de3dgan import De3dGan, De3dganConfig, feature_gap, trial_runs
from methods.escgan import EscGan, EscganConfig
from tests.methods.test_de3dgan import _toy


def step_sequence(monkeypatch, method, generator_attr, fit):
    """Which network each optimiser step updated, in order ('G' or 'D'), while ``fit()`` runs."""
    order, original = [], torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        generator = getattr(method, generator_attr)
        first = self.param_groups[0]["params"][0]
        order.append("G" if any(first is p for p in generator.parameters()) else "D")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    fit()
    return order


@pytest.mark.parametrize("step_order, first", [("g-first", "G"), ("d-first", "D")])
def test_escgan_steps_g_then_d_as_the_reference_or_d_first_as_a_variant(monkeypatch, step_order, first):
    X, y = toy_data("de-grid", counts=(24, 24))
    config = EscganConfig.for_profile("quick", {"hid_channels": 2, "mlp_hidden": 8, "epochs": 1, "batch_size": 16,
                                                "val_fraction": 0.0, "step_order": step_order})
    method = EscGan.from_config(config, info=INFO.__class__(**{**INFO.__dict__, "class_names": ("a", "b")}))
    order = step_sequence(monkeypatch, method, "generator_", lambda: method.fit(X, y, rng=np.random.default_rng(0)))
    assert len(order) == 6 and order == [first, "GD".replace(first, "")] * 3
    assert EscganConfig().step_order == "g-first" and config.variant() == ("" if first == "G" else "step_order=d-first")


@pytest.mark.parametrize("step_order, first", [("g-first", "G"), ("d-first", "D")])
def test_de3dgan_steps_g_then_the_critic_as_the_reference(monkeypatch, step_order, first):
    X, y = _toy()
    config = De3dganConfig.tiny().__class__.for_profile("quick", {
        "base": 2, "critic_width": 0.0625, "critic_hidden": 8, "epochs": 1, "finetune_epochs": 1, "val_fraction": 0.0,
        "d_schedule": "batch", "d_every": 1, "step_order": step_order})
    method = De3dGan.from_config(config, info=INFO)
    order = step_sequence(monkeypatch, method, "generator_",
                          lambda: method.fit(X, y, rng=np.random.default_rng(0), trials=toy_trials(y)))
    assert order and order[:2] == [first, "GD".replace(first, "")] and order.count("G") == order.count("D")


def test_whole_trial_runs_join_a_trials_training_frames_across_test_gaps():
    trial = np.array([5, 5, 5, 5, 7, 7, 7, 5, 5, 7])
    position = np.array([3, 0, 1, 2, 0, 1, 2, 5, 6, 4])  # trial 5 lacks position 4, trial 7 position 3
    runs = trial_runs(trial, position, min_frames=2, whole_trials=True)
    assert [r.tolist() for r in runs] == [[1, 2, 3, 0, 7, 8], [4, 5, 6, 9]]
    assert [r.tolist() for r in trial_runs(trial, position, min_frames=5, whole_trials=True)] == [[1, 2, 3, 0, 7, 8]]


def test_trial_runs_give_the_generator_every_training_frame_under_a_pooled_protocol():
    X, y = _toy()
    trial_id, position = toy_trials(y, length=16)  # one trial per class
    train = np.flatnonzero(position % 5 != 2)  # every trial loses frames to a "test fold"
    trials = (trial_id[train], position[train])
    by_run = De3dGan.from_config(De3dganConfig.tiny(), info=INFO)
    with pytest.raises(Exception, match="no run of 8"):
        by_run.fit(X[train], y[train], rng=np.random.default_rng(0), trials=trials)
    whole = De3dGan.from_config(De3dganConfig.for_profile("quick", {**_tiny(), "runs": "trial"}), info=INFO)
    whole.fit(X[train], y[train], rng=np.random.default_rng(0), trials=trials)
    assert sum(len(r) for r in whole.runs_) == len(train)


def _tiny():
    return {"base": 2, "critic_width": 0.0625, "critic_hidden": 8, "epochs": 1, "finetune_epochs": 1}


def test_the_feature_term_averages_over_frames_with_a_twin_only():
    f_real = torch.tensor([[1.0, 1.0], [3.0, 3.0], [0.0, 0.0]])
    f_twin = torch.zeros(3, 2)
    has_twin = torch.tensor([True, True, False])
    assert feature_gap(f_real[has_twin], f_twin[has_twin]).item() == pytest.approx((1 + 9) / 2)  # not (1 + 9 + 0) / 3
