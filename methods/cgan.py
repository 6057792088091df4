"""``cgan``: a conditional DCGAN trained with the non-saturating loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bench.registry import METHODS
from methods.gan.latent import AdversarialGenerator, LatentConfig

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class CganConfig(LatentConfig):
    """cGAN settings; the defaults (``paper`` profile) are DCGAN's (Adam 2e-4, beta1 0.5, z of 100, batches of 64).

    See :class:`~methods.gan.latent.LatentConfig` for the fields.
    """

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"width": 16, "latent_dim": 32, "epochs": 60, "batch_size": 32, "patience": 20, "fit_budget_s": 100.0},
        "paper": {},
    }

    @classmethod
    def tiny(cls) -> CganConfig:
        return cls.for_profile("quick", {"width": 4, "latent_dim": 8, "embed_dim": 4, "epochs": 1, "batch_size": 16})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rate, Adam's beta1, width, latent length and epochs."""
        return {
            "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
            "beta1": trial.suggest_float("beta1", 0.0, 0.9),
            "width": trial.suggest_categorical("width", [16, 32, 64]),
            "latent_dim": trial.suggest_categorical("latent_dim", [32, 64, 100]),
            "epochs": trial.suggest_int("epochs", 10, 300, log=True),
        }


@METHODS.register("cgan")
class ConditionalGan(AdversarialGenerator):
    """Conditional DCGAN: G(z, y) and D(x, y) with label embeddings, non-saturating loss.

    The generator decodes ``[z, embed(y)]``, ``z ~ N(0, I)``, through transposed convolutions with
    BatchNorm and ReLU; the discriminator reads the window with ``embed(y)`` broadcast as extra
    channels through strided convolutions with LeakyReLU(0.2) (:mod:`methods.gan.backbones`). Raw
    windows get 1-D convolutions over time, DE grids 2-D convolutions over the grid. Each batch
    updates D on ``BCE(D(x, y), real) + BCE(D(G(z, y), y), fake)``, then G on the non-saturating
    ``BCE(D(G(z, y), y), real)``; generated windows take the labels of the real batch.

    Mirza and Osindero, "Conditional Generative Adversarial Nets", arXiv:1411.1784, 2014;
    Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep Convolutional
    Generative Adversarial Networks" (DCGAN), ICLR 2016.

    Input: ``raw`` windows (n, channels, times) or ``de-grid`` windows (n, bands, 9, 9), as
    ``representation`` says (``auto``: whatever the classifier needs, see
    :mod:`methods.gan.conditional`).

    Notes
    -----
    Deviations from the papers:

    - Label conditioning by learned embeddings (concatenated to z; broadcast as input channels of
      D) instead of one-hot vectors through fully connected layers (Mirza and Osindero).
    - D has no BatchNorm (DCGAN puts it in every layer but the first) because the same encoder
      backbone serves as the WGAN-GP critic, where BatchNorm breaks the per-sample penalty.
    - Kernel and stride follow the window, not DCGAN's 4x4 images: stride-2 convolutions of odd
      kernel (9 over time, 3x3 over the grid), sizes halved and rounded up, ``depth`` levels.
    - Windows are standardised with the training fold's statistics (per channel for raw windows,
      per band and cell for grids) and G has a linear output instead of DCGAN's tanh on [-1, 1]
      images; features constant over the fold (the empty grid cells) are masked out and restored.
    - Labels use BCE on logits with real = 0 and fake = 1 (:mod:`methods.gan.losses`, ESC-GAN's
      convention); without label smoothing the loss is the same.
    - The ``quick`` profile is the same objective at CPU sizes: width 16, z of 32, batches of 32,
      DCGAN's learning rate and betas (2e-4; 0.5, 0.999), at most 60 epochs, patience 20, 100 s.
      Chosen on the inner-validation signal of fold 0's training trials (synthetic dataset, DE
      grids; the probe on real windows scores 0.89): at 1e-3 the signal peaked at 0.77 by
      epoch 25 and then fell to chance; at 2e-4 it reached 0.83-0.86 from epoch 29 on, after
      flat stretches of 10-15 epochs (hence the patience); at 5e-4, at most 0.78.
    - A spectral moment term is an opt-in variant (``w_spectral`` on raw windows,
      ``w_spectral_grid`` on grids; 0, as in the papers, in every profile; shown as
      ``cgan[w_spectral=50]``): G must also match the per-class mean log band power of the real
      batch (see :class:`~methods.gan.conditional.GeneratorConfig`).
    """

    Config = CganConfig
    config: CganConfig

    def _step(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        from methods.gan.losses import adversarial_loss

        fake = self._decode(self._prior(len(y), gen), y)
        loss_d = adversarial_loss(self._score(x, y), 0.0) + adversarial_loss(self._score(fake.detach(), y), 1.0)
        self._update(self.opt_d_, loss_d)
        loss_g = adversarial_loss(self._score(fake, y), 0.0) + self._spectral_loss(fake, x, y)
        self._update(self.opt_g_, loss_g)
        return {"loss_d": loss_d, "loss_g": loss_g}
