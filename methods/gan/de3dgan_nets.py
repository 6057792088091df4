"""DE-3DGAN's stage-1 generator (a residual 3-D U-Net, DE video -> raw-EEG video) and its normaliser.

Imported lazily by the DE-3DGAN method (it imports torch). Architecture: reference code ``3D-UNet_GAN_Valence.py`` (``Generator3D_UNet``, ``ResidualConv3d``,
``robust_norm``) at ``442b7e2``. Module and attribute names follow the reference, so a reference
``state_dict`` loads unchanged.

Notes
-----
Deviations from the reference code, both generalisations that leave DEAP's computation unchanged:

- **Any trial length.** The reference hard-codes ``output_padding=(0, 1, 1)`` on ``up1`` and an
  output length ``time_len=60``, which only fits 2T = 120 windows on a 9x9 grid. Here every
  transposed convolution is given ``output_size=skip.shape[2:]``, the size of the encoder map it is
  concatenated with, and the output length is half the number of input windows. For 2T = 120, 9x9
  the resulting output paddings are (0, 0, 0), (0, 0, 0), (0, 1, 1), exactly the reference's.
- **Explicit output mask.** The reference multiplies the output by a mask derived from its input
  (cells whose DE is non-zero over bands and windows); after the per-batch :func:`robust_norm`
  that mask is all ones (the reference's ``3D-UNet_GAN_Valence.py``). ``forward(de, mask)`` takes the mask as an
  argument: the method passes the dataset's electrode cells so empty cells are exactly zero, as
  in real frames; ``mask=None`` keeps the reference's input-derived mask.

With ``in_bands=4, base=32, samples_per_second=128`` the generator has 5,694,049 parameters, the
reference's count (``3D-UNet_GAN_Valence.py``): convolutions in the residual blocks have no bias, the transposed
convolutions and the 1x1x1 head do, BatchNorm is affine, plus the scalar ``alpha``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import ConfigError

MIN_SIZE = 2 ** 3
"""Smallest window count and grid side the encoder's three ``MaxPool3d(2)`` steps leave non-empty."""


class ResidualConv3d(nn.Module):
    """Two 3x3x3 conv-BN layers with a SELU between, plus a 1x1x1 projected skip, then SELU.

    ``SELU(BN(conv(SELU(BN(conv(x))))) + conv1x1(x))``; no convolution has a bias (``3D-UNet_GAN_Valence.py``).

    Parameters
    ----------
    in_ch, out_ch : int
        Channels in and out; the spatial and time sizes are kept (padding 1).
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv3d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm3d(out_ch), nn.SELU(),
            nn.Conv3d(out_ch, out_ch, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm3d(out_ch),
        )
        self.skip = nn.Conv3d(in_ch, out_ch, kernel_size=1, bias=False)
        self.act = nn.SELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (n, in_ch, D, H, W) to (n, out_ch, D, H, W)."""
        return self.act(self.conv(x) + self.skip(x))


