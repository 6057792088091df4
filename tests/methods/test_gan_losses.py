"""The GAN losses of methods.gan.losses on hand-made tensors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from methods.gan.losses import (
    adversarial_loss,
    band_log_power,
    band_log_power_loss,
    boundary_loss,
    class_loss,
    class_mean_loss,
    diversity_loss,
    reconstruction_loss,
)


def test_reconstruction_is_zero_for_an_identity_edit_and_the_mean_square_otherwise():
    x = torch.arange(12.0).reshape(2, 6)
    assert reconstruction_loss(x, x.clone()) == 0
    assert reconstruction_loss(x, x + 2) == pytest.approx(4.0)


def test_adversarial_loss_is_bce_against_a_constant_target():
    logits = torch.tensor([0.0, 2.0, -1.0])
    assert adversarial_loss(logits, 0.0) == pytest.approx(float(sum(math.log1p(math.exp(v)) for v in (0.0, 2.0, -1.0)) / 3))
    # The smoothed fake target: the optimum logit is log(0.85 / 0.15), where the gradient vanishes.
    best = torch.tensor([math.log(0.85 / 0.15)], requires_grad=True)
    adversarial_loss(best, 0.85).backward()
    assert abs(best.grad.item()) < 1e-6
    assert adversarial_loss(logits.reshape(3, 1), 1.0) == adversarial_loss(logits, 1.0)


def test_diversity_loss_decreases_as_the_edits_spread_out():
    z = torch.randn(8, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    base = torch.randn(8, 5, 9, 9, generator=torch.Generator().manual_seed(1))
    perm = torch.roll(torch.arange(8), 1)
    values = [diversity_loss(scale * base, z, perm).item() for scale in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert values[0] == pytest.approx(1.0)  # identical edits: exp(0)
    assert all(a > b for a, b in zip(values, values[1:]))
    assert 0 < values[-1] < 1


def test_diversity_loss_follows_its_formula_on_a_pair():
    x = torch.tensor([[0.0, 0.0], [2.0, 4.0]])  # mean |dx| = 3
    z = torch.tensor([[0.0], [1.5]])  # mean |dz| = 1.5
    assert diversity_loss(x, z, torch.tensor([1, 0])).item() == pytest.approx(math.exp(-3 / (1.5 + 1e-6)))


def test_boundary_loss_is_zero_exactly_at_a_uniform_prediction_and_positive_elsewhere():
    assert boundary_loss(torch.zeros(4, 3)).item() == pytest.approx(0.0, abs=1e-7)
    assert boundary_loss(torch.full((2, 2), 7.0)).item() == pytest.approx(0.0, abs=1e-7)
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.1, 0.0, 0.0]])
    value = boundary_loss(logits)
    p = logits.softmax(dim=1)
    by_hand = (torch.full_like(p, 1 / 3) * (torch.log(torch.full_like(p, 1 / 3)) - p.log())).sum(dim=1).mean()
    assert value.item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert value > 0


def test_class_loss_is_cross_entropy():
    logits, t = torch.tensor([[1.0, -1.0], [0.0, 3.0]]), torch.tensor([1, 1])
    assert class_loss(logits, t) == F.cross_entropy(logits, t)


def test_band_log_power_loss_ignores_phase_and_measures_log_power_ratios():
    bands = (("theta", 4.0, 8.0), ("alpha", 8.0, 14.0))
    t = torch.arange(128) / 128.0
    wave = torch.sin(2 * math.pi * 10 * t) + 0.5 * torch.sin(2 * math.pi * 6 * t)
    shifted = torch.sin(2 * math.pi * 10 * t + 1.3) - 0.5 * torch.sin(2 * math.pi * 6 * t + 0.4)
    frames = torch.stack([wave, 2 * wave])[:, None, :, None]  # (2, 1, 128, 1), time on dim 2
    twins = torch.stack([shifted, 2 * shifted])[:, None, :, None]
    assert band_log_power_loss(frames, twins, 128.0, bands, dim=2) < 1e-6
    for gain in (2.0, 4.0):  # power ratio gain^2 in every band: loss (2 ln gain)^2
        loss = band_log_power_loss(gain * frames, frames, 128.0, bands, dim=2)
        assert loss.item() == pytest.approx((2 * math.log(gain)) ** 2, rel=1e-4)


def test_band_log_power_of_a_sine_is_its_power_in_its_band_only():
    bands = (("theta", 4.0, 8.0), ("alpha", 8.0, 14.0))
    t = torch.arange(128) / 128.0
    x = torch.stack([3 * torch.sin(2 * math.pi * 10 * t), torch.sin(2 * math.pi * 5 * t)])  # (2 windows, 128)
    power = band_log_power(x, 128.0, bands).exp() - 1e-6  # (2, bands)
    # A sine of amplitude a on an FFT bin: |rfft|^2 / n = a^2 n / 4 at that bin, averaged over the band's bins.
    assert power[0].tolist() == pytest.approx([0.0, 9 * 128 / 4 / 6], abs=1e-3)
    assert power[1].tolist() == pytest.approx([128 / 4 / 4, 0.0], abs=1e-3)


def test_class_mean_loss_compares_class_means_only():
    real = torch.tensor([[0.0], [2.0], [10.0], [10.0]])
    y = torch.tensor([0, 0, 1, 1])
    swapped = real[[1, 0, 2, 3]]  # same class means, windows paired differently
    assert class_mean_loss(swapped, real, y) == 0
    shifted = real + torch.tensor([[1.0], [1.0], [-3.0], [-3.0]])  # class 0 mean off by 1, class 1 by 3
    assert class_mean_loss(shifted, real, y).item() == pytest.approx((1 + 9) / 2)
    # A class absent from the batch does not count: only class 1 here.
    assert class_mean_loss(shifted[2:], real[2:], y[2:]).item() == pytest.approx(9.0)
    # Pooled means may agree while class means differ: the loss sees it.
    crossed = real[[2, 3, 0, 1]]
    assert class_mean_loss(crossed, real, y) > 0
