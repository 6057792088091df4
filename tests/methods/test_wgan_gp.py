"""cWGAN-GP: the critic schedule, the penalty, profiles, and behaviour on synthetic data."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from bench.errors import ConfigError
from bench.testing.contracts import INFO, toy_data
from methods.wgan_gp import ConditionalWganGp, WganGpConfig
from tests.methods.generator_evidence import check_generator


@pytest.mark.parametrize("n_critic", [1, 3])
def test_the_generator_steps_after_every_n_critic_th_critic_step(monkeypatch, n_critic):
    X, y = toy_data("de-grid")  # 48 windows: 3 batches of 16 per epoch, 2 epochs
    steps = []
    monkeypatch.setattr(ConditionalWganGp, "_update", lambda self, opt, loss: steps.append(
        "G" if opt is self.opt_g_ else "C") or opt.zero_grad() or loss.backward() or opt.step(), raising=True)
    method = ConditionalWganGp.from_config(WganGpConfig.for_profile("quick", {**_TINY, "n_critic": n_critic}), info=INFO)
    method.fit(X, y, rng=np.random.default_rng(0))
    assert steps.count("C") == 6 and steps.count("G") == 6 // n_critic
    assert all(steps[i - 1] == "C" for i, s in enumerate(steps) if s == "G")
    assert set(method.history_[0]) == {"wasserstein", "penalty"} and method.history_[0]["penalty"] > 0


@pytest.mark.parametrize("field, value", [("w_gp", -1.0), ("n_critic", 0)])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        WganGpConfig(**{field: value})


def test_paper_profile_is_gulrajani_et_al_algorithm_1():
    paper = WganGpConfig.for_profile("paper")
    assert (paper.lr, paper.beta1, paper.beta2, paper.n_critic, paper.w_gp) == (1e-4, 0.0, 0.9, 5, 10.0)
    trial = optuna.trial.FixedTrial({"lr": 1e-3, "n_critic": 3, "w_gp": 5.0, "width": 16, "epochs": 20})
    assert WganGpConfig.for_profile("quick", WganGpConfig.search_space(trial)).n_critic == 3


@pytest.mark.slow  # a variant, not the default algorithm: run by .ci/run, opt-in locally
def test_spectral_variant_samples_on_de_grids_carry_the_valence_asymmetry_and_band_power_without_copies(
        synthetic_fold):  # noqa: F811
    # A shorter fit than the variant's flips the sign of the class effect from seed to seed.
    check_generator(ConditionalWganGp, "de-grid", synthetic_fold, {})


@pytest.mark.slow  # a variant, not the default algorithm: run by .ci/run, opt-in locally
def test_spectral_variant_samples_on_raw_windows_carry_the_valence_asymmetry_and_band_power_without_copies(
        synthetic_fold):  # noqa: F811
    # With the spectral variant's moment term (w_spectral); without it the class effect was ~0.
    check_generator(ConditionalWganGp, "raw", synthetic_fold, {})


_TINY = {"width": 4, "latent_dim": 8, "embed_dim": 4, "epochs": 2, "batch_size": 16}
