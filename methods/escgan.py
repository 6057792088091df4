"""``escgan``: ESC-GAN, EEG editing with diversity- and boundary-aware losses (AAAI 2024)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.components import Method, check_windows
from bench.config import ComponentConfig
from bench.errors import ConfigError, MethodError
from bench.registry import METHODS
from bench.seeding import child_seed, torch_rng
from datasets.grids import hull_mask

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

TARGETS = ("next", "random")
MASKS = ("deap", "dataset")
FILTERS = ("real-and-target", "target", "none")


@dataclass(frozen=True)
class EscganConfig(ComponentConfig):
    """ESC-GAN settings; the defaults are the reference code's ``train_gan.py`` (spec §2.2, §7).

    Parameters
    ----------
    hid_channels : int
        Width h of G's encoder and D's trunk (latent 4h x 3 x 3; 128 gives 512 x 3 x 3).
    mlp_hidden, dropout : int, float
        D's two heads: hidden width and dropout (1024, 0.3).
    epochs, batch_size : int
        100 epochs of batches of 256.
    lr_g, lr_d : float
        Adam learning rates of G and D (1e-4 each, default betas, no weight decay).
    w_recon, w_adv, w_boundary, w_diverse : float
        Generator loss weights: reconstruction 1, adversarial 0.5, boundary 5 (applied as
        5 x 0.5 x KL, as the code does), diversity 1.
    target_ce : bool
        Add the poster's H(C(G(e, t)), t) term (weight 1) to the generator loss; the reference
        training script has none (off).
    smooth_fake : float
        Target of fakes for D's real/fake head (real = 0; 0.85 is the reference's smoothed 1).
    d_full_every : int
        D is trained with its full loss on every ``d_full_every``-th batch and with the class
        loss on real data only on the others (5).
    target : {"next", "random"}
        Edit target t: ``(y + 1) mod C`` (the reference for two and three classes) or a uniformly
        drawn other class.
    mask : {"deap", "dataset"}
        G's output mask: the DEAP electrode hull for every dataset (the reference) or the hull of
        the dataset's own layout.
    filter : {"real-and-target", "target", "none"}
        Which edits ``sample`` keeps: R judges them real and C assigns the target (the paper),
        only the latter, or all (an ablation).
    filter_threshold : float
        An edit counts as real when its R logit is below this (0 for DEAP and AMIGOS, 2 for SEED).
    """

    hid_channels: int = 128
    mlp_hidden: int = 1024
    dropout: float = 0.3
    epochs: int = 100
    batch_size: int = 256
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    w_recon: float = 1.0
    w_adv: float = 0.5
    w_boundary: float = 5.0
    w_diverse: float = 1.0
    target_ce: bool = False
    smooth_fake: float = 0.85
    d_full_every: int = 5
    target: str = "next"
    mask: str = "deap"
    filter: str = "real-and-target"
    filter_threshold: float = 0.0

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"hid_channels": 16, "mlp_hidden": 128, "epochs": 10, "batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-3},
        "paper": {},
    }

    def __post_init__(self) -> None:
        for name in ("hid_channels", "mlp_hidden", "epochs", "batch_size", "d_full_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"escgan.{name} must be an integer >= 1, got {value!r}")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"escgan.{name} must be > 0, got {getattr(self, name)!r}; e.g. 1e-4")
        for name in ("w_recon", "w_adv", "w_boundary", "w_diverse"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"escgan.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 <= self.dropout < 1 or not 0 <= self.smooth_fake <= 1:
            raise ConfigError(f"escgan.dropout must be in [0, 1) and smooth_fake in [0, 1], got "
                              f"{self.dropout!r} and {self.smooth_fake!r}")
        for name, allowed in (("target", TARGETS), ("mask", MASKS), ("filter", FILTERS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"escgan.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not math.isfinite(self.filter_threshold):
            raise ConfigError(f"escgan.filter_threshold must be a finite number, got {self.filter_threshold!r}")

    @classmethod
    def tiny(cls) -> EscganConfig:
        # An untrained discriminator rejects most edits, so the tiny config keeps them all.
        return cls.for_profile("quick", {"hid_channels": 2, "mlp_hidden": 8, "epochs": 1, "batch_size": 16,
                                         "filter": "none"})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rates, loss weights, filter threshold and epochs."""
        return {
            "lr_g": trial.suggest_float("lr_g", 1e-5, 1e-2, log=True),
            "lr_d": trial.suggest_float("lr_d", 1e-5, 1e-2, log=True),
            "w_boundary": trial.suggest_float("w_boundary", 0.1, 10.0, log=True),
            "w_diverse": trial.suggest_float("w_diverse", 0.1, 10.0, log=True),
            "filter_threshold": trial.suggest_float("filter_threshold", -2.0, 2.0),
            "epochs": trial.suggest_int("epochs", 10, 100, step=10),
        }


