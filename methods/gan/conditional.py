"""What the four baseline generators (``cgan``, ``wgan-gp``, ``vae``, ``ddpm``) share: config, fit and sample.

A baseline generator is a class-conditional model of the training windows in one of two
representations, chosen by its config's ``representation``:

- ``raw``: windows ``(channels, times)``, modelled with 1-D convolutions over time;
- ``de-grid``: DE grids ``(bands, 9, 9)``, modelled with 2-D convolutions over the grid;
- ``auto`` (default): ``de-grid`` when the study's classifier consumes DE grids, ``raw``
  otherwise (raw windows convert to every other representation, see :mod:`datasets.views`).

:class:`ConditionalGenerator` does the bookkeeping every one of them needs, so a method module
holds only its networks and its update step:

1. ``fit`` checks the windows against the configured representation, standardises them with
   statistics of the training fold (per channel for raw windows, per band and cell for grids),
   finds the features that are constant over the fold (the cells outside the electrode grid),
   builds the networks for the window's geometry (:mod:`methods.gan.backbones`) and trains them
   with the shared loop (:func:`methods.gan.training.train_epochs`);
2. ``sample`` asks the method for standardised windows of each requested class, undoes the
   standardisation and gives the constant features back their training value exactly (the empty
   grid cells stay exactly 0), returning float32 windows grouped by class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bench.components import Method, check_windows
from bench.config import ComponentConfig, check_positive_ints
from bench.errors import ConfigError, MethodError
from bench.estimator import IMBLEARN_TABLE_CHECKS, table_checks_fail
from bench.seeding import child_seed, torch_rng
from bench.standardisation import standardisation
from datasets.features import DEFAULT_BANDS
from datasets.grids import GRID
from methods.gan.monitor import FitMonitor, Probe, StoppingConfig, monitored_split

if TYPE_CHECKING:
    import torch
    from torch import nn

    from methods.gan.backbones import Geometry

REPRESENTATIONS = ("auto", "raw", "de-grid")
NORM_AXES = {"raw": (0, 2), "de-grid": (0,)}
"""Standardisation axes of ``(n, *window)``: every channel of raw windows, every (band, cell) of grids."""
SAMPLE_CHUNK = 512
"""Windows generated per forward pass in :meth:`ConditionalGenerator.sample`."""


@dataclass(frozen=True)
class GeneratorConfig(StoppingConfig):
    """Settings every baseline generator has; the defaults are the ``paper``-sized model.

    Parameters
    ----------
    representation : {"auto", "raw", "de-grid"}
        What the generator models (see the module docstring); the architecture follows from it.
    width : int
        Feature channels of the first convolution level; each deeper level doubles them.
    depth : int
        Stride-2 levels (2: 128 -> 64 -> 32 samples, 9 -> 5 -> 3 cells).
    time_kernel : int
        Odd kernel length of the 1-D convolutions over time (raw windows; grids use 3x3).
    embed_dim : int
        Length of the label embedding.
    epochs, batch_size : int
        Passes over the training windows and windows per update.
    lr, beta1, beta2 : float
        Adam's learning rate and betas.
    w_spectral : float
        Raw windows: weight of a spectral moment term added to the generator's loss (0, none, in
        the papers), :func:`~methods.gan.losses.class_mean_loss` between the natural-log band
        power (bands of :data:`~datasets.features.DEFAULT_BANDS`) of generated and real windows
        of the batch's classes.
    w_spectral_grid : float
        DE grids: weight of the same term on the grids' own values (DE is half the log band power
        plus a constant, so the grids are the band features already), standardised.

    The stopping fields are :class:`~methods.gan.monitor.StoppingConfig`'s. The fields in
    ``ALGORITHM`` define the model's objective: no profile changes them, and a study that sets
    them reports the method as a variant (``cgan[w_spectral=50]``).
    """

    representation: str = "auto"
    width: int = 64
    depth: int = 2
    time_kernel: int = 9
    embed_dim: int = 16
    epochs: int = 200
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    w_spectral: float = 0.0
    w_spectral_grid: float = 0.0

    ALGORITHM: ClassVar[tuple[str, ...]] = ("w_spectral", "w_spectral_grid")
    POSITIVE_INTS: ClassVar[tuple[str, ...]] = ("width", "depth", "time_kernel", "embed_dim", "epochs", "batch_size")
    """Integer fields that must be >= 1 (subclasses extend the tuple)."""
    POSITIVE_FLOATS: ClassVar[tuple[str, ...]] = ("lr",)
    """Float fields that must be finite and > 0 (subclasses extend the tuple)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, *self.POSITIVE_INTS)
        name = type(self).__qualname__
        for field in self.POSITIVE_FLOATS:
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}.{field} must be a finite number > 0, got {value!r}")
        if self.representation not in REPRESENTATIONS:
            raise ConfigError(f"{name}.representation must be one of {REPRESENTATIONS}, got {self.representation!r}; "
                              "'auto' follows the classifier (de-grid for de-grid classifiers, raw otherwise)")
        if self.time_kernel % 2 == 0 or self.depth > 6:
            raise ConfigError(f"{name}: time_kernel must be odd and depth at most 6, got time_kernel="
                              f"{self.time_kernel!r}, depth={self.depth!r}")
        for field in ("w_spectral", "w_spectral_grid"):
            value = getattr(self, field)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and value >= 0):
                raise ConfigError(f"{name}.{field} must be a number >= 0, got {value!r}; 0 switches the spectral "
                                  "moment term off")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError(f"{name}.beta1 and beta2 (Adam) must be in [0, 1), got {self.beta1!r}, {self.beta2!r}")


