"""``wgan-gp``: a conditional Wasserstein GAN with gradient penalty (the cWGAN of Luo and Lu, 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bench.errors import ConfigError
from bench.registry import METHODS
from methods.gan.latent import AdversarialGenerator, LatentConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from methods.gan.backbones import Geometry


@dataclass(frozen=True)
class WganGpConfig(LatentConfig):
    """cWGAN-GP settings; the defaults (``paper`` profile) are Gulrajani et al.'s Algorithm 1.

    Parameters
    ----------
    n_critic : int
        Critic updates per generator update (5).
    w_gp : float
        Weight of the gradient penalty (lambda = 10).

    The other fields are :class:`~methods.gan.latent.LatentConfig`'s; Adam runs at 1e-4 with
    betas (0, 0.9).
    """

    lr: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    n_critic: int = 5
    w_gp: float = 10.0

    ALGORITHM: ClassVar[tuple[str, ...]] = LatentConfig.ALGORITHM + ("n_critic", "w_gp")
    POSITIVE_INTS: ClassVar[tuple[str, ...]] = LatentConfig.POSITIVE_INTS + ("n_critic",)
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"width": 16, "latent_dim": 32, "epochs": 60, "batch_size": 32, "lr": 3e-4, "patience": 30,
                  "fit_budget_s": 110.0},
        "paper": {},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.w_gp, bool) or not self.w_gp >= 0:
            raise ConfigError(f"WganGpConfig.w_gp must be >= 0, got {self.w_gp!r}; 10 is Gulrajani et al.'s value")

    @classmethod
    def tiny(cls) -> WganGpConfig:
        return cls.for_profile("quick", {"width": 4, "latent_dim": 8, "embed_dim": 4, "epochs": 1, "batch_size": 16})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rate, critic updates per generator update, penalty weight, width and epochs."""
        return {
            "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
            "n_critic": trial.suggest_int("n_critic", 1, 5),
            "w_gp": trial.suggest_float("w_gp", 1.0, 30.0, log=True),
            "width": trial.suggest_categorical("width", [16, 32, 64]),
            "epochs": trial.suggest_int("epochs", 10, 300, log=True),
        }


@METHODS.register("wgan-gp")
class ConditionalWganGp(AdversarialGenerator):
    """Conditional WGAN-GP: a label-conditioned generator against a label-conditioned critic.

    Generator and critic are :class:`ConditionalGan`'s networks (``methods.gan.backbones``),
    the critic's output an unbounded score. Every batch updates the critic on
    ``mean C(G(z, y), y) - mean C(x, y) + w_gp * GP`` with the two-sided gradient penalty on
    random interpolates of real and generated windows of the same labels
    (:mod:`methods.gan.penalties`); every ``n_critic``-th batch then updates G on
    ``-mean C(G(z, y), y)`` with fresh noise.

    Luo and Lu, "EEG Data Augmentation for Emotion Recognition Using a Conditional Wasserstein
    GAN", EMBC 2018 (cWGAN on EEG features of SEED and DEAP); Gulrajani, Ahmed, Arjovsky, Dumoulin
    and Courville, "Improved Training of Wasserstein GANs", NeurIPS 2017.

    Input: ``raw`` windows (n, channels, times) or ``de-grid`` windows (n, bands, 9, 9), as
    ``representation`` says (``auto``: whatever the classifier needs).

    Notes
    -----
    Deviations from the papers:

    - Luo and Lu generate DE feature vectors with fully connected networks; here the same
      convolutional backbones as ``cgan`` model raw windows (1-D over time) or DE grids (2-D).
    - The critic sees a fresh real batch at every update and G steps after every ``n_critic``-th
      one (Algorithm 1 draws a fresh real batch for each of the ``n_critic`` critic iterations,
      which is the same thing counted in batches), so G makes ``batches / n_critic`` updates per epoch.
    - Windows are standardised with the training fold's statistics and the features constant over
      the fold (the empty grid cells) are masked out and restored, as in ``cgan``.
    - The ``quick`` profile is Algorithm 1 (``n_critic`` 5, lambda 10, betas (0, 0.9)) at CPU
      sizes: width 16, z of 32, batches of 32, learning rate 3e-4, at most 60 epochs, patience
      30, 110 s. Chosen on the inner-validation signal of fold 0's training trials (synthetic
      dataset, DE grids; the probe on real windows scores 0.91): at the paper's 1e-4 the signal
      was at most 0.67 in 60 epochs; at 3e-4 it stayed at 0.5-0.7 for 40 epochs, then rose to
      0.85-0.89 from epoch 45 on (hence the patience).
    - A spectral moment term is an opt-in variant (``w_spectral`` on raw windows,
      ``w_spectral_grid`` on grids; 0 in every profile; shown as ``wgan-gp[w_spectral=50]``), as
      in ``cgan``.
    """

    Config = WganGpConfig
    config: WganGpConfig

    def _build(self, geometry: Geometry) -> list[nn.Module]:
        self.critic_steps_ = 0
        return super()._build(geometry)

    def _step(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        from methods.gan.penalties import critic_loss, generator_adversarial_loss, gradient_penalty

        cfg = self.config
        fake = self._decode(self._prior(len(y), gen), y).detach()
        real_scores, fake_scores = self._score(x, y), self._score(fake, y)
        penalty = gradient_penalty(lambda v: self._score(v, y), x, fake, gen)
        self._update(self.opt_d_, critic_loss(real_scores, fake_scores) + cfg.w_gp * penalty)
        self.critic_steps_ += 1
        if self.critic_steps_ % cfg.n_critic == 0:
            fake = self._decode(self._prior(len(y), gen), y)
            self._update(self.opt_g_, generator_adversarial_loss(self._score(fake, y)) + self._spectral_loss(fake, x, y))
        return {"wasserstein": real_scores.mean() - fake_scores.mean(), "penalty": penalty}
