"""``escgan``: ESC-GAN, EEG editing with diversity- and boundary-aware losses (AAAI 2024)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.components import Classifier, Method, check_windows
from bench.estimator import IMBLEARN_TABLE_CHECKS, table_checks_fail
from bench.errors import ConfigError, MethodError
from bench.registry import METHODS
from bench.seeding import child_seed, torch_rng
from datasets.grids import hull_mask
from methods.gan.monitor import FitMonitor, Probe, StoppingConfig, monitored_split

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

QUICK = {"hid_channels": 16, "mlp_hidden": 128, "epochs": 40, "batch_size": 32, "lr_g": 1e-3, "lr_d": 1e-3,
         "patience": 5, "fit_budget_s": 110.0}
"""The ``quick`` profile's sizes and schedule (see :class:`EscganConfig`)."""
TARGETS = ("next", "random")
MASKS = ("deap", "dataset")
FILTERS = ("real-and-target", "target", "none")
STEP_ORDERS = ("g-first", "d-first")


@dataclass(frozen=True)
class EscganConfig(StoppingConfig):
    """ESC-GAN settings; the defaults (``paper`` profile) are the reference code's.

    Parameters
    ----------
    hid_channels : int
        Width h of G's encoder and D's trunk (latent 4h x 3 x 3; 128 gives 512 x 3 x 3).
    mlp_hidden, dropout : int, float
        D's two heads: hidden width and dropout (1024, 0.3).
    epochs, batch_size : int
        GAN training: 100 epochs of batches of 256.
    lr_g, lr_d : float
        Adam learning rates of G and D (1e-4 each, default betas, no weight decay).
    w_recon, w_adv, w_boundary, w_diverse : float
        Generator loss weights: reconstruction 1, adversarial 0.5, boundary 5 (applied as
        5 x 0.5 x KL, as the code does), diversity 1.
    w_target : float
        Weight of the poster's H(C(G(e, t)), t) term: 2.5, as in the ``train_augment.py``
        variant (the trainer defined in ``train_augment.py``); 0 gives ``train_gan.py``, which has no such term.
    d_fake_class : bool
        Train D's class head on edits labelled with their target (the reference code does; the
        poster's discriminator loss does not).
    smooth_fake : float
        Target of edits for D's real/fake head (real = 0; 0.85 is the reference's smoothed 1).
    d_full_every : int
        D gets its full loss on every ``d_full_every``-th batch and the class loss on real data
        only on the others (5).
    target : {"next", "random"}
        Edit target t: ``(y + 1) mod C`` (the reference's ``train_augment.py``) or a uniformly drawn other class.
    mask : {"deap", "dataset"}
        G's output mask: the DEAP electrode hull for every dataset (the reference) or the hull of
        the dataset's own layout.
    filter : {"real-and-target", "target", "none"}
        Which edits are kept: R judges them real and C assigns the target (the paper), only the
        latter, or all (an ablation).
    filter_threshold : float
        An edit counts as real when its R logit is below this. The reference uses 0 for DEAP and
        AMIGOS and 2.0 for SEED (``train_augment.py``); nothing sets it per dataset here except
        the ``escgan-paper`` preset, so a SEED study without the preset filters at 0.
    mixup, mixup_alpha : bool, float
        ``paper`` recipe only: mixup (alpha 0.2, batch paired with its reverse) over real and
        accepted edits whenever a batch has an accepted edit, as the reference does.
    train_mode_filter : bool
        ``paper`` recipe only: run the frozen G and D in train mode while editing (BatchNorm batch
        statistics, dropout on), replicating the reference; default eval mode.
    step_order : {"g-first", "d-first"}
        Per batch, G steps and then D steps on that batch's edits, made before G's step (the
        reference, ``train_gan.py``), or D steps first on fresh edits and G then meets the updated D.

    The stopping fields are :class:`~methods.gan.monitor.StoppingConfig`'s. The fields in
    ``ALGORITHM`` are the published algorithm: no profile changes them, and a study that does
    reports the method as a variant (``escgan[filter=target]``).
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
    w_target: float = 2.5
    d_fake_class: bool = True
    smooth_fake: float = 0.85
    d_full_every: int = 5
    target: str = "next"
    mask: str = "deap"
    filter: str = "real-and-target"
    filter_threshold: float = 0.0
    mixup: bool = True
    mixup_alpha: float = 0.2
    train_mode_filter: bool = False
    step_order: str = "g-first"

    ALGORITHM: ClassVar[tuple[str, ...]] = (
        "w_recon", "w_adv", "w_boundary", "w_diverse", "w_target", "d_fake_class", "smooth_fake", "d_full_every", "target",
        "mask", "filter", "filter_threshold", "mixup", "mixup_alpha", "train_mode_filter", "step_order")
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        # CPU minutes on a synthetic fold of ~2,000 windows: the published objective with smaller
        # networks, batches and epochs, faster learning rates, and a stop on the inner signal.
        "quick": QUICK,
        "paper": {},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("hid_channels", "mlp_hidden", "epochs", "batch_size", "d_full_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"escgan.{name} must be an integer >= 1, got {value!r}")
        for name in ("lr_g", "lr_d", "mixup_alpha"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"escgan.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("w_recon", "w_adv", "w_boundary", "w_diverse", "w_target"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"escgan.{name} must be >= 0, got {getattr(self, name)!r}; 0 switches the term off")
        if not 0 <= self.dropout < 1 or not 0 <= self.smooth_fake <= 1:
            raise ConfigError(f"escgan.dropout must be in [0, 1) and smooth_fake in [0, 1], got "
                              f"{self.dropout!r} and {self.smooth_fake!r}")
        for name, allowed in (("target", TARGETS), ("mask", MASKS), ("filter", FILTERS), ("step_order", STEP_ORDERS)):
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
            "w_target": trial.suggest_float("w_target", 0.0, 5.0),
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


def mixup_reversed(x: torch.Tensor, soft: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup of a batch with its reverse (torchtoolbox's pairing): ``lam * a + (1 - lam) * a[::-1]``.

    Mixing the one-hot targets the same way makes cross-entropy against them equal to the
    mixup criterion ``lam * CE(y) + (1 - lam) * CE(y[::-1])``.

    Parameters
    ----------
    x : Tensor, shape (n, ...)
    soft : Tensor, shape (n, n_classes)
        Target probabilities (one-hot for hard labels).
    lam : float
        Mixing weight in [0, 1].
    """
    return lam * x + (1 - lam) * x.flip(0), lam * soft + (1 - lam) * soft.flip(0)