def window_kind(window_shape: tuple[int, ...], representation: str, where: str) -> str:
    """``"raw"`` for a ``(channels, times)`` window, ``"de-grid"`` for ``(bands, 9, 9)``, checked against the config.

    Raises
    ------
    ConfigError
        When the shape is neither, or not the one ``representation`` names.
    """
    kind = "raw" if len(window_shape) == 2 else "de-grid" if tuple(window_shape[1:]) == GRID else None
    if kind is None or representation not in ("auto", kind):
        want = {"auto": "raw windows (channels, times) or DE grids (bands, 9, 9)", "raw": "raw windows (channels, times)",
                "de-grid": "DE grids (bands, 9, 9)"}[representation]
        raise ConfigError(f"{where}: representation={representation!r} models {want}, but got windows of shape "
                          f"{tuple(window_shape)}; give fit the representation the config names, or set "
                          "representation='auto'")
    return kind


def constant_features(X: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Features (window positions) whose value is the same in every window.

    Parameters
    ----------
    X : ndarray, shape (n, *window)

    Returns
    -------
    ndarray of bool, shape window
    """
    same = np.ones(X.shape[1:], dtype=bool)
    for start in range(0, len(X), chunk):
        same &= (X[start : start + chunk] == X[0]).all(axis=0)
    return same


class ConditionalGenerator(Method):
    """Base of the class-conditional baseline generators: fit and sample bookkeeping.

    Subclasses set ``Config`` (a :class:`GeneratorConfig`) and implement :meth:`_build` (networks
    and optimisers for a geometry), :meth:`_step` (one update on a standardised batch) and
    :meth:`_generate` (standardised windows for given labels).

    Attributes
    ----------
    geometry_ : Geometry
        Convolution layout of the training windows.
    mean_, std_ : ndarray of float32
        Standardisation statistics of the training fold, broadcastable to a window.
    fixed_ : ndarray of bool, shape window
        Features constant over the training fold; samples hold their training value there.
    seen_classes_ : ndarray of int64
        Classes present in the training fold (the only ones :meth:`sample` can give).
    history_ : list of dict of str to float
        Mean losses of every epoch.
    """

    representation = "raw"
    inner_validation = True
    cache_fit = True
    cost_s = 30.0
    representation_label: ClassVar[str] = "raw or de-grid, by config"
    estimator_xfail = table_checks_fail(
        "a generator learns from windows of its representation ((n, channels, times) or (n, bands, 9, 9)); imbalanced-learn's check fits a flat "
        "(n, n_features) table of a few features", IMBLEARN_TABLE_CHECKS)
    """What ``bench list`` shows: ``representation`` is only the fallback of :meth:`representation_for`."""
    config: GeneratorConfig

    @classmethod
    def representations(cls) -> tuple[str, ...]:
        """Raw windows (1-D convolutions over time) and DE grids (2-D convolutions over the grid)."""
        return ("raw", "de-grid")

    @classmethod
    def representation_for(cls, config: GeneratorConfig, classifier_representation: str) -> str:
        """``config.representation``; for ``"auto"``, ``de-grid`` with a de-grid classifier and ``raw`` otherwise."""
        if config.representation != "auto":
            return config.representation
        return "de-grid" if classifier_representation == "de-grid" else "raw"

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator,
             groups: np.ndarray | None = None) -> None:
        """Train on the training fold, minus an inner validation split of its trials that decides when to stop.

        Parameters
        ----------
        X : ndarray, shape (n, channels, times) or (n, bands, 9, 9)
            As ``config.representation`` says (either for ``"auto"``).
        y : ndarray of int, shape (n,)
        rng : numpy Generator
            Seeds initialisation, shuffling and every draw of the training.
        groups : ndarray, shape (n,), optional
            Trial of every window: the inner validation split holds out whole trials (the runner
            passes them; without them windows are held out one by one).
        """
        import torch

        from methods.gan.backbones import window_geometry
        from methods.gan.training import train_epochs

        cfg = self.config
        X, y = check_windows(X, y, self.info.n_classes, f"{self.name}.fit")
        kind = window_kind(X.shape[1:], cfg.representation, f"{self.name}.fit")
        X = np.asarray(X, dtype=np.float32)
        fit, val = monitored_split(cfg, groups, y, rng)
        X_fit, y_fit = X[fit], y[fit]
        self.mean_, self.std_ = standardisation(X_fit, NORM_AXES[kind])
        self.fixed_ = constant_features(X_fit)
        self.template_ = X_fit[0].copy()
        self.seen_classes_ = np.unique(y_fit)
        self.geometry_ = window_geometry(X.shape[1:], cfg.depth, cfg.time_kernel)
        self.live_ = torch.from_numpy((~self.fixed_).astype(np.float32)).to(self.device)
        Z = torch.from_numpy((X_fit - self.mean_) / self.std_) * self.live_.cpu()
        probe = (Probe(X_fit, y_fit, X[val], y[val], kind, self.info.sfreq, self.info.n_classes)
                 if len(val) else None)
        with torch_rng(rng):
            self.networks_ = [net.to(self.device) for net in self._build(self.geometry_)]
            for net in self.networks_:
                net.train()
            gen = torch.Generator().manual_seed(child_seed(rng))
            probe_rng = np.random.default_rng(child_seed(rng))
            monitor = FitMonitor(cfg, cfg.epochs, self.networks_, probe,
                                 lambda counts: self._probe_sample(counts, probe_rng, torch.from_numpy(y_fit), gen),
                                 label=self.name)
            self.history_ = train_epochs(self._step, Z, torch.from_numpy(y_fit), epochs=cfg.epochs,
                                         batch_size=cfg.batch_size, gen=gen, device=self.device,
                                         after_epoch=monitor.after_epoch)
            self.fit_report_ = monitor.finish()
            self._after_training(torch.from_numpy(y_fit), gen)
        for net in self.networks_:
            net.eval()
        self.stats_ = self.fit_report_.stats()

    def _probe_sample(self, counts: dict[int, int], rng: np.random.Generator, y: torch.Tensor,
                      gen: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Windows for the monitor's probe, drawn as :meth:`sample` draws them, mid-training."""
        self._after_training(y, gen)  # e.g. the VAE's BatchNorm statistics, as a finished fit has them
        for net in self.networks_:
            net.eval()
        try:
            return self._sample({c: n for c, n in counts.items() if c in self.seen_classes_}, rng)
        finally:
            for net in self.networks_:
                net.train()

    def _sample(self, counts: dict[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Generated windows, ``counts[c]`` of each class ``c``, grouped by class.

        Returns
        -------
        X : ndarray of float32, shape (sum of counts, *window)
        y : ndarray of int64, shape (sum of counts,)
        """
        import torch

        unseen = sorted(c for c, n in counts.items() if n and c not in self.seen_classes_)
        if unseen:
            raise MethodError(f"{self.name}: asked for windows of class {unseen}, but the training fold given to fit has "
                              f"none (it has classes {self.seen_classes_.tolist()}); a conditional generator only learns the "
                              "classes it sees: ask only for classes present in the training fold")
        classes = sorted(counts)
        labels = np.repeat(np.asarray(classes, dtype=np.int64), [counts[c] for c in classes])
        gen = torch.Generator().manual_seed(child_seed(rng))
        Z = np.empty((len(labels), *self.fixed_.shape), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(labels), SAMPLE_CHUNK):
                part = torch.from_numpy(labels[start : start + SAMPLE_CHUNK]).to(self.device)
                Z[start : start + len(part)] = (self._generate(part, gen) * self.live_).cpu().numpy()
        return np.where(self.fixed_, self.template_, Z * self.std_ + self.mean_), labels

    def _randn(self, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
        """Standard normal draws from ``gen`` (a CPU generator), on the method's device."""
        import torch

        return torch.randn(shape, generator=gen).to(self.device)

    def _adam(self, *networks: nn.Module) -> torch.optim.Optimizer:
        """Adam over the networks' parameters with the config's learning rate and betas."""
        import torch

        params = [p for net in networks for p in net.parameters()]
        return torch.optim.Adam(params, lr=self.config.lr, betas=(self.config.beta1, self.config.beta2))

    def _spectral_loss(self, fake: torch.Tensor, real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The spectral moment term: weight x the class-mean gap of band features between ``fake`` and ``real``.

        The band features are the log band power of raw windows (weight ``w_spectral``) and the
        values of DE grids themselves (weight ``w_spectral_grid``), off-grid cells excluded.

        Parameters
        ----------
        fake, real : Tensor, shape (n, *window)
            Standardised windows; standardisation shifts a raw channel's log band power by a
            constant, which the gap between equally standardised batches does not see.
        y : Tensor of int64, shape (n,)

        Returns
        -------
        Tensor, scalar
            0 (without computing anything) when the representation's weight is 0.
        """
        from methods.gan.losses import band_log_power, class_mean_loss

        weight = self._spectral_weight()
        if not weight:
            return fake.new_zeros(())
        if self.geometry_.dim == 1:
            fake, real = (band_log_power(v, self.info.sfreq, DEFAULT_BANDS) for v in (fake, real))
        else:
            fake, real = fake * self.live_, real * self.live_
        return weight * class_mean_loss(fake, real, y)

    def _spectral_weight(self) -> float:
        """The spectral term's weight for the fitted representation: ``w_spectral`` (raw) or ``w_spectral_grid``."""
        return self.config.w_spectral if self.geometry_.dim == 1 else self.config.w_spectral_grid

    def _spectral_on(self) -> bool:
        """Whether the spectral moment term is in the loss (its weight for the representation is > 0)."""
        return bool(self._spectral_weight())

    @staticmethod
    def _update(optimiser: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss`` (gradients cleared first)."""
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    def _build(self, geometry: Geometry) -> list[nn.Module]:
        """Create the networks (and their optimisers) for windows of ``geometry``; return the networks."""
        raise NotImplementedError

    def _after_training(self, y: torch.Tensor, gen: torch.Generator) -> None:
        """Called once after the last update, networks still in training mode, with the fold's labels (n,).

        A no-op here; :class:`~methods.vae.ConditionalVae` re-estimates its decoder's BatchNorm statistics.
        """

    def _step(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """One update on a standardised batch ``x`` (b, *window) with labels ``y`` (b,); returns its losses."""
        raise NotImplementedError

    def _generate(self, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Standardised windows (len(y), *window) of classes ``y``, drawing randomness from ``gen`` (no grad)."""
        raise NotImplementedError

