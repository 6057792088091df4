"""``ddpm``: a small class-conditional denoising diffusion model with a cosine schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.errors import ConfigError
from bench.registry import METHODS
from methods.gan.conditional import ConditionalGenerator, GeneratorConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from methods.gan.backbones import Geometry


def cosine_alpha_bar(n_steps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol and Dhariwal's cosine noise schedule: ``alpha_bar_t`` for t = 1 .. T.

    ``f(t) = cos((t / T + s) / (1 + s) * pi / 2)^2``, ``beta_t = min(1 - f(t) / f(t - 1), max_beta)``
    and ``alpha_bar_t = prod_{i <= t} (1 - beta_i)``.

    Parameters
    ----------
    n_steps : int
        T, the number of diffusion steps.
    s : float
        Offset that keeps ``beta_1`` from being vanishingly small (0.008).
    max_beta : float
        Clip of ``beta_t`` that avoids the singularity at t = T (0.999).

    Returns
    -------
    ndarray of float64, shape (n_steps,)
        Strictly decreasing, from just below 1 to about 0.
    """
    t = np.arange(n_steps + 1) / n_steps
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = np.minimum(1 - f[1:] / f[:-1], max_beta)
    return np.cumprod(1 - betas)


def ddim_steps(n_steps: int, sample_steps: int) -> np.ndarray:
    """The time indices a sampler visits, from T - 1 down to 0, ``sample_steps`` of them evenly spaced.

    Returns
    -------
    ndarray of int64, shape (min(sample_steps, n_steps),), strictly decreasing, first T - 1, last 0
    """
    return np.unique(np.round(np.linspace(0, n_steps - 1, min(sample_steps, n_steps))).astype(np.int64))[::-1]


