"""WGAN-GP losses of methods.gan.penalties on critics whose gradient is known."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from methods.gan.penalties import critic_loss, generator_adversarial_loss, gradient_penalty

FRAME = (128, 9, 9)


def _frames(seed: int, n: int = 6) -> torch.Tensor:
    return torch.randn(n, *FRAME, generator=torch.Generator().manual_seed(seed))


def _unit(seed: int = 0) -> torch.Tensor:
    w = torch.randn(*FRAME, generator=torch.Generator().manual_seed(seed))
    return w / w.norm()


class Linear(nn.Module):
    """x -> <w, x> per sample: its input gradient is w everywhere, so GP = (||w|| - 1)^2."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.w * x).flatten(1).sum(dim=1)


def _nonlinear_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(128, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 7 * 7, 1))


def test_penalty_vanishes_for_a_1_lipschitz_linear_critic():
    gp = gradient_penalty(Linear(_unit()), _frames(1), _frames(2), torch.Generator().manual_seed(0))
    assert gp.shape == ()
    assert gp.item() < 1e-10


@pytest.mark.parametrize("norm", [2.0, 0.5])
def test_penalty_of_a_linear_critic_is_the_squared_distance_of_its_norm_from_one(norm):
    gp = gradient_penalty(Linear(norm * _unit()), _frames(1), _frames(2), torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx((norm - 1) ** 2, rel=1e-5)


def test_penalty_back_propagates_into_the_critic():
    critic = Linear(2.0 * _unit())
    gradient_penalty(critic, _frames(1), _frames(2), torch.Generator().manual_seed(0)).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = w at ||w|| = 2.
    torch.testing.assert_close(critic.w.grad, critic.w.detach())
    deep = _nonlinear_critic()
    gradient_penalty(deep, _frames(1), _frames(2), torch.Generator().manual_seed(0)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in deep[0].parameters())


def test_inputs_get_no_gradient():
    real, fake = _frames(1).requires_grad_(), _frames(2).requires_grad_()
    gradient_penalty(Linear(2.0 * _unit()), real, fake, torch.Generator().manual_seed(0)).backward()
    assert real.grad is None and fake.grad is None


def test_interpolates_use_one_uniform_weight_per_sample_drawn_from_the_generator():
    seen = []

    def critic(x):
        seen.append(x.detach())
        return x.flatten(1).sum(dim=1)

    n = 8
    gradient_penalty(critic, torch.ones(n, *FRAME), torch.zeros(n, *FRAME), torch.Generator().manual_seed(5))
    (x_hat,) = seen
    eps = x_hat[:, 0, 0, 0]
    assert (x_hat == eps.reshape(n, 1, 1, 1)).all()  # eps * 1 + (1 - eps) * 0, constant per sample
    torch.testing.assert_close(eps, torch.rand(n, generator=torch.Generator().manual_seed(5)))


def test_penalty_is_deterministic_given_the_seed_and_leaves_the_global_rng_alone():
    critic, real, fake = _nonlinear_critic(), _frames(1), _frames(2)
    state = torch.get_rng_state()
    values = [gradient_penalty(critic, real, fake, torch.Generator().manual_seed(seed)).item() for seed in (3, 3, 4)]
    assert values[0] == values[1]
    assert values[0] != values[2]
    assert torch.equal(torch.get_rng_state(), state)


def test_wasserstein_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([[0.5], [-1.5]])
    assert critic_loss(real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert generator_adversarial_loss(fake).item() == pytest.approx(0.5)
