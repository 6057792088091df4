"""cVAE: the KL and likelihood terms, beta, decoder noise, and behaviour on synthetic data."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
import torch

from bench.errors import ConfigError
from bench.testing.contracts import INFO, toy_data
from methods.vae import ConditionalVae, VaeConfig, gaussian_kl, gaussian_nll
from tests.methods.generator_evidence import check_generator


def test_kl_is_zero_for_the_prior_and_matches_the_closed_form_otherwise():
    zeros = torch.zeros(3, 4)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(3))
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, np.log(4.0)]])
    p, q = torch.distributions.Normal(mu, (0.5 * logvar).exp()), torch.distributions.Normal(0.0, 1.0)
    assert torch.allclose(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(p, q).sum(dim=1))


def test_nll_is_the_gaussian_log_likelihood_up_to_a_constant():
    x, mean, log_scale = torch.randn(2, 3, 4), torch.randn(2, 3, 4), torch.randn(3, 1)
    log_p = torch.distributions.Normal(mean, log_scale.exp()).log_prob(x).flatten(1).sum(1)
    expected = -log_p - 12 * 0.5 * np.log(2 * np.pi)
    assert torch.allclose(gaussian_nll(x, mean, log_scale), expected, atol=1e-4)


@pytest.mark.parametrize("beta", [0.0, 5.0])
def test_the_loss_is_nll_plus_beta_times_kl(beta):
    X, y = toy_data("de-grid")
    method = ConditionalVae.from_config(VaeConfig.for_profile("quick", {**_TINY, "beta": beta}), info=INFO)
    method.fit(X, y, rng=np.random.default_rng(0))
    stepped = []
    method._update = lambda optimiser, loss: stepped.append(loss.item())
    Z = torch.from_numpy((X[:8] - method.mean_) / method.std_) * method.live_
    terms = method._step(Z, torch.from_numpy(y[:8]), torch.Generator().manual_seed(0))
    assert terms["kl"].item() > 0
    assert stepped == [pytest.approx(terms["nll"].item() + beta * terms["kl"].item(), rel=1e-6)]


def test_decoder_noise_adds_the_learned_spread_to_the_decoded_mean():
    X, y = toy_data("raw")
    noisy = ConditionalVae.from_config(VaeConfig.for_profile("quick", _TINY), info=INFO).fit(X, y, rng=np.random.default_rng(0))
    assert noisy.log_scale_.shape == (32, 1)  # one spread per channel of raw windows
    mean_only = ConditionalVae.from_config(VaeConfig.for_profile("quick", {**_TINY, "decoder_noise": False}), info=INFO)
    mean_only.fit(X, y, rng=np.random.default_rng(0))
    a, _ = noisy.sample({0: 200}, rng=np.random.default_rng(1))
    b, _ = mean_only.sample({0: 200}, rng=np.random.default_rng(1))
    residual = (a - b) / noisy.std_[0]  # same z draws, so the difference is the decoder noise
    expected = noisy.log_scale_.detach().exp().numpy()
    assert np.allclose(residual.std(axis=(0, 2))[:, None], expected, rtol=0.1)


@pytest.mark.parametrize("field, value", [("beta", -1.0), ("latent_dim", 0)])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        VaeConfig(**{field: value})


def test_profiles_and_search_space():
    assert VaeConfig.for_profile("paper").beta == 1.0 and VaeConfig.for_profile("paper").decoder_noise
    trial = optuna.trial.FixedTrial({"lr": 1e-3, "beta": 4.0, "latent_dim": 8, "width": 16, "epochs": 20})
    assert VaeConfig.for_profile("quick", VaeConfig.search_space(trial)).beta == 4.0


def test_samples_on_de_grids_carry_the_valence_asymmetry_and_band_power_without_copies(synthetic_fold):  # noqa: F811
    check_generator(ConditionalVae, "de-grid", synthetic_fold, {"epochs": 20}, n_train=240)


@pytest.mark.slow  # a variant, not the default algorithm: run by .ci/run, opt-in locally
def test_spectral_variant_samples_on_raw_windows_carry_the_valence_asymmetry_and_band_power_without_copies(
        synthetic_fold):  # noqa: F811
    # With the spectral variant's moment term, samples being the decoder's mean; without the
    # term the class effect was ~0 and gamma power 1.6 nats too high.
    check_generator(ConditionalVae, "raw", synthetic_fold, {})


def test_with_the_spectral_term_raw_samples_are_the_decoded_mean_and_the_loss_includes_it():
    X, y = toy_data("raw")
    config = VaeConfig.for_profile("quick", {**_TINY, "w_spectral": 10.0})
    method = ConditionalVae.from_config(config, info=INFO).fit(X, y, rng=np.random.default_rng(0))
    labels = torch.zeros(20, dtype=torch.int64)
    with torch.no_grad():  # the same draws of z: no decoder noise on top
        sampled = method._generate(labels, torch.Generator().manual_seed(0))
        decoded = method._decode(method._prior(20, torch.Generator().manual_seed(0)), labels)
    assert method._spectral_on() and torch.equal(sampled, decoded)
    stepped = []
    method._update = lambda optimiser, loss: stepped.append(loss.item())
    x, labels = torch.from_numpy((X[:8] - method.mean_) / method.std_), torch.from_numpy(y[:8])
    terms = method._step(x, labels, torch.Generator().manual_seed(0))
    assert stepped[0] > terms["nll"].item() + terms["kl"].item()  # the spectral term is added


@pytest.mark.slow
def test_spectral_variant_evidence_on_the_whole_fold_of_de_grids(synthetic_fold):  # noqa: F811
    check_generator(ConditionalVae, "de-grid", synthetic_fold, {})


_TINY = {"width": 4, "latent_dim": 4, "embed_dim": 4, "epochs": 1, "batch_size": 16, "w_spectral": 0.0}
"""The plain conditional VAE: no spectral moment term, samples with decoder noise."""


def _normalised_by_first_batch_norm(method, z, labels):
    """What the decoder's first BatchNorm makes of the codes ``z``: its output before the affine part, (n, c, *size)."""
    norm = method.decoder_.top_norm[0]
    seen = []
    handle = norm.register_forward_hook(lambda module, inputs, output: seen.append(output))
    with torch.no_grad():
        method._decode(z, labels)
    handle.remove()
    shape = (1, -1) + (1,) * (seen[0].ndim - 2)
    return (seen[0] - norm.bias.reshape(shape)) / norm.weight.reshape(shape)


def test_after_fit_the_decoder_normalises_prior_codes_with_their_own_statistics():
    # Training decodes posterior codes; a VAE pulled far from the prior (beta small) leaves running
    # statistics that do not fit prior codes unless fit re-estimates them on prior draws.
    X, y = toy_data("raw", counts=(128, 128, 128))
    config = VaeConfig.for_profile("quick", {**_TINY, "beta": 1e-4, "epochs": 3, "latent_dim": 8})
    method = ConditionalVae.from_config(config, info=INFO).fit(X, y, rng=np.random.default_rng(0))
    labels = torch.from_numpy(np.resize(y, 2048))
    normalised = _normalised_by_first_batch_norm(method, method._prior(2048, torch.Generator().manual_seed(1)), labels)
    per_channel = normalised.transpose(0, 1).flatten(1)
    assert per_channel.mean(dim=1).abs().max() < 0.15
    assert ((per_channel.std(dim=1) - 1).abs() < 0.15).all()
    assert method.decoder_.top_norm[0].momentum == 0.1  # restored for any later training
