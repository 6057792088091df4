"""ESC-GAN's networks: the EEG-editing generator and the two-headed discriminator.

Imported lazily by :mod:`methods.escgan` (it imports torch). Architecture: reference code ``models/generator.py`` and ``models/discriminator.py`` at ``f13a724``.
"""

from __future__ import annotations

import torch
from torch import nn

from bench.classifiers.esc_cnn import grid_trunk, mlp_head

LATENT_GRID = 3
"""Side of the encoder's latent map for a 9x9 input (two stride-2 convolutions)."""


def _up(c_in: int, c_out: int, stride: int) -> nn.ConvTranspose2d:
    # 3x3, padding 1: stride 2 maps 3 -> 5 -> 9, stride 1 keeps the size.
    return nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=stride, padding=1)


class EditingGenerator(nn.Module):
    """G(e, t): encode a reference DE grid, gate its latent by the target class, decode, mask.

    Parameters
    ----------
    in_channels : int
        Bands of the DE grid (5).
    h : int
        Width: encoder h, 2h, 2h, 4h; latent ``4h x 3 x 3`` (512 x 3 x 3 at h = 128).
    n_classes : int
    mask : Tensor, shape (9, 9)
        Output mask (1 inside the electrode hull).
    """

    def __init__(self, in_channels: int, h: int, n_classes: int, mask: torch.Tensor) -> None:
        super().__init__()
        self.encoder = grid_trunk(in_channels, h, nn.LeakyReLU, kaiming=False)
        self.latent_shape = (4 * h, LATENT_GRID, LATENT_GRID)
        self.control = nn.Embedding(n_classes, 4 * h * LATENT_GRID * LATENT_GRID)
        self.decoder = nn.Sequential(
            _up(4 * h, 2 * h, 2), nn.BatchNorm2d(2 * h), nn.LeakyReLU(),
            _up(2 * h, 2 * h, 1), nn.BatchNorm2d(2 * h), nn.LeakyReLU(),
            _up(2 * h, h, 2), nn.BatchNorm2d(h), nn.LeakyReLU(),
            _up(h, in_channels, 1), nn.LeakyReLU(),
        )
        self.register_buffer("mask", mask.float())

    def forward(self, e: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edit references ``e`` (n, B, 9, 9) towards classes ``t`` (n,).

        Returns
        -------
        x_hat : Tensor, shape (n, B, 9, 9)
        z : Tensor, shape (n, 4h, 3, 3)
            The references' latents before the class gating (used by the diversity loss).
        """
        z = self.encoder(e)
        gate = self.control(t).view(-1, *self.latent_shape)
        return self.decoder(z * gate) * self.mask, z


class TwoHeadDiscriminator(nn.Module):
    """D(x) = (R, C): a shared conv trunk, a real/fake logit R and class logits C.

    Parameters
    ----------
    in_channels, h, n_classes : int
    mlp_hidden : int
        Width of both heads' hidden layers (1024 in the reference).
    dropout : float
        Dropout in both heads (0.3 in the reference).
    """

    def __init__(self, in_channels: int, h: int, n_classes: int, mlp_hidden: int, dropout: float) -> None:
        super().__init__()
        self.trunk = grid_trunk(in_channels, h, nn.LeakyReLU, kaiming=True)
        n_features = 4 * h * LATENT_GRID * LATENT_GRID
        self.real_fake = mlp_head(n_features, mlp_hidden, 1, nn.LeakyReLU, dropout)
        self.classes = mlp_head(n_features, mlp_hidden, n_classes, nn.LeakyReLU, dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits R (n,) (real = 0, fake = 1 convention) and C (n, n_classes) of grids (n, B, 9, 9)."""
        features = self.trunk(x)
        return self.real_fake(features).reshape(-1), self.classes(features)