@dataclass(frozen=True)
class DdpmConfig(GeneratorConfig):
    """DDPM settings; the defaults (``paper`` profile) are Ho et al.'s training with Nichol and Dhariwal's schedule.

    Parameters
    ----------
    n_steps : int
        Diffusion steps T of the forward process (1000).
    sample_steps : int
        Steps of the sampler; ``n_steps`` with ``eta=1`` is DDPM's ancestral sampling, fewer are
        DDIM's strided sampling (Song et al. 2021).
    eta : float
        DDIM's stochasticity: 0 deterministic, 1 the DDPM posterior variance.
    p_uncond : float
        Probability of training on the "no label" token (classifier-free guidance; 0 switches it off).
    guidance : float
        Guidance weight w: ``v = (1 + w) v(x, y) - w v(x, none)`` (the same combination of eps);
        0 is plain conditional sampling.
    clip : float
        The predicted clean window is clipped to ``[-clip, clip]`` standardised units at every
        sampling step (DDPM clips images to [-1, 1]).
    spectral_every : int
        With the spectral moment term on (``w_spectral`` > 0 on raw windows, ``w_spectral_grid``
        > 0 on grids): every ``spectral_every``-th update also runs the sampler, with gradients,
        for the batch's labels and adds the term between its samples and the batch (see
        :class:`ConditionalDdpm`, Notes).

    The other fields are :class:`~methods.gan.conditional.GeneratorConfig`'s; Adam at 2e-4
    with betas (0.9, 0.999); ``embed_dim`` (even) is the length of the time and label embedding.
    """

    embed_dim: int = 64
    beta1: float = 0.9
    n_steps: int = 1000
    sample_steps: int = 1000
    eta: float = 1.0
    p_uncond: float = 0.1
    guidance: float = 1.0
    clip: float = 6.0
    spectral_every: int = 8

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = GeneratorConfig.POSITIVE_INTS + ("n_steps", "sample_steps",
                                                                                "spectral_every")
    POSITIVE_FLOATS: ClassVar[tuple[str, ...]] = GeneratorConfig.POSITIVE_FLOATS + ("clip",)
    ALGORITHM: ClassVar[tuple[str, ...]] = GeneratorConfig.ALGORITHM + ("n_steps", "eta", "p_uncond", "guidance",
                                                                        "clip", "spectral_every")
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"width": 16, "embed_dim": 32, "epochs": 80, "batch_size": 32, "lr": 1e-3, "sample_steps": 20,
                  "patience": 6, "eval_every": 2, "fit_budget_s": 100.0},
        "paper": {},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.embed_dim % 2:
            raise ConfigError(f"DdpmConfig.embed_dim must be even (sinusoidal time embedding), got {self.embed_dim!r}")
        for name, value, low, high in (("eta", self.eta, 0, 1), ("p_uncond", self.p_uncond, 0, 1)):
            if not low <= value <= high:
                raise ConfigError(f"DdpmConfig.{name} must be in [{low}, {high}], got {value!r}")
        if not self.guidance >= 0:
            raise ConfigError(f"DdpmConfig.guidance must be >= 0, got {self.guidance!r}; 0 switches guidance off")
        if self.guidance > 0 and self.p_uncond == 0:
            raise ConfigError("DdpmConfig: guidance > 0 needs an unconditional model, trained with p_uncond > 0; "
                              "set p_uncond (e.g. 0.1) or guidance=0")

    @classmethod
    def tiny(cls) -> DdpmConfig:
        return cls.for_profile("quick", {"width": 4, "embed_dim": 8, "epochs": 1, "batch_size": 16, "sample_steps": 3})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rate, guidance weight, label dropout, width and epochs."""
        return {
            "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
            "guidance": trial.suggest_float("guidance", 0.0, 4.0),
            "p_uncond": trial.suggest_float("p_uncond", 0.05, 0.3),
            "width": trial.suggest_categorical("width", [16, 32, 64]),
            "epochs": trial.suggest_int("epochs", 10, 300, log=True),
        }


@METHODS.register("ddpm")
class ConditionalDdpm(ConditionalGenerator):
    """Conditional DDPM: a U-Net learns to denoise windows of each class; samples are denoised pure noise.

    Training draws a step t uniformly from 1..T and noise eps, forms
    ``x_t = sqrt(alpha_bar_t) x + sqrt(1 - alpha_bar_t) eps`` with the cosine schedule
    (:func:`cosine_alpha_bar`) and minimises ``|v - v_theta(x_t, t, y)|^2`` for the velocity
    ``v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x`` (from which the noise and the clean
    window follow linearly); with probability
    ``p_uncond`` the label is replaced by a "no label" token, so the same network is also an
    unconditional model. Sampling starts from N(0, I) and runs the DDIM update over
    ``sample_steps`` evenly spaced steps (:func:`ddim_steps`), with the classifier-free guided
    prediction ``(1 + w) v(x, y) - w v(x, none)``. With ``sample_steps = n_steps`` and ``eta = 1``
    (the ``paper`` profile) this is DDPM's ancestral sampler; the ``quick`` profile takes 20
    deterministic DDIM steps (``eta = 0``).

    Ho, Jain and Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020; Nichol and
    Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021 (cosine schedule);
    Ho and Salimans, "Classifier-Free Diffusion Guidance", NeurIPS 2021 workshop / arXiv:2207.12598,
    2022; Song, Meng and Ermon, "Denoising Diffusion Implicit Models", ICLR 2021 (few-step sampling).

    Input: ``raw`` windows (n, channels, times) or ``de-grid`` windows (n, bands, 9, 9), as
    ``representation`` says (``auto``: whatever the classifier needs).

    Notes
    -----
    Deviations from the papers:

    - The noise predictor is a small U-Net (:class:`~methods.gan.backbones.ConditionalUNet`): one
      convolution per block, no residual blocks and no attention, 1-D over time for raw windows
      and 2-D over the grid for DE grids.
    - The network predicts v (Salimans and Ho, "Progressive Distillation for Fast Sampling of
      Diffusion Models", ICLR 2022) instead of Ho et al.'s eps. With eps-prediction, the clean
      window estimated at the first, almost pure-noise steps of a short schedule is the
      prediction error divided by ``sqrt(alpha_bar_t)`` (about 0.08 at t = 0.95 T); a quick fit
      then gave samples with 2-4 times the data's spread. v keeps that error unamplified.
    - The variance is fixed (Ho et al.), not learned (Nichol and Dhariwal's hybrid loss).
    - The predicted clean window is clipped to ``[-clip, clip]`` standardised units (the analogue
      of DDPM's clip to the image range) and the noise re-derived from it, which keeps the first,
      almost pure-noise steps of a short DDIM schedule stable.
    - Windows are standardised with the training fold's statistics; features constant over the
      fold (the empty grid cells) get no noise and are restored in samples.
    - The denoiser's output convolution also sees the noisy window itself (an input skip), so
      its prediction is not squeezed through ``width`` feature channels when the window has more
      channels than that (32 EEG channels against the quick width of 16).
    - **A spectral moment term on the sampler's output, as an opt-in variant** (``w_spectral`` >
      0 on raw windows, ``w_spectral_grid`` on grids; 0 in every profile; shown as
      ``ddpm[w_spectral=50]``): every ``spectral_every``-th update (8) runs the sampler
      (:meth:`_generate`, with its guidance and steps) with gradients for the batch's labels and
      adds the weight x :func:`~methods.gan.losses.class_mean_loss` between the per-class mean
      log band power of those samples and of the real batch, the GANs' term (see
      :class:`~methods.gan.conditional.GeneratorConfig`). Without it, a quick fit on the
      synthetic dataset gave raw samples without the valence effect (-0.08 of a real 1.21) and
      1.1 nats too much gamma; it makes a raw fit about 3x slower.
    - The ``quick`` profile is the same model, loss and sampler at CPU sizes: width 16, batches
      of 32, lr 1e-3, at most 80 epochs, 20 DDIM steps (eta 1), patience 6, 100 s.

    Attributes
    ----------
    denoiser_ : ConditionalUNet
    alpha_bar_ : Tensor, shape (n_steps,)
    updates_ : int
        Updates made so far (the spectral term's clock).
    """

    cost_s = 90.0

    Config = DdpmConfig
    config: DdpmConfig

    def _build(self, geometry: Geometry) -> list[nn.Module]:
        import torch

        from methods.gan.backbones import ConditionalUNet

        cfg = self.config
        self.alpha_bar_ = torch.as_tensor(cosine_alpha_bar(cfg.n_steps), dtype=torch.float32, device=self.device)
        self.denoiser_ = ConditionalUNet(geometry, cfg.width, self.info.n_classes + 1, cfg.embed_dim)
        self.opt_ = self._adam(self.denoiser_)
        self.updates_ = 0
        return [self.denoiser_]

    def _expand(self, v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Per-sample values (n,) shaped to broadcast over windows like ``like`` (n, *window)."""
        return v.reshape(-1, *[1] * (like.ndim - 1))

    def _step(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        import torch

        cfg = self.config
        t = torch.randint(0, cfg.n_steps, (len(x),), generator=gen).to(self.device)
        drop = (torch.rand(len(x), generator=gen) < cfg.p_uncond).to(self.device)
        labels = torch.where(drop, self.info.n_classes, y)
        eps = self._randn(tuple(x.shape), gen) * self.live_
        ab = self._expand(self.alpha_bar_[t], x)
        x_t = ab.sqrt() * x + (1 - ab).sqrt() * eps
        v = ab.sqrt() * eps - (1 - ab).sqrt() * x
        loss = (self.denoiser_(x_t, t, labels) * self.live_ - v).square().mean()
        self.updates_ += 1
        if self._spectral_on() and self.updates_ % cfg.spectral_every == 0:
            loss_total = loss + self._spectral_loss(self._generate(y, gen), x, y)  # samples are masked already
        else:
            loss_total = loss
        self._update(self.opt_, loss_total)
        return {"loss": loss}

    def _velocity(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The (guided) prediction of v at windows ``x``, steps ``t`` and labels ``y``."""
        import torch

        w = self.config.guidance
        if w == 0:
            return self.denoiser_(x, t, y)
        both = self.denoiser_(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, torch.full_like(y, self.info.n_classes)]))
        conditional, unconditional = both.chunk(2)
        return (1 + w) * conditional - w * unconditional

    def _generate(self, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        import torch

        cfg, n = self.config, len(y)
        x = self._randn((n, *self.fixed_.shape), gen) * self.live_
        steps = ddim_steps(cfg.n_steps, cfg.sample_steps)
        for i, step in enumerate(steps):
            ab = self.alpha_bar_[step]
            ab_prev = self.alpha_bar_[steps[i + 1]] if i + 1 < len(steps) else torch.ones((), device=self.device)
            v = self._velocity(x, torch.full((n,), int(step), device=self.device), y) * self.live_
            x0 = (ab.sqrt() * x - (1 - ab).sqrt() * v).clamp(-cfg.clip, cfg.clip)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            sigma = cfg.eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
            x = ab_prev.sqrt() * x0 + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps
            if i + 1 < len(steps) and cfg.eta > 0:
                x = x + sigma * self._randn(tuple(x.shape), gen) * self.live_
        return x
