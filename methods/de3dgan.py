"""``de3dgan``: DE-3DGAN, raw-EEG frames generated from differential-entropy videos (NER 2025)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.components import Classifier, Method, check_windows
from bench.estimator import IMBLEARN_TABLE_CHECKS, table_checks_fail
from bench.errors import ConfigError, MethodError
from bench.registry import METHODS
from bench.seeding import child_seed, torch_rng
from datasets.features import DE3DGAN_FEATURES, de_video
from methods.gan.monitor import FitMonitor, Probe, StoppingConfig, monitored_split

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

D_SCHEDULES = ("epoch", "batch")
DENORMS = ("de", "raw")
STEP_ORDERS = ("g-first", "d-first")
RUNS = ("consecutive", "trial")
MIN_FRAMES = 8
"""Shortest run of consecutive frames G is trained on: 16 half-second windows leave 2 after the
U-Net's three poolings, so BatchNorm has more than one value per channel even in a batch of one."""


@dataclass(frozen=True)
class De3dganConfig(StoppingConfig):
    """DE-3DGAN settings; the defaults (``paper`` profile) are the reference code's.

    Parameters
    ----------
    base : int
        Generator width (32): the U-Net's encoder has base, 2, 4 and 8 x base channels.
    critic_width : float
        Width of the SA-ST-Net body of the critic (1: 256, 128, 64, 32, 16 channels).
    critic_hidden : int
        The critic's hidden layer (1024).
    epochs, batch_trials : int
        Stage 1: 300 epochs of batches of 8 trials.
    lr_g, lr_d, weight_decay : float
        Adam (default betas) for G (1e-4) and the critic (1e-5), weight decay 5e-4 on both.
    w_gp, w_recon : float
        Gradient-penalty weight (1.0) and weight of the reconstruction MSE in G's loss (0.5).
    w_spectral : float
        Weight of a phase-free band log-power loss in G's loss
        (:func:`methods.gan.losses.band_log_power_loss` over the DE bands, per frame and cell); 0 in
        the reference and in every profile: a variant (see Notes).
    d_schedule : {"epoch", "batch"}
        The critic is stepped on every batch of every ``d_every``-th epoch (the reference) or on
        every ``d_every``-th batch (GANSER).
    d_every : int
        5.
    step_order : {"g-first", "d-first"}
        Per batch, G steps and then the critic steps on the frames G made before its step (the
        reference, ``3D-UNet_GAN_Valence.py``), or the critic steps first and G meets the updated one.
    runs : {"consecutive", "trial"}
        What G trains on when a protocol puts some of a trial's frames in the test fold.
        ``consecutive``: runs of at least 8 consecutive training frames. ``trial``: each trial's
        training frames joined in time order (the test frames left out), so G gets whole training
        trials as the reference gets whole trials. Identical under protocols that hold out whole
        trials.
    de_norm : bool
        z-score every DE window across its electrode cells and bands (the 4D-CRNN pipeline the
        reference's DE files come from; the reference ships no extraction code).
    finetune_epochs, finetune_lr, w_feature : int, float, float
        ``paper`` recipe, stage 3: 300 epochs at lr 1e-5 (Adam, the classifier's weight decay and
        batch size), loss CE(real) + 0.5 x MSE(features(real), features(twin)).
    denorm : {"de", "raw"}
        ``paper`` recipe: twins are de-normalised with their trial's DE statistics (the reference)
        or with its raw statistics.

    The stopping fields are :class:`~methods.gan.monitor.StoppingConfig`'s. The fields in
    ``ALGORITHM`` are the published algorithm: no profile changes them, and a study that does
    reports the method as a variant (``de3dgan[w_spectral=5]``).
    """

    base: int = 32
    critic_width: float = 1.0
    critic_hidden: int = 1024
    epochs: int = 300
    batch_trials: int = 8
    lr_g: float = 1e-4
    lr_d: float = 1e-5
    weight_decay: float = 5e-4
    w_gp: float = 1.0
    w_recon: float = 0.5
    w_spectral: float = 0.0
    d_schedule: str = "epoch"
    d_every: int = 5
    step_order: str = "g-first"
    runs: str = "consecutive"
    de_norm: bool = True
    finetune_epochs: int = 300
    finetune_lr: float = 1e-5
    w_feature: float = 0.5
    denorm: str = "de"

    ALGORITHM: ClassVar[tuple[str, ...]] = ("w_gp", "w_recon", "w_spectral", "d_schedule", "d_every", "step_order",
                                            "de_norm", "w_feature", "denorm")
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"base": 4, "critic_width": 0.125, "critic_hidden": 64, "epochs": 30, "batch_trials": 4,
                  "lr_g": 1e-3, "lr_d": 1e-4, "patience": 4, "fit_budget_s": 280.0, "finetune_epochs": 3,
                  "finetune_lr": 1e-4},
        "paper": {},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("base", "critic_hidden", "epochs", "batch_trials", "d_every", "finetune_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"de3dgan.{name} must be an integer >= 1, got {value!r}")
        for name in ("critic_width", "lr_g", "lr_d", "finetune_lr"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"de3dgan.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("weight_decay", "w_gp", "w_recon", "w_spectral", "w_feature"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"de3dgan.{name} must be >= 0, got {getattr(self, name)!r}; 0 switches it off")
        for name, allowed in (("d_schedule", D_SCHEDULES), ("denorm", DENORMS), ("step_order", STEP_ORDERS),
                              ("runs", RUNS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"de3dgan.{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def tiny(cls) -> De3dganConfig:
        return cls.for_profile("quick", {"base": 2, "critic_width": 0.0625, "critic_hidden": 8, "epochs": 1,
                                         "finetune_epochs": 1})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rates, loss weights and epochs."""
        return {
            "lr_g": trial.suggest_float("lr_g", 1e-5, 1e-2, log=True),
            "lr_d": trial.suggest_float("lr_d", 1e-6, 1e-3, log=True),
            "w_recon": trial.suggest_float("w_recon", 0.05, 5.0, log=True),
            "w_gp": trial.suggest_float("w_gp", 0.1, 10.0, log=True),
            "epochs": trial.suggest_int("epochs", 5, 300, log=True),
        }


def trial_runs(trial_id: np.ndarray, position: np.ndarray, min_frames: int = MIN_FRAMES,
               whole_trials: bool = False) -> list[np.ndarray]:
    """Indices of maximal runs of consecutive frames of one trial, each in time order.

    Parameters
    ----------
    trial_id, position : ndarray of int, shape (n,)
        Trial of every frame and its index within the trial.
    min_frames : int
        Shorter runs are left out.
    whole_trials : bool
        One run per trial: all of its frames in time order, across gaps in ``position``.

    Returns
    -------
    list of ndarray of int
        Indices into the ``n`` frames; each run holds frames of one trial in time order
        (consecutive positions unless ``whole_trials``).
    """
    order = np.lexsort((position, trial_id))
    gaps = np.zeros(max(len(order) - 1, 0), dtype=bool) if whole_trials else np.diff(position[order]) != 1
    breaks = np.flatnonzero((np.diff(trial_id[order]) != 0) | gaps) + 1
    return [run for run in np.split(order, breaks) if len(run) >= min_frames]


def feature_gap(f_real: torch.Tensor, f_twin: torch.Tensor) -> torch.Tensor:
    """Stage 3's feature term: the mean over frames of ``mean((f_real - f_twin)^2)`` over features.

    Parameters
    ----------
    f_real, f_twin : Tensor, shape (k, n_features)
        Features of the frames that have a twin and of their twins; frames without a twin are left
        out by the caller, so they neither add to the mean nor count in it.
    """
    return ((f_real - f_twin) ** 2).mean(dim=1).mean()


def _window_zscore(de: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """z-score every window (axis 1) of a DE video (bands, windows, H, W) over its masked cells and bands."""
    cells = de[:, :, mask]  # (bands, windows, n_cells)
    mean = cells.mean(axis=(0, 2), keepdims=True)
    std = cells.std(axis=(0, 2), keepdims=True)
    out = np.zeros_like(de)
    out[:, :, mask] = (cells - mean) / np.where(std > 0, std, 1.0)
    return out


@METHODS.register("de3dgan")
class De3dGan(Method):
    """DE-3DGAN: a 3-D U-Net translates a trial's DE video into its raw-EEG frames (NER 2025).

    Stage 1 trains the generator G on the training trials: the DE of half-second windows on the
    9x9 grid, ``(4, 2T, 9, 9)`` per trial, goes in; the trial's 1-s raw-grid frames
    ``(T, 128, 9, 9)`` come out. The critic is SA-ST-Net's body without dropout on single frames;
    the losses are WGAN-GP (penalty weight 1) for the critic and ``-D(G(de)) + 0.5 MSE(G(de), raw)``
    for G, both sides robust-normalised per batch (1-99 % clip, z-score).

    As a method, :meth:`sample` generates frames of each requested class from the DE of training
    trials of that class. The ``paper`` recipe (:meth:`train_paper`) is stages 2 and 3: the
    classifier (``sa-st-net``) is trained on real frames, then fine-tuned with every real frame
    paired with its generated twin, loss ``CE(real) + 0.5 MSE(features(real), features(twin))``;
    the model after the last epoch is scored.

    "DE-3DGAN: A Differential Entropy-Driven 3D Generative Framework for EEG-Based Emotion
    Recognition", IEEE NER 2025. Reference code: github.com/K1os2U/DE-3DGAN at ``442b7e2``
    (``3D-UNet_GAN_Valence.py``, ``SA-ST_Net_Classifier_Valence.py``,
    ``Finetune_Classifier_Valence.py``), built on GANSER (Zhang et al., IEEE TAC 2022).

    Input: ``raw-grid`` frames (n, 128, 9, 9) of whole 1-s, non-overlapping windows; the runner
    also passes each frame's trial and position (``needs_trials``). The DEAP recipe subtracts
    the 3-s baseline template from the raw frames (``--set segment.baseline=raw``).

    Notes
    -----
    Deviations from the reference code, each deliberate:

    - **No test frame reaches G.** The reference trains G on its own 80/20 split of all trials
      (``3D-UNet_GAN_Valence.py``, ``train_test_split5D``), so G sees whole trials whose frames
      are in the classifier's test folds; here G sees only the fold's training frames, 80 % of
      the training trials for training and 20 % held out (``val_fraction``), as the reference's
      split. Under a protocol that splits trials (``paper-de3dgan``), ``runs="trial"`` (the
      ``de3dgan-paper`` preset) joins each trial's training frames in time order, the test
      frames left out, so G gets every training frame (the DE filters run across the gaps);
      ``runs="consecutive"`` (default) uses only runs of at least 8 consecutive frames
      (``stats_["frames_covered"]`` says how much was).
    - **Stage 3 averages the feature term over frames that have a twin** (frames outside every
      run have none and do not count); the reference's frames all have twins
      (``Finetune_Classifier_Valence.py``, ``ssl.mean()``).
    - **Step order**: G steps, then the critic steps on the frames G made before its step, as
      ``3D-UNet_GAN_Valence.py`` does (``step_order="g-first"``); ``d-first`` is a named variant.
    - **Scoring**: the model after the last epoch, in eval mode, by default. The reference never
      calls ``eval()`` and reports the mean and max over the last 100 epochs of the test fold's
      accuracy, binary F1 and AUROC (``Finetune_Classifier_Valence.py``); the ``de3dgan-paper``
      preset does the same (sa-st-net ``predict_mode="train"``, study ``epoch_metrics=100``), the
      max being test-selected. ``on_epoch`` numbers stage-3 epochs after stage 2's.
    - **DE is computed here**, from the training frames (the reference loads precomputed files
      and has no extraction code): the 4D-CRNN recipe (theta 4-8, alpha 8-14, beta 14-31, gamma
      31-45 Hz, 3rd-order causal Butterworth over the whole run, ln(2 pi e var), ddof 1) on
      half-second windows, then each window z-scored over its electrode cells and bands. The
      frames are the baseline-template-removed raw frames, so no separate DE baseline is removed.
    - **Any trial length and grid** (the reference fixes 60 s): see :mod:`methods.gan.de3dgan_nets`.
      Trials of different lengths go into different batches.
    - **Mask**: G's output and the normalised real frames are multiplied by the electrode cells
      of the training frames. The reference derives the mask from the normalised input, which
      makes it all ones, and then compares G's output with normalised real frames
      whose empty cells are a non-zero constant.
    - **Scale of generated frames**: :meth:`sample` de-normalises G's output with the source
      trial's raw statistics, so synthetic frames are in the real frames' units; the reference's
      choice (the DE statistics) applies to the ``paper`` recipe's twins by default
      (``denorm``).
    - :meth:`sample` gives one frame per training frame of the class's trials (G is
      deterministic): when more are asked for than the trials yield, it returns the distinct
      frames only, never repeats, with a warning; ``stats_`` records ``asked`` and ``kept`` and
      the study's quality gate fails the row with the counts.
    - **Inner validation and early stopping** (the reference trains 300 epochs and keeps the
      last): G trains on the runs of the fold minus 20 % of its trials; after each epoch the
      frames G makes from its training runs train a small probe classifier (band log-power,
      :mod:`methods.gan.monitor`) that is scored on the held-out trials' real frames; the state
      with the best score is kept and training stops on a plateau (``patience``, off in
      ``paper``) or at ``fit_budget_s``. Held-out runs get frames at :meth:`sample` time like
      every other run.
    - **A band-power term, as an opt-in variant** (``w_spectral`` > 0, shown as
      ``de3dgan[w_spectral=5]``; 0, the reference, in every profile): G's loss adds the squared difference of log band power (the four DE bands) between each
      generated and real frame and cell. G is deterministic and its input carries power, not
      phase, so the reconstruction MSE pulls it towards the conditional mean, zero for band-
      limited noise; only the critic pushes power back, which the reference buys with 300
      epochs at base 32. Measured on fold 0 of the synthetic dataset (128 training trials,
      10 epochs): without the term, generated band DE was 1.7, 1.9, 1.0 and 0.5 nats below the
      real frames' (theta to gamma); with it at 5 (20 epochs), within 0.12 nats, and with the
      earlier quick profile's 6 epochs within 0.24 nats (-0.06, -0.24, -0.11, 0.00).
    - The ``quick`` profile is the reference's objective and critic schedule (every batch of
      every 5th epoch) at CPU sizes: base 4, critic width 1/8, batches of 4 trials, learning
      rates 1e-3 / 1e-4, at most 30 epochs, patience 4, 280 s, and 3 fine-tuning epochs at 1e-4.
    - The critic's loss and penalty are computed only in the epochs where it steps; the
      reference computes them on every batch and discards them in the other epochs.
    - Randomness comes from the cell's derived generator; the reference sets no seed.

    Attributes
    ----------
    generator_, critic_ : nn.Module
        After :meth:`fit` (eval mode).
    history_ : list of dict
        Mean G and critic losses of every epoch; the critic's is NaN in an epoch where it was
        not stepped (it is computed only when it steps).
    stats_ : dict of str to float
        ``frames_covered`` (training frames inside runs G was trained on) and, after
        :meth:`sample`, ``asked`` and ``kept`` (frames asked for and returned).
    """

    Config = De3dganConfig
    representation = "raw-grid"
    own_classifier = "sa-st-net"
    cache_fit = True
    cost_s = 47.0
    needs_trials = True
    bounded_output = True
    inner_validation = True
    paper_recipe = True
    estimator_xfail = table_checks_fail(
        "a generator learns from windows of its representation ((n, times, 9, 9) frames of whole trials); imbalanced-learn's check fits a flat "
        "(n, n_features) table of a few features", IMBLEARN_TABLE_CHECKS)
    config: De3dganConfig

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator,
             trials: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Train G and the critic on the training frames, grouped into runs of their trials, minus an inner validation split.

        Parameters
        ----------
        X : ndarray, shape (n, n_times, H, W)
        y : ndarray of int, shape (n,)
        rng : numpy Generator
        trials : (trial_id, position), each ndarray of int, shape (n,)
            Trial of every frame and its index within the trial (the runner passes them).
        """
        import torch

        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        if X.ndim != 4 or X.shape[1] % 2:
            raise ConfigError(f"{self.name}.fit: expects raw-grid frames (n, n_times, H, W) with an even n_times, "
                              f"got {X.shape}")
        if trials is None:
            raise ConfigError(f"{self.name}.fit: needs trials=(trial_id, position) of every frame to build DE videos")
        self.X_, self.y_ = X, y
        self.mask_ = np.any(X != 0, axis=(0, 1))
        self.runs_ = trial_runs(np.asarray(trials[0]), np.asarray(trials[1]), whole_trials=self.config.runs == "trial")
        if not self.runs_:
            raise MethodError(f"{self.name}: no run of {MIN_FRAMES} or more consecutive training frames of one trial; "
                              "DE-3DGAN generates whole trials: use a protocol that keeps trials whole, or "
                              "--set method.de3dgan.runs=trial (each trial's training frames joined, as the "
                              "--preset de3dgan-paper does)")
        self.de_ = [self._de(X[run]) for run in self.runs_]
        fit, val = monitored_split(self.config, trials[0], y, rng)
        held = np.zeros(len(X), dtype=bool)
        held[val] = True
        train_runs = [i for i, run in enumerate(self.runs_) if not held[run[0]]]
        if not train_runs:  # every run's trial was held out: train on all of them, without a signal
            train_runs, val = list(range(len(self.runs_))), val[:0]
        probe = (Probe(X[fit], y[fit], X[val], y[val], "raw-grid", self.info.sfreq, self.info.n_classes)
                 if len(val) else None)
        with torch_rng(rng):
            self._build(X.shape[1])
            gen = torch.Generator().manual_seed(child_seed(rng))
            probe_rng = np.random.default_rng(child_seed(rng))
            monitor = FitMonitor(self.config, self.config.epochs, [self.generator_, self.critic_], probe,
                                 lambda counts: self._frames(counts, train_runs, probe_rng), label=self.name)
            self.history_ = self._train(train_runs, gen, monitor)
            self.fit_report_ = monitor.finish()
        self.generator_.eval(), self.critic_.eval()
        self.stats_ = {"frames_covered": sum(len(self.runs_[i]) for i in train_runs) / len(X),
                       **self.fit_report_.stats()}

    def _de(self, frames: np.ndarray) -> np.ndarray:
        de = de_video(frames, self.info.sfreq, DE3DGAN_FEATURES)
        return _window_zscore(de, self.mask_) if self.config.de_norm else de

    def _build(self, n_times: int) -> None:
        import torch

        from bench.classifiers.sa_st_net import sa_st_critic
        from methods.gan.de3dgan_nets import UNet3DGenerator

        cfg = self.config
        self.generator_ = UNet3DGenerator(len(DE3DGAN_FEATURES.bands), cfg.base, n_times).to(self.device)
        self.critic_ = sa_st_critic(n_times, cfg.critic_width, cfg.critic_hidden).to(self.device)
        self._mask = torch.from_numpy(self.mask_).to(self.device)

    def _batches(self, runs: list[int], gen: torch.Generator) -> list[list[int]]:
        """The given runs (indices into ``runs_``), shuffled, in batches of ``batch_trials`` runs of equal length."""
        import torch

        by_length: dict[int, list[int]] = {}
        for k in torch.randperm(len(runs), generator=gen).tolist():
            by_length.setdefault(len(self.runs_[runs[k]]), []).append(runs[k])
        batches = [group[j : j + self.config.batch_trials] for group in by_length.values()
                   for j in range(0, len(group), self.config.batch_trials)]
        return [batches[k] for k in torch.randperm(len(batches), generator=gen).tolist()]

    def _pair(self, batch: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Robust-normalised DE (b, bands, 2T, H, W) and masked, normalised raw frames (b, T, S, H, W)."""
        import torch

        from methods.gan.de3dgan_nets import robust_norm

        de = torch.from_numpy(np.stack([self.de_[i] for i in batch])).to(self.device)
        raw = torch.from_numpy(np.stack([self.X_[self.runs_[i]] for i in batch])).float().to(self.device)
        return robust_norm(de)[0], robust_norm(raw)[0] * self._mask

    def _train(self, runs: list[int], gen: torch.Generator, monitor: FitMonitor) -> list[dict[str, float]]:
        import torch
        import torch.nn.functional as F

        from methods.gan.losses import band_log_power_loss
        from methods.gan.penalties import critic_loss, generator_adversarial_loss, gradient_penalty

        cfg, G, D = self.config, self.generator_, self.critic_
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, weight_decay=cfg.weight_decay)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, weight_decay=cfg.weight_decay)
        history, steps = [], 0
        for epoch in range(1, cfg.epochs + 1):
            G.train(), D.train()
            sums, d_steps = {"loss_g": 0.0, "loss_d": 0.0}, 0
            batches = self._batches(runs, gen)
            for step, batch in enumerate(batches):
                de, raw = self._pair(batch)
                n_times = raw.shape[2]
                fake = G(de, self._mask)
                real_frames, fake_frames = raw.reshape(-1, n_times, *raw.shape[3:]), fake.reshape(-1, n_times, *raw.shape[3:])
                critic_turn = (epoch if cfg.d_schedule == "epoch" else step + 1) % cfg.d_every == 0

                def critic_step() -> None:
                    loss_d = (critic_loss(D(real_frames), D(fake_frames.detach()))
                              + cfg.w_gp * gradient_penalty(D, real_frames, fake_frames.detach(), gen))
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                    sums["loss_d"] += loss_d.item()

                if critic_turn and cfg.step_order == "d-first":
                    critic_step()
                loss_g = generator_adversarial_loss(D(fake_frames)) + cfg.w_recon * F.mse_loss(fake, raw)
                if cfg.w_spectral:
                    cells = self._mask.flatten()
                    loss_g = loss_g + cfg.w_spectral * band_log_power_loss(
                        fake.flatten(3)[..., cells], raw.flatten(3)[..., cells], self.info.sfreq,
                        DE3DGAN_FEATURES.bands, dim=2)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                if critic_turn and cfg.step_order == "g-first":  # on the frames G made before its step
                    critic_step()
                d_steps += critic_turn
                sums["loss_g"] += loss_g.item() / len(batches)
                steps += 1
            sums["loss_d"] = sums["loss_d"] / d_steps if d_steps else float("nan")
            history.append(sums)
            G.eval(), D.eval()  # the monitor generates frames as sample() does
            if monitor.after_epoch(epoch, steps):
                break
        return history

    def generate(self, run: int, denorm: str = "raw") -> np.ndarray:
        """Generated frames of training run ``run``, in the real frames' order.

        Parameters
        ----------
        run : int
            Index into ``runs_``.
        denorm : {"raw", "de"}
            Scale the normalised output back with the run's raw-frame statistics (real units) or
            with its DE statistics (the reference's stage 3).

        Returns
        -------
        ndarray, shape (len(runs_[run]), n_times, H, W), float32
        """
        import torch

        from methods.gan.de3dgan_nets import robust_norm

        de_norm, de_mean, de_std = robust_norm(torch.from_numpy(self.de_[run][None]).to(self.device))
        if denorm == "raw":
            _, mean, std = robust_norm(torch.from_numpy(self.X_[self.runs_[run]]).float().to(self.device))
        else:
            mean, std = de_mean, de_std
        with torch.no_grad():
            out = self.generator_(de_norm, self._mask)[0] * std + mean
        return (out * self._mask).cpu().numpy()

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        for target in sorted(c for c, n in counts.items() if n):
            if not any(self.y_[run[0]] == target for run in self.runs_):
                raise MethodError(f"{self.name}: no training trial of class {target} to generate frames from; "
                                  "DE-3DGAN turns a trial of the class into frames of that class (under a "
                                  "protocol that splits trials, --set method.de3dgan.runs=trial keeps every trial)")
        X, y = self._frames(counts, range(len(self.runs_)), rng)
        asked = sum(counts.values())
        self.stats_ = {**self.stats_, "asked": float(asked), "kept": float(len(y))}
        if len(y) < asked:
            short = {c: (int(np.sum(y == c)), n) for c, n in sorted(counts.items()) if np.sum(y == c) < n}
            log.warning("%s: the training trials give fewer distinct frames than asked (%s); returning the %d "
                        "distinct ones, without repeats", self.name,
                        ", ".join(f"class {c}: {got} of {n}" for c, (got, n) in short.items()), len(y))
        return X, y

    def _frames(self, counts: dict[int, int], runs: Sequence[int],
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Generated frames of each class ``c``, up to ``counts[c]`` of them, from the given training runs.

        Runs of the class are drawn in random order and generated whole until enough frames are
        there; G is deterministic, so a run gives its frames once and a class whose runs yield
        fewer frames gets fewer (none without runs), never repeats.

        Returns
        -------
        X : ndarray, shape (n, n_times, H, W)
        y : ndarray of int64, shape (n,), grouped by class in ascending order
        """
        parts = [np.empty((0,) + self.X_.shape[1:], dtype=np.float32)]
        labels = [np.empty(0, dtype=np.int64)]
        for target, n in sorted(counts.items()):
            of_class = [i for i in runs if self.y_[self.runs_[i][0]] == target]
            if not n or not of_class:
                continue
            frames, got = [], 0
            for i in rng.permutation(of_class):
                frames.append(self.generate(int(i)))
                got += len(frames[-1])
                if got >= n:
                    break
            parts.append(np.concatenate(frames)[:n])
            labels.append(np.full(len(parts[-1]), target, dtype=np.int64))
        return np.concatenate(parts), np.concatenate(labels)

    def paper_incompatibility(self, classifier: Classifier) -> str | None:
        """The ``paper`` recipe fine-tunes SA-ST-Net's features (the ``logits_and_features`` hook); classifiers
        without that hook are not applicable."""
        if "logits_and_features" not in classifier.hooks:
            return f"the de3dgan paper recipe fine-tunes sa-st-net's fc1 features; {classifier.name} has none"
        return None

    def train_paper(self, classifier: Classifier, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Stages 2 and 3: train ``classifier`` on the real frames, then fine-tune it with twins.

        Parameters
        ----------
        classifier : SASTNet
            Unfitted; trained in place.
        X : ndarray, shape (n, n_times, H, W)
            The real training frames, in the order :meth:`fit` received them.
        y : ndarray of int, shape (n,)
        rng : numpy Generator
        """
        import torch

        if len(X) != len(self.X_):
            raise ConfigError(f"{self.name}.train_paper: got {len(X)} frames, but fit saw {len(self.X_)}; "
                              "pass the same training frames")
        classifier.fit(X, y, rng=rng)  # stage 2
        twins = np.zeros_like(X, dtype=np.float32)
        has_twin = np.zeros(len(X), dtype=bool)
        for i, run in enumerate(self.runs_):
            twins[run] = self.generate(i, self.config.denorm)
            has_twin[run] = True
        with torch_rng(rng):
            self._finetune(classifier, X, y, twins, has_twin, torch.Generator().manual_seed(child_seed(rng)))

    def _finetune(self, classifier: Any, X: np.ndarray, y: np.ndarray, twins: np.ndarray, has_twin: np.ndarray,
                  gen: torch.Generator) -> None:
        """Stage 3: ``CE(real) + w_feature * mean((f(real) - f(twin))^2)``, the mean over the batch's frames that have a twin.

        Frames without a twin add nothing to the feature term and do not count in its mean (a batch
        without any has none). ``classifier.on_epoch`` is called after every epoch, as in stage 2.
        """
        import torch
        import torch.nn.functional as F

        cfg, dev = self.config, classifier.device
        optimiser = torch.optim.Adam(classifier.module_.parameters(), lr=cfg.finetune_lr,
                                     weight_decay=classifier.config.weight_decay)
        data = [torch.from_numpy(np.ascontiguousarray(a)) for a in (X, y, twins, has_twin)]
        for epoch in range(cfg.finetune_epochs):
            classifier.module_.train()
            total = 0.0
            for batch in torch.randperm(len(X), generator=gen).split(classifier.config.batch_size):
                xb, yb, tb, hb = (a[batch].to(dev) for a in data)
                logits, f_real = classifier.logits_and_features(xb.float())
                loss = F.cross_entropy(logits, yb)
                if hb.any():
                    _, f_twin = classifier.logits_and_features(tb[hb])
                    loss = loss + cfg.w_feature * feature_gap(f_real[hb], f_twin)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.item() * len(batch)
            if classifier.on_epoch is not None:
                classifier.on_epoch(classifier.config.epochs + epoch, total / len(X))
        classifier.module_.eval()
