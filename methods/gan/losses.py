"""GAN losses as small pure functions of tensors (no module state, no randomness inside).

Conventions follow ESC-GAN's reference code where it defines them: the real/fake head is
trained with binary cross-entropy on logits, with **real = 0 and fake = 1** (a smoothed fake
target such as 0.85 is passed as ``target``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def reconstruction_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``||x - x_rec||^2 / numel`` (ESC-GAN's identity edit ``G(e, y)``)."""
    return F.mse_loss(x_rec, x)


def adversarial_loss(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of real/fake logits (shape (n,) or (n, 1)) against a constant target.

    With the real = 0 convention, the generator's non-saturating loss is
    ``adversarial_loss(R(G(e, t)), 0.0)`` and the discriminator's fake term
    ``adversarial_loss(R(x_fake), 0.85)`` (label smoothing).
    """
    logits = logits.reshape(-1)
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


def diversity_loss(x_hat: torch.Tensor, z: torch.Tensor, perm: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """ESC-GAN's diversity-aware loss over pairs (i, perm[i]).

    ``mean_i exp(-mean|x_hat_i - x_hat_perm(i)| / (mean|z_i - z_perm(i)| + eps))``: small when the
    edits of two references differ at least as much as the references' latents do.

    Parameters
    ----------
    x_hat : Tensor, shape (n, ...)
        Edited samples.
    z : Tensor, shape (n, ...)
        Encoder latents of the references (before label modulation).
    perm : Tensor of int64, shape (n,)
        The pairing, a permutation of the batch.
    """
    dx = (x_hat - x_hat[perm]).abs().flatten(1).mean(dim=1)
    dz = (z - z[perm]).abs().flatten(1).mean(dim=1)
    return torch.exp(-dx / (dz + eps)).mean()


def boundary_loss(logits: torch.Tensor) -> torch.Tensor:
    """ESC-GAN's boundary-aware loss ``KL(U || softmax(logits))``, batch mean.

    Zero exactly when the class head is uniform (the decision boundary), positive otherwise.

    Parameters
    ----------
    logits : Tensor, shape (n, n_classes)
    """
    n_classes = logits.shape[1]
    log_p = F.log_softmax(logits, dim=1)
    return (-math.log(n_classes) - log_p).mean(dim=1).mean()


def class_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of class logits (n, n_classes) against integer targets (n,)."""
    return F.cross_entropy(logits, target)


def band_log_power_loss(fake: torch.Tensor, real: torch.Tensor, sfreq: float,
                        bands: tuple[tuple[str, float, float], ...], dim: int = -1) -> torch.Tensor:
    """Mean squared difference of log band power between two batches of signals (phase-free).

    A deterministic generator trained with sample-wise MSE alone converges to the conditional
    mean of signals whose phase its input does not determine, i.e. towards zero power; this loss
    compares only each signal's power per band, so it rewards the right amplitude whatever the
    phase (the idea of the spectral losses of neural vocoders, e.g. Yamamoto et al. 2020).

    Parameters
    ----------
    fake, real : Tensor, same shape, time along ``dim``
        For example frames (b, T, n_times, H, W) with ``dim=2``.
    sfreq : float
        Sampling rate, Hz.
    bands : tuple of (name, low_hz, high_hz)
        Power is the mean periodogram over the FFT bins with low <= f < high.
    dim : int
        The time axis.

    Returns
    -------
    Tensor, scalar
        Mean over bands and all other positions of (log(P_fake + 1e-6) - log(P_real + 1e-6))^2.
    """
    n = fake.shape[dim]
    freqs = torch.fft.rfftfreq(n, 1.0 / sfreq).to(fake.device)
    spec_fake = torch.fft.rfft(fake, dim=dim).abs().square()
    spec_real = torch.fft.rfft(real, dim=dim).abs().square()
    select = torch.stack([(freqs >= lo) & (freqs < hi) for _, lo, hi in bands]).to(fake.dtype)  # (bands, bins)
    select = select / select.sum(dim=1, keepdim=True)
    power_fake = torch.tensordot(spec_fake.movedim(dim, -1), select.T, dims=1) / n
    power_real = torch.tensordot(spec_real.movedim(dim, -1), select.T, dims=1) / n
    return F.mse_loss(torch.log(power_fake + 1e-6), torch.log(power_real + 1e-6))
