"""Wasserstein GAN losses with gradient penalty (WGAN-GP), as small functions of tensors.

Used by DE-3DGAN's stage 1 (the reference's ``3D-UNet_GAN_Valence.py``): ``L_D = critic_loss + w_gp * gradient_penalty``
and ``L_G = generator_adversarial_loss + w_rec * MSE``. The critic's scores are unbounded (no
sigmoid). The penalty is Gulrajani et al., "Improved Training of Wasserstein GANs" (NeurIPS 2017),
as the reference code ``gradient_penalty`` in ``3D-UNet_GAN_Valence.py`` at ``442b7e2`` computes it,
except that its interpolation weights come from a given generator instead of the global RNG.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     gen: torch.Generator) -> torch.Tensor:
    """Two-sided WGAN-GP penalty ``mean_i (||grad_x critic(x_hat_i)||_2 - 1)^2``.

    ``x_hat_i = eps_i * real_i + (1 - eps_i) * fake_i`` with one ``eps_i ~ U(0, 1)`` per sample; the
    gradient norm of each sample is taken over all its non-batch dimensions. ``real`` and ``fake``
    are detached; the graph through the critic is kept (``create_graph=True``), so the penalty
    back-propagates into the critic's parameters.

    Parameters
    ----------
    critic : callable
        Maps a batch (n, ...) to scores of shape (n,) or (n, 1); samples must not interact (e.g. a
        critic with BatchNorm in training mode breaks the per-sample gradient).
    real, fake : Tensor, shape (n, ...)
        E.g. 1-s frames (n, 128, 9, 9).
    gen : torch.Generator
        Source of the interpolation weights, drawn on the generator's device.

    Returns
    -------
    Tensor, shape ()
    """
    eps = torch.rand(real.shape[0], generator=gen, device=gen.device, dtype=real.dtype).to(real.device)
    eps = eps.reshape(-1, *[1] * (real.ndim - 1))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores, x_hat, grad_outputs=torch.ones_like(scores), create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic's Wasserstein loss ``mean(fake_scores) - mean(real_scores)`` (without the penalty)."""
    return fake_scores.mean() - real_scores.mean()


def generator_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator's Wasserstein loss ``-mean(fake_scores)``."""
    return -fake_scores.mean()