def edit_targets(y: np.ndarray | torch.Tensor, n_classes: int, mode: str, rng: Any = None) -> Any:
    """Target class of each reference: ``(y + 1) mod C`` or, with ``mode="random"``, a uniform other class.

    ``rng`` is a torch Generator (tensor ``y``) or numpy Generator (array ``y``) for ``random``.
    """
    if mode == "next":
        return (y + 1) % n_classes
    if isinstance(y, np.ndarray):
        return (y + rng.integers(1, n_classes, size=len(y))) % n_classes
    import torch

    return (y + torch.randint(1, n_classes, y.shape, generator=rng)) % n_classes


@METHODS.register("escgan")
class EscGan(Method):
    """ESC-GAN: edits real DE grids of other classes into the requested emotion (Zhang et al., AAAI 2024).

    The generator G(e, t) encodes a reference 5-band DE grid e to a ``4h x 3 x 3`` latent,
    multiplies it element-wise by a learned embedding of the target class t, and decodes it to
    an edited grid inside the electrode hull. The discriminator shares one conv trunk between a
    real/fake head R and an emotion head C. G is trained with

    ``w_recon * MSE(e, G(e, y)) + w_adv * BCE(R(G(e, t)), real) + w_boundary * 0.5 * KL(U || C(G(e, t)))
    + w_diverse * mean exp(-|dG| / (|dz| + 1e-6))``,

    D with ``0.5 [0.5 BCE(R(e), real) + 0.5 CE(C(e), y)] + 0.5 [0.5 BCE(R(x_hat), 0.85) + 0.5 CE(C(x_hat), t)]``
    on every ``d_full_every``-th batch and ``CE(C(e), y)`` on the others. ``sample`` edits training
    references of the other classes into each requested class and keeps an edit only when R says
    real (logit below ``filter_threshold``) and C says the target.

    Zhang, Zhong, Liu, "Beyond Mimicking Under-Represented Emotions: Deep Data Augmentation with
    Emotional Subspace Constraints for EEG-Based Emotion Recognition", AAAI 2024. Reference code:
    github.com/tczhangzhi/PyTorch-ESCGAN (``train_gan.py``, ``models/generator.py``,
    ``models/discriminator.py``) at ``f13a724``; spec ``specs/escgan.md``.

    Input: ``de-grid`` windows, shape (n, n_bands, 9, 9).

    Notes
    -----
    Deviations from the reference code, each deliberate:

    - The generator uses the label-gated latent (the ``f13a724`` fix); the earlier commit decoded
      the ungated latent and ignored the label.
    - The target is ``(y + 1) mod C`` for every class count (``train_gan.py`` uses ``|1 - y|``,
      which maps SEED's class 2 to 1); ``target="random"`` is the documented alternative.
    - ``sample`` returns a fixed synthetic set (the default recipe, comparable across methods):
      references are the training windows of the other classes, drawn without replacement;
      G and D are in eval mode (the reference runs them in train mode during augmentation,
      spec §6 #6). The reference code instead edits every classifier batch online (the
      ``paper`` recipe, not implemented yet).
    - G has no noise input, so one reference gives one edit: when fewer edits than asked pass
      the filter, the accepted ones are repeated (with a logged warning); when none pass,
      :class:`MethodError` names the acceptance rate. Unfiltered edits are never returned unless
      ``filter="none"``.
    - The ``quick`` profile (h = 16, heads 128 wide, 10 epochs of 64, learning rates 1e-3) is a
      CPU setting; ``paper`` is the reference's (h = 128, 1024, 100 epochs of 256, 1e-4).
    - Inputs are used as given (no standardisation), as in the reference; the output LeakyReLU
      therefore shrinks negative values 100-fold, as there.
    - No ``seed_everything(42)``: randomness comes from the cell's derived generator.
    """

    Config = EscganConfig
    representation = "de-grid"
    config: EscganConfig

    def fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> EscGan:
        """Train G and D on the training fold.

        Parameters
        ----------
        X : ndarray, shape (n, n_bands, 9, 9)
        y : ndarray of int, shape (n,)
        rng : numpy Generator
        """
        import torch

        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        if X.shape[1:] != (X.shape[1], 9, 9):
            raise ConfigError(f"{self.name}.fit: expects de-grid windows (n, bands, 9, 9), got {X.shape}")
        self.X_, self.y_ = X, y
        with torch_rng(rng):
            self._build(X.shape[1])
            self.history_ = self._train(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)),
                                        torch.from_numpy(y), torch.Generator().manual_seed(child_seed(rng)))
        self.generator_.eval()
        self.discriminator_.eval()
        return self

    def _build(self, n_bands: int) -> None:
        import torch

        from methods.gan.escgan_nets import EditingGenerator, TwoHeadDiscriminator

        cfg = self.config
        mask = torch.from_numpy(hull_mask("deap" if cfg.mask == "deap" else self.info.grid))
        self.generator_ = EditingGenerator(n_bands, cfg.hid_channels, self.info.n_classes, mask)
        self.discriminator_ = TwoHeadDiscriminator(n_bands, cfg.hid_channels, self.info.n_classes, cfg.mlp_hidden,
                                                   cfg.dropout)

    def _train(self, X: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> list[dict[str, float]]:
        import torch

        from methods.gan.losses import adversarial_loss, boundary_loss, class_loss, diversity_loss, reconstruction_loss

        cfg, G, D, n_classes = self.config, self.generator_, self.discriminator_, self.info.n_classes
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d)
        history = []
        for _ in range(cfg.epochs):
            G.train(), D.train()
            sums = {"loss_g": 0.0, "loss_d": 0.0}
            for step, batch in enumerate(torch.randperm(len(X), generator=gen).split(cfg.batch_size)):
                e, labels = X[batch], y[batch]
                t = edit_targets(labels, n_classes, cfg.target, gen)
                # Discriminator: full loss every d_full_every-th batch, class head on real data otherwise.
                r_real, c_real = D(e)
                if step % cfg.d_full_every == 0:
                    with torch.no_grad():
                        fake, _ = G(e, t)
                    r_fake, c_fake = D(fake)
                    loss_d = (0.5 * (0.5 * adversarial_loss(r_real, 0.0) + 0.5 * class_loss(c_real, labels))
                              + 0.5 * (0.5 * adversarial_loss(r_fake, cfg.smooth_fake) + 0.5 * class_loss(c_fake, t)))
                else:
                    loss_d = class_loss(c_real, labels)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                # Generator: identity edit, adversarial, boundary and diversity terms.
                rec, _ = G(e, labels)
                x_hat, z = G(e, t)
                r_hat, c_hat = D(x_hat)
                perm = torch.randperm(len(e), generator=gen)
                loss_g = (cfg.w_recon * reconstruction_loss(e, rec) + cfg.w_adv * adversarial_loss(r_hat, 0.0)
                          + cfg.w_boundary * 0.5 * boundary_loss(c_hat) + cfg.w_diverse * diversity_loss(x_hat, z, perm))
                if cfg.target_ce:
                    loss_g = loss_g + class_loss(c_hat, t)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                sums["loss_g"] += loss_g.item() * len(batch)
                sums["loss_d"] += loss_d.item() * len(batch)
            history.append({k: v / len(X) for k, v in sums.items()})
        return history

    def edit(self, e: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Edit references ``e`` (n, B, 9, 9) into classes ``t`` (n,) and say which edits pass the filter.

        Returns
        -------
        x_hat : ndarray, shape (n, B, 9, 9), float32
        keep : ndarray of bool, shape (n,)
        """
        import torch

        cfg = self.config
        with torch.no_grad():
            x_hat, _ = self.generator_(torch.as_tensor(e, dtype=torch.float32), torch.as_tensor(t))
            r, c = self.discriminator_(x_hat)
        keep = np.ones(len(e), dtype=bool)
        if cfg.filter != "none":
            keep &= (c.argmax(dim=1) == torch.as_tensor(t)).numpy()
        if cfg.filter == "real-and-target":
            keep &= (r < cfg.filter_threshold).numpy()
        return x_hat.numpy(), keep

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        parts = [np.empty((0,) + self.X_.shape[1:], dtype=np.float32)]
        labels = [np.empty(0, dtype=np.int64)]
        for target, n in sorted(counts.items()):
            if n:
                parts.append(self._edits_of(target, n, rng))
                labels.append(np.full(n, target, dtype=np.int64))
        return np.concatenate(parts), np.concatenate(labels)

    def _edits_of(self, target: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` accepted edits into ``target`` of training references from the other classes.

        References are drawn without replacement, in chunks, until ``n`` edits pass the filter.
        G has no noise input, so each reference yields one edit: when the whole pool yields fewer
        than ``n``, the accepted edits are repeated (drawn with ``rng``) and a warning says so;
        when it yields none, :class:`MethodError` says what to change.
        """
        pool = np.flatnonzero(self.y_ != target)
        if pool.size == 0:
            raise MethodError(f"{self.name}: no training window of another class to edit into class {target}; "
                              "ESC-GAN needs references from at least two classes")
        refs = rng.permutation(pool)
        chunk = max(2 * n, 256)
        accepted: list[np.ndarray] = []
        got = 0
        for start in range(0, len(refs), chunk):
            part = refs[start : start + chunk]
            x_hat, keep = self.edit(self.X_[part], np.full(len(part), target))
            accepted.append(x_hat[keep])
            got += int(keep.sum())
            if got >= n:
                return np.concatenate(accepted)[:n]
        rate = f"{got} of {len(refs)} edits into class {target} passed the filter (filter={self.config.filter!r}, " \
               f"threshold {self.config.filter_threshold})"
        if got == 0:
            raise MethodError(f"{self.name}: {rate}, {n} were asked for; train longer (epochs), raise "
                              "filter_threshold, or set filter='target'")
        log.warning("%s: %s; repeating accepted edits to reach the %d asked for", self.name, rate, n)
        unique = np.concatenate(accepted)
        return np.concatenate([unique, unique[rng.integers(0, got, size=n - got)]])
