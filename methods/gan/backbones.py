"""Conditional convolutional backbones of the baseline generators, for raw windows and DE grids alike.

Imported lazily by :mod:`methods.gan.conditional` (it imports torch). The window shape decides
the convolutions (:func:`window_geometry`):

- a raw window ``(channels, times)`` gets 1-D convolutions over time, its channels being the
  convolution channels;
- a DE grid ``(bands, 9, 9)`` gets 2-D convolutions over the grid, its bands being the
  convolution channels.

Every level halves each size (rounding up: 128 -> 64 -> 32 samples, 9 -> 5 -> 3 cells) with a
stride-2 convolution of odd kernel ``k`` and padding ``k // 2``; the decoders undo it with
stride-2 transposed convolutions called with ``output_size``, so any window length comes back
exactly. The class label enters as a learned embedding: broadcast as extra input channels of an
encoder, concatenated to the latent code of a decoder, added to the time embedding of the
denoiser (:class:`ConditionalUNet`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

GRID_KERNEL = 3
"""Kernel side of the 2-D convolutions over the 9x9 grid."""


@dataclass(frozen=True)
class Geometry:
    """What the convolutions of one window shape look like.

    Parameters
    ----------
    dim : {1, 2}
        1-D convolutions over time (raw windows) or 2-D over the grid (DE grids).
    channels : int
        Convolution channels of the window: EEG channels (raw) or DE bands (grid).
    sizes : tuple of tuple of int
        Spatial size at every level, ``sizes[0]`` the window's own ((times,) or (9, 9)), each next
        one halved and rounded up; ``len(sizes) == depth + 1``.
    kernel : int
        Odd kernel length (1-D) or side (2-D).
    """

    dim: int
    channels: int
    sizes: tuple[tuple[int, ...], ...]
    kernel: int

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def width_at(self, width: int, level: int) -> int:
        """Feature channels at ``level``: ``width`` at levels 0 and 1, doubling with every level below."""
        return width * 2 ** max(level - 1, 0)


def window_geometry(window_shape: tuple[int, ...], depth: int, time_kernel: int) -> Geometry:
    """The geometry of a raw window ``(channels, times)`` or a DE grid ``(bands, H, W)``.

    Parameters
    ----------
    window_shape : tuple of int
        Shape of one window (without the sample axis).
    depth : int
        Number of stride-2 levels (>= 1).
    time_kernel : int
        Odd kernel length of the 1-D convolutions over time; grids use 3x3.

    Returns
    -------
    Geometry
    """
    if len(window_shape) == 2:
        dim, kernel = 1, time_kernel
    elif len(window_shape) == 3:
        dim, kernel = 2, GRID_KERNEL
    else:
        raise ValueError(f"window_geometry: expected (channels, times) or (bands, H, W), got {window_shape}")
    sizes = [tuple(window_shape[1:])]
    for _ in range(depth):
        sizes.append(tuple(math.ceil(s / 2) for s in sizes[-1]))
    return Geometry(dim=dim, channels=window_shape[0], sizes=tuple(sizes), kernel=kernel)


def conv(geometry: Geometry, c_in: int, c_out: int, stride: int) -> nn.Module:
    """A ``Conv1d`` / ``Conv2d`` with the geometry's kernel and padding ``kernel // 2``."""
    cls = nn.Conv1d if geometry.dim == 1 else nn.Conv2d
    return cls(c_in, c_out, geometry.kernel, stride=stride, padding=geometry.kernel // 2)


def up_conv(geometry: Geometry, c_in: int, c_out: int) -> nn.Module:
    """A stride-2 transposed convolution; call it with ``output_size`` (it gives 2L - 1 or 2L)."""
    cls = nn.ConvTranspose1d if geometry.dim == 1 else nn.ConvTranspose2d
    return cls(c_in, c_out, geometry.kernel, stride=2, padding=geometry.kernel // 2)


def batch_norm(geometry: Geometry, channels: int) -> nn.Module:
    """``BatchNorm1d`` / ``BatchNorm2d`` over feature maps of the geometry."""
    return (nn.BatchNorm1d if geometry.dim == 1 else nn.BatchNorm2d)(channels)


def broadcast(v: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """Vectors (n, c) as constant maps (n, c, *size)."""
    return v.reshape(*v.shape, *[1] * len(size)).expand(*v.shape, *size)


class ConditionalEncoder(nn.Module):
    """(window, label) -> features: the cGAN discriminator, the WGAN critic, the VAE encoder.

    The label's embedding is broadcast as ``embed_dim`` extra input channels; ``depth`` stride-2
    convolutions with LeakyReLU(0.2) follow (DCGAN's discriminator, without BatchNorm so that the
    WGAN-GP penalty's per-sample gradients stay independent), then a linear layer.

    Parameters
    ----------
    geometry : Geometry
    width : int
        Channels of the first level; each further level doubles them.
    n_classes, embed_dim : int
        Label embedding table.
    out_features : int
        1 for a discriminator or critic, ``2 * latent_dim`` for a VAE encoder.
    """

    def __init__(self, geometry: Geometry, width: int, n_classes: int, embed_dim: int, out_features: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, embed_dim)
        layers: list[nn.Module] = []
        c_in = geometry.channels + embed_dim
        for level in range(1, geometry.depth + 1):
            c_out = geometry.width_at(width, level)
            layers += [conv(geometry, c_in, c_out, stride=2), nn.LeakyReLU(0.2)]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(c_in * math.prod(geometry.sizes[-1]), out_features)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Features (n, out_features) of windows ``x`` (n, channels, *size) with labels ``y`` (n,)."""
        return self.head(self.body(torch.cat([x, broadcast(self.embed(y), x.shape[2:])], dim=1)))


class ConditionalDecoder(nn.Module):
    """(latent code, label) -> window: the cGAN / WGAN generator and the VAE decoder (DCGAN's generator).

    ``[z, embed(y)]`` goes through a linear layer to the deepest level's map, then ``depth``
    stride-2 transposed convolutions with BatchNorm and ReLU up to the window's size, and a final
    convolution to the window's channels with a linear output (windows are standardised).

    Parameters
    ----------
    geometry : Geometry
    width : int
        Channels of the shallowest feature level; each deeper level doubles them.
    n_classes, embed_dim : int
        Label embedding table.
    latent_dim : int
        Length of the code ``z``.
    """

    def __init__(self, geometry: Geometry, width: int, n_classes: int, embed_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.geometry = geometry
        self.embed = nn.Embedding(n_classes, embed_dim)
        top = geometry.width_at(width, geometry.depth)
        self.top_shape = (top, *geometry.sizes[-1])
        self.project = nn.Linear(latent_dim + embed_dim, math.prod(self.top_shape))
        self.top_norm = nn.Sequential(batch_norm(geometry, top), nn.ReLU())
        self.ups = nn.ModuleList()
        self.norms = nn.ModuleList()
        for level in range(geometry.depth, 0, -1):
            c_out = geometry.width_at(width, level - 1)
            self.ups.append(up_conv(geometry, geometry.width_at(width, level), c_out))
            self.norms.append(nn.Sequential(batch_norm(geometry, c_out), nn.ReLU()))
        self.out = conv(geometry, width, geometry.channels, stride=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Windows (n, channels, *size) from codes ``z`` (n, latent_dim) and labels ``y`` (n,)."""
        h = self.top_norm(self.project(torch.cat([z, self.embed(y)], dim=1)).reshape(-1, *self.top_shape))
        for i, (up, norm) in enumerate(zip(self.ups, self.norms)):
            h = norm(up(h, output_size=self.geometry.sizes[self.geometry.depth - 1 - i]))
        return self.out(h)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of diffusion steps (Vaswani et al. 2017, as in Ho et al. 2020).

    Parameters
    ----------
    t : Tensor of int or float, shape (n,)
    dim : int
        Even embedding length.

    Returns
    -------
    Tensor, shape (n, dim)
        ``[cos(t f_0), ..., cos(t f_{dim/2-1}), sin(t f_0), ...]`` with ``f_i = max_period^(-2i/dim)``.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


class _CondBlock(nn.Module):
    """conv -> FiLM by the conditioning vector (``h * (1 + scale) + shift``, per channel) -> SiLU.

    No normalisation: the denoiser must see the scale of its input (at large t the input is almost
    pure noise of unit variance, at small t almost the clean window), which a per-sample GroupNorm
    would remove; the scale lets the time step set the gain (Nichol and Dhariwal's adaptive group
    norm, without the norm).
    """

    def __init__(self, layer: nn.Module, c_out: int, cond_dim: int) -> None:
        super().__init__()
        self.layer = layer
        self.film = nn.Linear(cond_dim, 2 * c_out)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, cond: torch.Tensor, **kwargs: object) -> torch.Tensor:
        h = self.layer(h, **kwargs)
        scale, shift = (broadcast(v, h.shape[2:]) for v in self.film(cond).chunk(2, dim=1))
        return self.act(h * (1 + scale) + shift)


class ConditionalUNet(nn.Module):
    """The diffusion model's denoiser f(x_t, t, y): a small U-Net over time or over the grid.

    An input convolution, ``depth`` stride-2 down blocks, one block at the deepest level, ``depth``
    up blocks (transposed convolution, concatenation with the encoder map of the same size,
    convolution) and an output convolution over the last map and the input window itself (so the
    prediction is not limited to ``width`` feature channels when the window has more). Every block
    scales and shifts its channels (FiLM) by ``time MLP(sinusoidal(t)) + embed(y)`` (Ho et al.
    2020's U-Net, much reduced: no residual blocks, no normalisation, no attention, one
    convolution per block, an input skip to the output).

    Parameters
    ----------
    geometry : Geometry
    width : int
        Channels of the shallowest level; each deeper level doubles them.
    n_labels : int
        Rows of the label embedding: the classes plus one "no label" row for classifier-free guidance.
    embed_dim : int
        Length of the conditioning vector.
    """

    def __init__(self, geometry: Geometry, width: int, n_labels: int, embed_dim: int) -> None:
        super().__init__()
        self.geometry, self.embed_dim = geometry, embed_dim
        self.time = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))
        self.label = nn.Embedding(n_labels, embed_dim)
        widths = [geometry.width_at(width, level) for level in range(geometry.depth + 1)]
        self.inp = _CondBlock(conv(geometry, geometry.channels, width, 1), width, embed_dim)
        self.downs = nn.ModuleList(_CondBlock(conv(geometry, widths[lv - 1], widths[lv], 2), widths[lv], embed_dim)
                                   for lv in range(1, geometry.depth + 1))
        self.mid = _CondBlock(conv(geometry, widths[-1], widths[-1], 1), widths[-1], embed_dim)
        self.ups = nn.ModuleList(_CondBlock(up_conv(geometry, widths[lv], widths[lv - 1]), widths[lv - 1], embed_dim)
                                 for lv in range(geometry.depth, 0, -1))
        self.merges = nn.ModuleList(_CondBlock(conv(geometry, 2 * widths[lv - 1], widths[lv - 1], 1), widths[lv - 1],
                                               embed_dim) for lv in range(geometry.depth, 0, -1))
        self.out = conv(geometry, width + geometry.channels, geometry.channels, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The prediction (n, channels, *size) for noisy windows ``x`` at steps ``t`` (n,) with labels ``y`` (n,).

        What is predicted (the noise, the clean window, the velocity) is the training loss's choice.
        """
        cond = self.time(timestep_embedding(t, self.embed_dim)) + self.label(y)
        skips = [self.inp(x, cond)]
        for down in self.downs:
            skips.append(down(skips[-1], cond))
        h = self.mid(skips.pop(), cond)
        for up, merge in zip(self.ups, self.merges):
            skip = skips.pop()
            h = merge(torch.cat([up(h, cond, output_size=skip.shape[2:]), skip], dim=1), cond)
        return self.out(torch.cat([h, x], dim=1))