@METHODS.register("escgan")
class EscGan(Method):
    """ESC-GAN: edits real DE grids of other classes into the requested emotion (Zhang et al., AAAI 2024).

    The generator G(e, t) encodes a reference 5-band DE grid e to a ``4h x 3 x 3`` latent,
    multiplies it element-wise by a learned embedding of the target class t, and decodes it to
    an edited grid inside the electrode hull. The discriminator shares one conv trunk between a
    real/fake head R and an emotion head C. G is trained with

    ``w_recon MSE(e, G(e, y)) + w_adv BCE(R(G(e, t)), real) + w_boundary 0.5 KL(U || C(G(e, t)))
    + w_diverse mean exp(-|dG| / (|dz| + 1e-6)) + w_target CE(C(G(e, t)), t)``,

    D with ``0.5 [0.5 BCE(R(e), real) + 0.5 CE(C(e), y)] + 0.5 [0.5 BCE(R(x_hat), 0.85) + 0.5 CE(C(x_hat), t)]``
    on every ``d_full_every``-th batch and ``CE(C(e), y)`` on the others. An edit is kept when R
    says real (logit below ``filter_threshold``) and C says the target.

    Two recipes use it. The default one (every method's): :meth:`sample` edits training references
    of the other classes into each requested class and returns the kept edits as a fixed
    synthetic set. The ``paper`` recipe (:meth:`train_paper`, the reference's ``train_augment.py``)
    edits every classifier batch online with the frozen G and D, keeps what passes the filter,
    and trains on real plus kept edits with mixup.

    Zhang, Zhong, Liu, "Beyond Mimicking Under-Represented Emotions: Deep Data Augmentation with
    Emotional Subspace Constraints for EEG-Based Emotion Recognition", AAAI 2024. Reference code:
    github.com/tczhangzhi/PyTorch-ESCGAN (``train_gan.py``, ``train_augment.py``,
    ``models/generator.py``, ``models/discriminator.py``) at ``f13a724``.

    Input: ``de-grid`` windows, shape (n, n_bands, 9, 9).

    Notes
    -----
    Deviations from the reference code, each deliberate:

    - The generator uses the label-gated latent (the ``f13a724`` fix); the earlier commit decoded
      the ungated latent and ignored the label.
    - The poster's CE-to-target term is in G's loss with weight 2.5 (``train_gan.py`` has none;
      ``w_target=0`` restores it), as the unused trainer in ``train_augment.py`` has it.
    - The target is ``(y + 1) mod C`` for every class count (``train_gan.py`` uses ``|1 - y|``,
      which maps SEED's class 2 to 1); ``target="random"`` is the documented alternative.
    - Real and edited batches go through D as **one** batch (and the identity and target edits
      through G as one): BatchNorm then normalises them with shared statistics, so the D that
      filters in eval mode (running statistics) is the D that was trained. The reference passes
      them separately in train mode, where each batch is normalised by its own statistics.
    - Filtering uses G and D in eval mode (the reference's TorchEEG trainer puts every module in
      train mode each epoch, G and D included); ``train_mode_filter`` replicates that in the
      ``paper`` recipe.
    - Default recipe: a fixed synthetic set of the size the study's policy asks for, so ESC-GAN
      is compared with every other method under one budget. References are the training windows
      of the other classes, drawn without replacement; G has no noise input, so one reference
      gives one edit. When the whole pool yields fewer kept edits than asked, only the kept ones
      are returned (never repeats), with a warning; ``stats_`` records ``asked`` and ``kept``
      and the study's quality gate fails the row with the counts. Acceptance rates are in
      :attr:`stats_` (and the results table).
    - **Inner validation and early stopping** (not in the reference, which trains 100 epochs and
      keeps the last): G and D train on the fold minus 20 % of its trials; after each epoch the
      kept edits of the remaining references train a small probe classifier that is scored on
      the held-out trials (:mod:`methods.gan.monitor`); the state with the best score is kept
      and training stops on a plateau (``patience``, off in ``paper``) or at ``fit_budget_s``.
    - The ``quick`` profile is the same objective and filter at CPU sizes: h = 16, heads 128
      wide, batches of 32, learning rates 1e-3, at most 40 epochs, patience 5, 110 s.
    - Inputs are used as given (no standardisation), as in the reference; the output LeakyReLU
      therefore shrinks negative values 100-fold, as there.
    - No ``seed_everything(42)``: randomness comes from the cell's derived generator.
    - Step order: G steps, then D steps on the edits G made before its step, as ``train_gan.py``
      does (``step_order="g-first"``); ``d-first`` (D on fresh edits, then G against the updated
      D) is a named variant.
    - One classifier weight decay for the baseline and the augmented runs (a study setting; the
      ``escgan-paper`` preset uses ``train_augment.py``'s 0, where ``train_evaluator.py``'s
      baseline uses 1e-4).
    - SEED: the GAN trains on the study's features (``de_LDS`` under the preset), where
      ``train_gan.py`` reads ``de_movingAve`` and ``train_augment.py`` ``de_LDS``.
    - FID and KID (:mod:`bench.fold_quality`) use the fold's no-augmentation classifier's
      penultimate features, like ``train_gan.py``, but compare a per-class quality draw with the
      training windows; ``quality_vs_test`` (set by the preset) adds the reference's comparison
      with the test split, a report only. ``train_gan.py`` edits test windows into random targets.

    Attributes
    ----------
    generator_, discriminator_ : nn.Module
        After :meth:`fit`, in eval mode.
    history_ : list of dict
        Mean G and D loss of every epoch.
    stats_ : dict of str to float
        After :meth:`sample` or :meth:`train_paper`: ``acceptance`` (fraction of edits kept),
        ``real_rate`` (fraction R judged real), ``target_rate`` (fraction C assigned the target)
        and, for :meth:`sample`, ``asked`` and ``kept`` (windows asked for and returned); after
        :meth:`fit`, the ``fit.*`` numbers of :attr:`fit_report_`.
    fit_report_ : FitReport
        Epochs, updates, seconds, stop reason and inner signal of the training.
    """

    Config = EscganConfig
    representation = "de-grid"
    own_classifier = "esc-cnn"
    cache_fit = True
    cost_s = 20.0
    paper_recipe = True
    inner_validation = True
    bounded_output = True
    estimator_xfail = table_checks_fail(
        "a generator learns from windows of its representation ((n, bands, 9, 9) DE grids); imbalanced-learn's check fits a flat "
        "(n, n_features) table of a few features", IMBLEARN_TABLE_CHECKS)
    config: EscganConfig

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator,
             groups: np.ndarray | None = None) -> None:
        """Train G and D on the training fold, minus an inner validation split of its trials.

        Parameters
        ----------
        X : ndarray, shape (n, n_bands, 9, 9)
        y : ndarray of int, shape (n,)
        rng : numpy Generator
        groups : ndarray, shape (n,), optional
            Trial of every window: the inner validation split holds out whole trials (the runner
            passes them; without them windows are held out one by one).
        """
        import torch

        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        if X.ndim != 4 or X.shape[2:] != (9, 9):
            raise ConfigError(f"{self.name}.fit: expects de-grid windows (n, bands, 9, 9), got {X.shape}")
        self.X_, self.y_ = X, y
        fit, val = monitored_split(self.config, groups, y, rng)
        probe = Probe(X[fit], y[fit], X[val], y[val], "de-grid", self.info.sfreq, self.info.n_classes) if len(val) else None
        with torch_rng(rng):
            self._build(X.shape[1])
            gen = torch.Generator().manual_seed(child_seed(rng))
            probe_rng = np.random.default_rng(child_seed(rng))
            monitor = FitMonitor(self.config, self.config.epochs, [self.generator_, self.discriminator_], probe,
                                 lambda counts: self._edits(counts, fit, probe_rng)[:2], label=self.name)
            self.history_ = self._train(torch.from_numpy(np.ascontiguousarray(X[fit], dtype=np.float32)),
                                        torch.from_numpy(y[fit]), gen, monitor)
            self.fit_report_ = monitor.finish()
        self.generator_.eval()
        self.discriminator_.eval()
        self.stats_ = self.fit_report_.stats()

    def _build(self, n_bands: int) -> None:
        import torch

        from methods.gan.escgan_nets import EditingGenerator, TwoHeadDiscriminator

        cfg = self.config
        mask = torch.from_numpy(hull_mask("deap" if cfg.mask == "deap" else self.info.grid))
        self.generator_ = EditingGenerator(n_bands, cfg.hid_channels, self.info.n_classes, mask).to(self.device)
        self.discriminator_ = TwoHeadDiscriminator(n_bands, cfg.hid_channels, self.info.n_classes, cfg.mlp_hidden,
                                                   cfg.dropout).to(self.device)

    def _train(self, X: torch.Tensor, y: torch.Tensor, gen: torch.Generator,
               monitor: FitMonitor) -> list[dict[str, float]]:
        import torch

        from methods.gan.losses import adversarial_loss, boundary_loss, class_loss, diversity_loss, reconstruction_loss

        cfg, G, D, n_classes = self.config, self.generator_, self.discriminator_, self.info.n_classes
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d)
        history, steps = [], 0
        for epoch in range(1, cfg.epochs + 1):
            G.train(), D.train()
            sums = {"loss_g": 0.0, "loss_d": 0.0}
            for step, batch in enumerate(torch.randperm(len(X), generator=gen).split(cfg.batch_size)):
                n = len(batch)
                t = edit_targets(y[batch], n_classes, cfg.target, gen).to(self.device)
                e, labels = X[batch].to(self.device), y[batch].to(self.device)
                both_e, both_t = torch.cat([e, e]), torch.cat([labels, t])  # identity edits, then target edits
                def d_step(fake: torch.Tensor | None) -> torch.Tensor:
                    """Full loss every d_full_every-th batch, class head on real data otherwise."""
                    if step % cfg.d_full_every == 0:
                        if fake is None:
                            with torch.no_grad():
                                fake = G(both_e, both_t)[0][n:]
                        r, c = D(torch.cat([e, fake]))
                        loss = (0.5 * (0.5 * adversarial_loss(r[:n], 0.0) + 0.5 * class_loss(c[:n], labels))
                                + 0.5 * (0.5 * adversarial_loss(r[n:], cfg.smooth_fake)
                                         + 0.5 * cfg.d_fake_class * class_loss(c[n:], t)))
                    else:
                        loss = class_loss(D(e)[1], labels)
                    opt_d.zero_grad(set_to_none=True)
                    loss.backward()
                    opt_d.step()
                    return loss

                if cfg.step_order == "d-first":
                    loss_d = d_step(None)
                # Generator: identity edit, adversarial, boundary, diversity and target terms.
                out, z = G(both_e, both_t)
                x_hat = out[n:]
                r, c = D(torch.cat([e, x_hat]))
                loss_g = (cfg.w_recon * reconstruction_loss(e, out[:n])
                          + cfg.w_adv * adversarial_loss(r[n:], 0.0)
                          + cfg.w_boundary * 0.5 * boundary_loss(c[n:])
                          + cfg.w_diverse * diversity_loss(x_hat, z[n:], torch.randperm(n, generator=gen).to(self.device))
                          + cfg.w_target * class_loss(c[n:], t))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                if cfg.step_order == "g-first":  # D sees the edits of G before its step, as the reference
                    loss_d = d_step(x_hat.detach())
                sums["loss_g"] += loss_g.item() * n
                sums["loss_d"] += loss_d.item() * n
                steps += 1
            history.append({k: v / len(X) for k, v in sums.items()})
            G.eval(), D.eval()  # the monitor edits and judges as sample() does
            if monitor.after_epoch(epoch, steps):
                break
        return history

    def _judge(self, e: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Edit ``e`` into ``t`` with the frozen G and judge the edits with D (no gradients).

        Returns
        -------
        x_hat : Tensor, shape of ``e``
        real : Tensor of bool, shape (n,)
            R's logit is below ``filter_threshold``.
        on_target : Tensor of bool, shape (n,)
            C's argmax is ``t``.
        """
        import torch

        with torch.no_grad():
            x_hat, _ = self.generator_(e, t)
            r, c = self.discriminator_(x_hat)
        return x_hat, r < self.config.filter_threshold, c.argmax(dim=1) == t

    def _kept(self, real: torch.Tensor, on_target: torch.Tensor) -> torch.Tensor:
        """The filter: which edits are kept, shape (n,), bool."""
        if self.config.filter == "none":
            import torch

            return torch.ones_like(real)
        return on_target & real if self.config.filter == "real-and-target" else on_target

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        X, y, tally = self._edits(counts, np.arange(len(self.y_)), rng)
        asked, kept = sum(counts.values()), len(y)
        self.stats_ = {**self.fit_report_.stats(), **_rates(tally), "asked": float(asked), "kept": float(kept)}
        if kept < asked:
            short = {c: (int(np.sum(y == c)), n) for c, n in sorted(counts.items()) if np.sum(y == c) < n}
            log.warning("%s: the filter kept fewer edits than asked (%s; filter=%r, R said real for %d of %d edits, C "
                        "said the target for %d); returning the %d kept, without repeats", self.name,
                        ", ".join(f"class {c}: {got} of {n}" for c, (got, n) in short.items()), self.config.filter,
                        int(tally[1]), int(tally[0]), int(tally[2]), kept)
        return X, y

    def _edits(self, counts: dict[int, int], pool: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to ``counts[c]`` kept edits into each class ``c`` of references drawn from ``pool``.

        References of the other classes are drawn without replacement, in chunks, until enough
        edits pass the filter or the pool is used up (G is deterministic, so a reference gives one
        edit). A class whose edits the filter rejects gets fewer windows, never repeats.

        Parameters
        ----------
        counts : dict of int to int
        pool : ndarray of int
            Indices into the training windows that may serve as references.
        rng : numpy Generator

        Returns
        -------
        X : ndarray, shape (n_kept, B, 9, 9)
        y : ndarray of int64, shape (n_kept,), grouped by class in ascending order
        tally : ndarray, shape (4,)
            Edits made, judged real, judged on target, kept.
        """
        import torch

        parts = [np.empty((0,) + self.X_.shape[1:], dtype=np.float32)]
        labels = [np.empty(0, dtype=np.int64)]
        tally = np.zeros(4)
        for target, n in sorted(counts.items()):
            if not n:
                continue
            refs = rng.permutation(pool[self.y_[pool] != target])
            if refs.size == 0:
                raise MethodError(f"{self.name}: no training window of another class to edit into class {target}; "
                                  "ESC-GAN needs references from at least two classes")
            chunk, kept = max(2 * n, 256), 0
            for start in range(0, len(refs), chunk):
                part = refs[start : start + chunk]
                e = torch.from_numpy(np.ascontiguousarray(self.X_[part], dtype=np.float32)).to(self.device)
                x_hat, real, on_target = self._judge(e, torch.full((len(part),), target, device=self.device))
                keep = self._kept(real, on_target)
                tally += [len(part), real.sum().item(), on_target.sum().item(), keep.sum().item()]
                parts.append(x_hat[keep].cpu().numpy()[: n - kept])
                kept += len(parts[-1])
                if kept >= n:
                    break
            labels.append(np.full(kept, target, dtype=np.int64))
        return np.concatenate(parts), np.concatenate(labels), tally

    def paper_incompatibility(self, classifier: Classifier) -> str | None:
        """Why the ``paper`` recipe cannot train ``classifier`` (None when it can)."""
        if "on_batch" not in classifier.hooks:
            return (f"the escgan paper recipe edits every training batch online, which needs a torch classifier; "
                    f"{classifier.name} is not one")
        if classifier.representation != self.representation:
            return (f"the escgan paper recipe feeds edited {self.representation} windows to the classifier, but "
                    f"{classifier.name} consumes {classifier.representation}")
        return None

    def train_paper(self, classifier: Classifier, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """The reference's classifier optimisation (``train_augment.py``) with the frozen G and D.

        Every training batch (e, y) is edited into ``t = target(y)``; edits that pass the filter
        are appended with label t; when any is kept, the batch is mixed up with its reverse
        (lambda ~ Beta(alpha, alpha), one per batch) and the loss is the mixup cross-entropy.

        Parameters
        ----------
        classifier : TorchClassifier
            Unfitted; trained in place on the real training windows ``X`` (n, B, 9, 9), ``y`` (n,).
        rng : numpy Generator
            Seeds the classifier's fit, the targets and the mixup weights.
        """
        import torch
        import torch.nn.functional as F

        cfg, n_classes = self.config, self.info.n_classes
        G, D = self.generator_.to(classifier.device), self.discriminator_.to(classifier.device)
        gen = torch.Generator().manual_seed(child_seed(rng))
        lam_rng = np.random.default_rng(child_seed(rng))
        tally = np.zeros(4)

        def on_batch(e: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            t = edit_targets(labels.cpu(), n_classes, cfg.target, gen).to(labels.device)
            G.train(cfg.train_mode_filter), D.train(cfg.train_mode_filter)
            x_hat, real, on_target = self._judge(e, t)
            keep = self._kept(real, on_target)
            tally[:] += [len(e), real.sum().item(), on_target.sum().item(), keep.sum().item()]
            x = torch.cat([e, x_hat[keep]])
            soft = F.one_hot(torch.cat([labels, t[keep]]), n_classes).float()
            if cfg.mixup and keep.any():
                return mixup_reversed(x, soft, float(lam_rng.beta(cfg.mixup_alpha, cfg.mixup_alpha)))
            return x, soft

        classifier.hook(on_batch=on_batch)
        try:
            classifier.fit(X, y, rng=rng)
        finally:
            classifier.hook(on_batch=None)
            G.eval(), D.eval()
        self.stats_ = {**self.fit_report_.stats(), **_rates(tally)}


def _rates(tally: np.ndarray) -> dict[str, float]:
    """Acceptance rates from counts (edits, judged real, judged on target, kept)."""
    total = max(tally[0], 1.0)
    return {"acceptance": tally[3] / total, "real_rate": tally[1] / total, "target_rate": tally[2] / total}