class UNet3DGenerator(nn.Module):
    """DE-3DGAN's deterministic generator: a trial's DE video to its raw-EEG video (``3D-UNet_GAN_Valence.py``).

    Encoder ``enc1..enc4`` (base, 2, 4, 8 x base channels) with ``MaxPool3d(2)`` between; decoder
    ``up3/dec3, up2/dec2, up1/dec1`` (``ConvTranspose3d(k=2, s=2)``, concatenation with the encoder
    map of the same level, :class:`ResidualConv3d`); head ``out``, a 1x1x1 convolution to
    ``samples_per_second`` channels, trilinear interpolation from 2T windows to T seconds (for the
    exact x2 reduction: the mean of the two half-second windows of each second), a learnable
    scalar ``alpha`` (initialised to 1) and a spatial mask. No noise and no label input.

    Parameters
    ----------
    in_bands : int
        DE bands, the input channels (4).
    base : int
        Channels of the first encoder level (32 in the reference).
    samples_per_second : int
        Raw samples per 1-s frame, the head's output channels (128 at DEAP's 128 Hz).

    Notes
    -----
    Each transposed convolution is called with ``output_size`` equal to its skip connection's size,
    so any even window count 2T >= 8 and any grid of side >= 8 work (the reference's fixed
    ``output_padding=(0, 1, 1)`` fits only 2T = 120 on 9x9 and is reproduced exactly there); see the
    module docstring for this and for the explicit mask.
    """

    def __init__(self, in_bands: int = 4, base: int = 32, samples_per_second: int = 128) -> None:
        super().__init__()
        self.enc1 = ResidualConv3d(in_bands, base)
        self.enc2 = ResidualConv3d(base, 2 * base)
        self.enc3 = ResidualConv3d(2 * base, 4 * base)
        self.enc4 = ResidualConv3d(4 * base, 8 * base)
        self.pool = nn.MaxPool3d(2)
        self.up3 = nn.ConvTranspose3d(8 * base, 4 * base, kernel_size=2, stride=2)
        self.dec3 = ResidualConv3d(8 * base, 4 * base)
        self.up2 = nn.ConvTranspose3d(4 * base, 2 * base, kernel_size=2, stride=2)
        self.dec2 = ResidualConv3d(4 * base, 2 * base)
        self.up1 = nn.ConvTranspose3d(2 * base, base, kernel_size=2, stride=2)
        self.dec1 = ResidualConv3d(2 * base, base)
        self.out = nn.Conv3d(base, samples_per_second, kernel_size=1)
        self.alpha = nn.Parameter(torch.tensor(1.0))

    def features(self, de: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every U-Net map of a DE video, by attribute name (``enc1`` ... ``enc4``, ``dec3`` ... ``dec1``).

        Parameters
        ----------
        de : Tensor, shape (n, in_bands, 2T, H, W)

        Returns
        -------
        dict of str to Tensor
            ``enc1`` (n, base, 2T, H, W); each deeper ``enc`` halves (floors) every size and doubles
            the channels; ``dec3``, ``dec2``, ``dec1`` have the sizes of ``enc3``, ``enc2``, ``enc1``.
        """
        maps = {"enc1": self.enc1(de)}
        for level in (2, 3, 4):
            maps[f"enc{level}"] = getattr(self, f"enc{level}")(self.pool(maps[f"enc{level - 1}"]))
        below = maps["enc4"]
        for level in (3, 2, 1):
            skip = maps[f"enc{level}"]
            up = getattr(self, f"up{level}")(below, output_size=skip.shape[2:])
            below = maps[f"dec{level}"] = getattr(self, f"dec{level}")(torch.cat([up, skip], dim=1))
        return maps

    def forward(self, de: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Translate DE videos into raw-EEG videos.

        Parameters
        ----------
        de : Tensor, shape (n, in_bands, 2T, H, W)
            DE of 2T half-second windows on the electrode grid (H = W = 9), T >= 4.
        mask : Tensor of bool or float, shape (H, W), optional
            Output cells to keep, e.g. the grid's electrode cells; the output is exactly 0 elsewhere.
            None: the reference's input-derived mask, per sample the cells where
            ``|de|`` summed over bands and windows is non-zero (all ones after :func:`robust_norm`).

        Returns
        -------
        Tensor, shape (n, T, samples_per_second, H, W)
            T one-second raw frames per trial.
        """
        _check_input(de, mask)
        n_windows, height, width = de.shape[2:]
        video = self.out(self.features(de)["dec1"])  # (n, S, 2T, H, W)
        video = F.interpolate(video, size=(n_windows // 2, height, width), mode="trilinear", align_corners=False)
        video = video.permute(0, 2, 1, 3, 4) * self.alpha  # (n, T, S, H, W)
        if mask is None:
            mask = de.abs().sum(dim=(1, 2), keepdim=True) > 0  # (n, 1, 1, H, W)
        return video * mask.to(video)


def _check_input(de: torch.Tensor, mask: torch.Tensor | None) -> None:
    if de.ndim != 5 or de.shape[2] % 2 or min(de.shape[2:]) < MIN_SIZE:
        raise ConfigError(f"UNet3DGenerator: de must be (n, bands, 2T, H, W) with an even number 2T >= {MIN_SIZE} "
                          f"of half-second windows and H, W >= {MIN_SIZE}, got {tuple(de.shape)}; pass whole trials "
                          f"of at least {MIN_SIZE // 2} s on the 9x9 grid")
    if mask is not None and tuple(mask.shape) != tuple(de.shape[3:]):
        raise ConfigError(f"UNet3DGenerator: mask must have the grid's shape {tuple(de.shape[3:])}, got "
                          f"{tuple(mask.shape)}; pass the (H, W) electrode-cell mask or None")


def robust_norm(x: torch.Tensor, low: float = 1.0, high: float = 99.0,
                eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reference's per-tensor normalisation: clip to percentiles, then z-score (``3D-UNet_GAN_Valence.py``).

    ``c = clip(x, P_low(x), P_high(x))``; ``x_norm = (c - mean(c)) / (std(c) + eps)`` with scalar
    statistics over the whole tensor (e.g. a whole batch of trials) and the unbiased standard
    deviation, as ``torch.Tensor.std`` in the reference.

    Parameters
    ----------
    x : Tensor of float, any shape
    low, high : float
        Clipping percentiles, in percent (0 <= low <= high <= 100), interpolated linearly between
        order statistics as ``torch.quantile`` does; unlike it, any size of tensor works.
    eps : float
        Added to the standard deviation.

    Returns
    -------
    x_norm : Tensor, shape of ``x``
    mean, std : Tensor, shape ()
        ``mean(c)`` and ``std(c) + eps``: ``x_norm * std + mean`` recovers ``x`` wherever ``x`` lies
        within the percentiles (the clipped value elsewhere).
    """
    if not 0 <= low <= high <= 100:
        raise ConfigError(f"robust_norm: percentiles must satisfy 0 <= low <= high <= 100, got low={low!r}, "
                          f"high={high!r}; e.g. low=1, high=99")
    low_value, high_value = _percentiles(x.detach().flatten(), (low, high))
    clipped = x.clamp(low_value, high_value)
    mean, std = clipped.mean(), clipped.std() + eps
    return (clipped - mean) / std, mean, std


def _percentiles(flat: torch.Tensor, qs: tuple[float, ...]) -> list[torch.Tensor]:
    """Percentiles ``qs`` of a 1-D tensor, interpolated linearly between order statistics.

    ``torch.quantile``'s default rule, by one selection of all the order statistics needed
    (``numpy.partition``, several times faster than a ``kthvalue`` per statistic on CPU) instead
    of a full sort, and without ``torch.quantile``'s limit of 2**24 elements (a batch of long SEED
    trials exceeds it). Returns 0-d tensors of ``flat``'s dtype on its device.
    """
    last = flat.numel() - 1
    positions = [q / 100 * last for q in qs]
    orders = sorted({k for p in positions for k in (int(p), min(int(p) + 1, last))})
    values = np.partition(flat.cpu().numpy(), orders)
    return [torch.tensor(values[int(p)] + (p - int(p)) * (values[min(int(p) + 1, last)] - values[int(p)]),
                         dtype=flat.dtype, device=flat.device) for p in positions]
