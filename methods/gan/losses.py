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


def band_log_power(x: torch.Tensor, sfreq: float, bands: tuple[tuple[str, float, float], ...],
                   dim: int = -1) -> torch.Tensor:
    """Natural log of the mean periodogram in each band, the time axis replaced by a last band axis.

    Parameters
    ----------
    x : Tensor, time along ``dim``
        For example windows (n, channels, n_times) or frames (b, T, n_times, H, W) with ``dim=2``.
    sfreq : float
        Sampling rate, Hz.
    bands : tuple of (name, low_hz, high_hz)
        Power is the mean periodogram ``|rfft|^2 / n_times`` over the bins with low <= f < high.
    dim : int
        The time axis.

    Returns
    -------
    Tensor, shape ``x.shape`` without ``dim``, plus ``(len(bands),)``
        ``log(P + 1e-6)``.
    """
    n = x.shape[dim]
    freqs = torch.fft.rfftfreq(n, 1.0 / sfreq).to(x.device)
    spec = torch.fft.rfft(x, dim=dim).abs().square().movedim(dim, -1)
    select = torch.stack([(freqs >= lo) & (freqs < hi) for _, lo, hi in bands]).to(spec.dtype)  # (bands, bins)
    select = select / select.sum(dim=1, keepdim=True)
    return torch.log(torch.tensordot(spec, select.T, dims=1) / n + 1e-6)


def band_log_power_loss(fake: torch.Tensor, real: torch.Tensor, sfreq: float,
                        bands: tuple[tuple[str, float, float], ...], dim: int = -1) -> torch.Tensor:
    """Mean squared difference of log band power between two batches of paired signals (phase-free).

    A deterministic generator trained with sample-wise MSE alone converges to the conditional
    mean of signals whose phase its input does not determine, i.e. towards zero power; this loss
    compares only each signal's power per band (:func:`band_log_power`), so it rewards the right
    amplitude whatever the phase (the idea of the spectral losses of neural vocoders, e.g.
    Yamamoto et al. 2020).

    Parameters
    ----------
    fake, real : Tensor, same shape, time along ``dim``
    sfreq, bands, dim
        As for :func:`band_log_power`.

    Returns
    -------
    Tensor, scalar
        Mean over bands and all other positions of (log P_fake - log P_real)^2.
    """
    return F.mse_loss(band_log_power(fake, sfreq, bands, dim), band_log_power(real, sfreq, bands, dim))


def class_mean_loss(fake: torch.Tensor, real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared distance between the class means of two equally labelled batches of features.

    Moment matching on fixed features, the idea of Salimans et al.'s feature matching ("Improved
    Techniques for Training GANs", NeurIPS 2016) with given features instead of the
    discriminator's, per class.

    Parameters
    ----------
    fake, real : Tensor, shape (n, ...)
        Features of generated and real windows; window i of both has label ``y[i]``.
    y : Tensor of int64, shape (n,)

    Returns
    -------
    Tensor, scalar
        Mean over the classes present and over the feature positions of
        ``(mean fake_c - mean real_c)^2``.
    """
    onehot = F.one_hot(y).to(fake.dtype)
    counts = onehot.sum(dim=0)
    present = counts > 0
    weights = onehot[:, present] / counts[present]  # (n, classes present)
    gap = torch.tensordot(weights.T, fake - real, dims=1)  # (classes present, ...)
    return gap.square().mean()
