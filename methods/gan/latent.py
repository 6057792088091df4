"""Generators that decode a standard-normal code together with the label: the two GANs and the VAE.

Each has a :class:`~methods.gan.backbones.ConditionalDecoder` (the GAN generator, the VAE decoder)
and a :class:`~methods.gan.backbones.ConditionalEncoder` (the GAN discriminator or critic, the VAE
encoder); a sample of class ``c`` is ``decoder(z, c)`` with ``z ~ N(0, I)``. The method modules add
their losses (:mod:`methods.cgan`, :mod:`methods.wgan_gp`, :mod:`methods.vae`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from methods.gan.conditional import ConditionalGenerator, GeneratorConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from methods.gan.backbones import Geometry


@dataclass(frozen=True)
class LatentConfig(GeneratorConfig):
    """:class:`GeneratorConfig` plus the length of the latent code.

    Parameters
    ----------
    latent_dim : int
        Length of ``z`` (100 in DCGAN).
    """

    latent_dim: int = 100

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = GeneratorConfig.POSITIVE_INTS + ("latent_dim",)


class LatentCodeGenerator(ConditionalGenerator):
    """Base of the decoder-based generators.

    Attributes
    ----------
    decoder_ : ConditionalDecoder
        (z, y) -> standardised window: the GAN generator, the VAE decoder.
    encoder_ : ConditionalEncoder
        (window, y) -> ``encoder_features`` values: the GAN discriminator / critic (1), the VAE
        encoder (mean and log-variance of q(z | x, y)).
    """

    config: LatentConfig

    def encoder_features(self) -> int:
        """Outputs of the encoder."""
        raise NotImplementedError

    def _build(self, geometry: Geometry) -> list[nn.Module]:
        from methods.gan.backbones import ConditionalDecoder, ConditionalEncoder

        cfg, n_classes = self.config, self.info.n_classes
        self.decoder_ = ConditionalDecoder(geometry, cfg.width, n_classes, cfg.embed_dim, cfg.latent_dim)
        self.encoder_ = ConditionalEncoder(geometry, cfg.width, n_classes, cfg.embed_dim, self.encoder_features())
        return [self.decoder_, self.encoder_]

    def _decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Decoded windows (n, *window), zero on the features constant in training (as the standardised real ones)."""
        return self.decoder_(z, y) * self.live_

    def _prior(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """``n`` codes drawn from N(0, I), shape (n, latent_dim)."""
        return self._randn((n, self.config.latent_dim), gen)

    def _generate(self, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return self._decode(self._prior(len(y), gen), y)


class AdversarialGenerator(LatentCodeGenerator):
    """Base of the two GANs: one real/fake score per window, an Adam optimiser for each network.

    Attributes
    ----------
    opt_g_, opt_d_ : torch.optim.Adam
        Optimisers of the generator (``decoder_``) and the discriminator or critic (``encoder_``).
    """

    def encoder_features(self) -> int:
        return 1

    def _build(self, geometry: Geometry) -> list[nn.Module]:
        networks = super()._build(geometry)
        self.opt_g_, self.opt_d_ = self._adam(self.decoder_), self._adam(self.encoder_)
        return networks

    def _score(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Real/fake scores (n,) of windows ``x`` with labels ``y``."""
        return self.encoder_(x, y).reshape(-1)
