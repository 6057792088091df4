"""Adversarial attacks on trained torch classifiers (registry ``ATTACKS``), through torchattacks.

An attack perturbs the real test windows of a cell, in the classifier's own representation and
units, through the classifier's ``module_`` (the ``nn.Module`` from windows to logits)::

    scale = EpsScale.from_training(X_train)                  # real training fold windows only
    attack = ATTACKS.get("pgd")(PGDConfig(), device="cpu")
    delta = perturbation(attack, clf.module_, X_test, y_test, scale, eps=0.05, rng=rng)
    robust_proba = clf.predict_proba(X_test + delta)

**What eps means.** ``eps`` is in units of the training data's per-feature standard deviation:
the radius in the data's own units (microvolts on ``raw``/``raw-grid``, DE units on ``de``/
``de-grid``) is ``eps_data = eps * unit``, where ``unit`` is the mean, over the features that vary in
the real training windows, of each feature's standard deviation across those windows
(:class:`EpsScale`). Features that are constant over the training fold (grid cells outside the
electrode hull) get no budget. So one eps is the same relative budget on every dataset and
representation.

- ``fgsm``, ``pgd``, ``apgd`` are bounded L-infinity attacks: every feature of ``delta`` is within
  ``eps_data`` (checked and enforced after the attack).
- ``deepfool`` and ``cw`` are minimum-norm L2 attacks: they run once without a budget and
  :func:`bench.robustness.robustness` counts a perturbation at ``eps`` only when its RMS over the
  varying features is at most ``eps_data``, i.e. the L2 ball ``||delta||_2 <= eps_data * sqrt(D)``
  that circumscribes the L-infinity ball (D varying features). Otherwise the window stays clean.

**The [0, 1] trap.** torchattacks clamps every adversarial input to [0, 1] (images); EEG in its
own units would be flattened by the clamp before any perturbation. Each
attack therefore sees the windows through a chart (:func:`unit_chart`, :class:`UnitChart`): a
flattened ``(B, 1, 1, D)`` point ``u`` in [0, 1] with ``x = centre + step * (u - 1/2)``, where
``centre`` is the per-feature midpoint of the attacked windows' range and ``step`` is the same
scalar width for every varying feature (0 for constant ones) chosen so that the clean windows lie in
[1/4, 3/4] and the whole eps ball inside [0, 1]: the clamp can never bind. The chart is a
change of coordinates, not a fit; for the L-infinity attacks and DeepFool the result does not depend
on it (their steps are sign or L2 geometry, both invariant to a uniform scale); CW's ``c`` and
``lr`` are relative to it (its width is 4 x the largest half-range of the attacked windows).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.config import ComponentConfig, check_positive_ints
from bench.errors import BenchError, ConfigError
from bench.lazy import lazy_attributes
from bench.registry import ATTACKS
from bench.seeding import child_seed, torch_rng
from bench.standardisation import moments, varies

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class AttackConfig(ComponentConfig):
    """Settings shared by every attack.

    Parameters
    ----------
    batch_size : int
        Test windows attacked at once (results of every attack but CW are independent of it).
    """

    batch_size: int = 256

    def __post_init__(self) -> None:
        check_positive_ints(self, "batch_size")


def _check_positive(config: Any, *fields: str) -> None:
    for name in fields:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
            raise ConfigError(f"{type(config).__qualname__}.{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class EpsScale:
    """The unit of eps: the training windows' mean per-feature standard deviation.

    Parameters
    ----------
    unit : float
        Mean over the varying features of their standard deviation across the training windows,
        in the data's own units; ``eps_data = eps * unit``.
    varying : ndarray of bool, shape (window shape)
        Features that vary over the training windows; only they are perturbed.
    """

    unit: float
    varying: np.ndarray

    @classmethod
    def from_training(cls, X_train: np.ndarray) -> EpsScale:
        """Compute the scale from the real training fold's windows ``X_train`` (n, *window shape)."""
        mean, std = moments(np.asarray(X_train), (0,))
        keep = varies(mean, std)[0]
        if not keep.any():
            raise ConfigError("attacks: every feature of the training windows is constant, so eps has no unit; "
                              "check the dataset's windows")
        return cls(unit=float(std[0][keep].mean()), varying=keep)

    def radius(self, eps: float) -> float:
        """``eps`` (in standard deviations) in the data's own units."""
        return float(eps) * self.unit

    def rms(self, delta: np.ndarray) -> np.ndarray:
        """Root mean square of each perturbation over the varying features, shape (n,), data units."""
        flat = delta.reshape(len(delta), -1)[:, self.varying.reshape(-1)]
        return np.sqrt(np.mean(np.square(flat, dtype=np.float64), axis=1))


def unit_chart(X: np.ndarray, varying: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
    """Centre and width of the chart that puts windows ``X`` and their ``radius`` ball inside [0, 1].

    Parameters
    ----------
    X : ndarray, shape (n, *window shape)
        The windows to attack.
    varying : ndarray of bool, shape (window shape)
    radius : float
        Largest L-infinity perturbation the attack may make, data units (> 0).

    Returns
    -------
    centre : ndarray of float32, shape (D,)
        Per-feature midpoint of ``X``'s range (D = features of a window).
    width : float
        Data units per unit of ``u``: ``4 * max(largest half-range of a varying feature, radius)``,
        so clean windows map into [1/4, 3/4] and ``u +- radius / width`` stays in [0, 1].
    """
    flat = X.reshape(len(X), -1)
    lo, hi = flat.min(axis=0).astype(np.float64), flat.max(axis=0).astype(np.float64)
    half = float(((hi - lo) / 2)[varying.reshape(-1)].max())
    return ((lo + hi) / 2).astype(np.float32), 4.0 * max(half, radius)


@functools.cache
def _chart_class() -> type[nn.Module]:
    from torch import nn

    class UnitChart(nn.Module):
        """The classifier seen from the chart: ``u`` (B, 1, 1, D) in [0, 1] -> logits.

        ``x = centre + step * (u - 1/2)`` reshaped to the window shape; ``step`` is the chart's
        width on varying features and 0 on constant ones (which stay at ``centre``).
        """

        def __init__(self, model: nn.Module, centre: torch.Tensor, step: torch.Tensor, shape: tuple[int, ...]) -> None:
            super().__init__()
            self.model = model
            self.register_buffer("centre", centre)
            self.register_buffer("step", step)
            self.shape = tuple(shape)

        def forward(self, u: torch.Tensor) -> torch.Tensor:
            x = self.centre + self.step * (u.flatten(1) - 0.5)
            return self.model(x.reshape(-1, *self.shape))

    UnitChart.__module__, UnitChart.__qualname__ = __name__, "UnitChart"
    return UnitChart


__getattr__ = lazy_attributes(__name__, {"UnitChart": _chart_class})


class Attack:
    """An attack: a torchattacks attack on the chart, with its threat model.

    Subclasses set ``Config``, ``norm`` and ``minimum_norm`` and implement :meth:`build`.

    Attributes
    ----------
    norm : {"Linf", "L2"}
        The norm the eps ball is declared in.
    minimum_norm : bool
        True for attacks that search for the smallest perturbation without a budget (DeepFool, CW);
        they run once per cell and are scored at every eps by the size of what they found.
    """

    name: ClassVar[str]
    Config: ClassVar[type[AttackConfig]] = AttackConfig
    norm: ClassVar[str] = "Linf"
    minimum_norm: ClassVar[bool] = False

    def __init__(self, config: AttackConfig | None = None, *, device: str = "cpu") -> None:
        if config is None:
            config = self.Config()
        if not isinstance(config, self.Config):
            raise ConfigError(f"attack {self.name}: expected a {self.Config.__qualname__}, got {type(config).__name__}")
        self.config = config
        self.device = device

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def incompatibility(self, n_classes: int) -> str | None:
        """Why the attack cannot run on a task of ``n_classes`` classes, or None when it can."""
        return None

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        """The torchattacks attack on ``model`` (the chart) with L-infinity budget ``eps`` in chart units."""
        raise NotImplementedError


@ATTACKS.register("none")
class NoAttack(Attack):
    """No attack: the test fold as it is (torchattacks' VANILA); the clean scores are always reported."""

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        return torchattacks.VANILA(model)


@ATTACKS.register("fgsm")
class FGSM(Attack):
    """Fast gradient sign method, L-infinity (Goodfellow et al., ICLR 2015, arXiv:1412.6572).

    Notes
    -----
    One step ``x + eps * sign(grad of the cross-entropy)``, untargeted, as torchattacks' ``FGSM``.
    The ESC-GAN reference code defines such a function but never calls it.
    """

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        return torchattacks.FGSM(model, eps=eps)


@dataclass(frozen=True)
class PGDConfig(AttackConfig):
    """Projected gradient descent settings; the defaults are the ESC-GAN reference code's PGD.

    Parameters
    ----------
    steps : int
        Gradient-sign steps (reference: 10).
    step_size : float
        Step as a fraction of eps (reference: 0.001 at eps 0.01, i.e. 0.1).
    random_start : bool
        Start from a uniform point of the eps ball (reference: no).
    """

    steps: int = 10
    step_size: float = 0.1
    random_start: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, "steps")
        _check_positive(self, "step_size")

    @classmethod
    def tiny(cls) -> PGDConfig:
        return cls(steps=3, step_size=0.5, random_start=True)


@ATTACKS.register("pgd")
class PGD(Attack):
    """Projected gradient descent, L-infinity (Madry et al., ICLR 2018, arXiv:1706.06083).

    The defaults (10 steps of 0.1 eps, no random start) are the ESC-GAN reference code's PGD
    (``train_evaluator.py``: eps 0.01, step 0.001, 10 steps).

    Notes
    -----
    - eps is in training standard deviations (see :mod:`bench.attacks`); the reference's 0.01 is
      in DE-grid units. ``robust.pgd@<eps>.eps_data`` gives the budget in DE units.
    - The reference perturbs without clipping to a data range; so does this one (the chart never
      clamps), but features constant over the training fold are not perturbed.
    - With ``random_start`` the start is drawn from the cell's derived seed.
    """

    Config = PGDConfig

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        cfg = self.config
        return torchattacks.PGD(model, eps=eps, alpha=cfg.step_size * eps, steps=cfg.steps,
                                random_start=cfg.random_start)


APGD_LOSSES = ("ce", "dlr")


@dataclass(frozen=True)
class APGDConfig(AttackConfig):
    """Auto-PGD settings (torchattacks' defaults).

    Parameters
    ----------
    steps : int
    n_restarts : int
        Random restarts (each from the cell's derived seed).
    loss : {"ce", "dlr"}
        ``dlr`` needs at least 3 classes; on binary tasks its robust scores are NaN, with the reason.
    rho : float
        Step-size decay threshold, in (0, 1).
    """

    steps: int = 10
    n_restarts: int = 1
    loss: str = "ce"
    rho: float = 0.75

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, "steps", "n_restarts")
        if self.loss not in APGD_LOSSES:
            raise ConfigError(f"APGDConfig.loss must be one of {APGD_LOSSES}, got {self.loss!r}")
        if not 0 < self.rho < 1:
            raise ConfigError(f"APGDConfig.rho must be in (0, 1), got {self.rho!r}; torchattacks' default is 0.75")

    @classmethod
    def tiny(cls) -> APGDConfig:
        return cls(steps=3)


@ATTACKS.register("apgd")
class APGD(Attack):
    """Auto-PGD, L-infinity (Croce & Hein, ICML 2020, arXiv:2003.01690).

    Notes
    -----
    - torchattacks' ``APGD`` seeds torch's global generator itself; here it runs inside
      :func:`bench.seeding.torch_rng` with a seed drawn from the cell's derived generator, so the
      caller's random state is restored.
    - ``loss="dlr"`` indexes the third-largest logit: on binary tasks it does not apply (NaN scores, with the reason).
    """

    Config = APGDConfig

    def incompatibility(self, n_classes: int) -> str | None:
        if self.config.loss == "dlr" and n_classes < 3:
            return f"apgd with loss='dlr' needs at least 3 classes, the task has {n_classes}; use loss='ce'"
        return None

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        cfg = self.config
        return torchattacks.APGD(model, norm="Linf", eps=eps, steps=cfg.steps, n_restarts=cfg.n_restarts,
                                 seed=child_seed(rng), loss=cfg.loss, rho=cfg.rho)


@dataclass(frozen=True)
class DeepFoolConfig(AttackConfig):
    """DeepFool settings (torchattacks' defaults, assumed by ESC-GAN's unused DeepFool).

    Parameters
    ----------
    steps : int
    overshoot : float
    """

    steps: int = 50
    overshoot: float = 0.02

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, "steps")
        _check_positive(self, "overshoot")

    @classmethod
    def tiny(cls) -> DeepFoolConfig:
        return cls(steps=3)


@ATTACKS.register("deepfool")
class DeepFool(Attack):
    """DeepFool, minimum L2 perturbation (Moosavi-Dezfooli et al., CVPR 2016, arXiv:1511.04599).

    Notes
    -----
    A minimum-norm attack: it has no eps. It runs once per cell; at each eps a window counts as
    perturbed only if the RMS of its perturbation over the varying features is at most
    ``eps_data`` (see :mod:`bench.attacks`), otherwise it stays clean.
    """

    Config = DeepFoolConfig
    norm = "L2"
    minimum_norm = True

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        return torchattacks.DeepFool(model, steps=self.config.steps, overshoot=self.config.overshoot)


@dataclass(frozen=True)
class CWConfig(AttackConfig):
    """Carlini-Wagner L2 settings (torchattacks' defaults).

    Parameters
    ----------
    c : float
        Weight of the misclassification term against the squared L2 distance (in chart units).
    kappa : float
        Confidence margin (>= 0).
    steps : int
    lr : float
        Adam learning rate in tanh space.
    """

    c: float = 1.0
    kappa: float = 0.0
    steps: int = 50
    lr: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, "steps")
        _check_positive(self, "c", "lr")
        if not (self.kappa >= 0 and math.isfinite(self.kappa)):
            raise ConfigError(f"CWConfig.kappa must be a finite number >= 0, got {self.kappa!r}")

    @classmethod
    def tiny(cls) -> CWConfig:
        return cls(steps=3)


@ATTACKS.register("cw")
class CW(Attack):
    """Carlini-Wagner, minimum L2 perturbation (Carlini & Wagner, IEEE S&P 2017, arXiv:1608.04644).

    Notes
    -----
    - torchattacks' version: fixed ``c`` (no binary search), Adam in tanh space of the [0, 1]
      chart; ``c`` and ``lr`` are therefore relative to the chart's width (see :mod:`bench.attacks`).
    - Scored like DeepFool: a perturbation counts at eps only when its RMS is at most ``eps_data``.
    - Its early stop looks at the summed cost of a batch, so results depend on ``batch_size``.
    """

    Config = CWConfig
    norm = "L2"
    minimum_norm = True

    def build(self, model: nn.Module, eps: float, rng: np.random.Generator) -> Any:
        import torchattacks

        cfg = self.config
        return torchattacks.CW(model, c=cfg.c, kappa=cfg.kappa, steps=cfg.steps, lr=cfg.lr)


def perturbation(attack: Attack, module: nn.Module, X: np.ndarray, y: np.ndarray, scale: EpsScale, eps: float,
                 rng: np.random.Generator) -> np.ndarray:
    """The attack's perturbation of windows ``X``, in the data's own units.

    Parameters
    ----------
    attack : Attack
    module : nn.Module
        The classifier's ``module_``: windows in their own units -> logits. Neither its weights nor
        its gradients change; its parameters' ``requires_grad`` flags are restored.
    X : ndarray, shape (n, *window shape)
        The real test windows.
    y : ndarray of int, shape (n,)
    scale : EpsScale
        From the real training windows.
    eps : float
        Budget in training standard deviations (ignored by minimum-norm attacks).
    rng : numpy Generator
        Seeds everything random in the attack; torch's global random state is restored.

    Returns
    -------
    delta : ndarray of float32, shape (n, *window shape)
        ``X + delta`` are the adversarial windows; 0 on features constant over the training fold.
        For L-infinity attacks every entry is within ``scale.radius(eps)``.
    """
    import torch

    if not (eps >= 0 and math.isfinite(eps)):
        raise ConfigError(f"eps must be a finite number >= 0, got {eps!r}")
    X = np.asarray(X, dtype=np.float32)
    radius = 0.0 if attack.minimum_norm else scale.radius(eps)
    centre, width = unit_chart(X, scale.varying, max(radius, scale.unit))
    step = np.where(scale.varying.reshape(-1), width, 0.0).astype(np.float32)
    device = attack.device
    chart = _chart_class()(module, torch.from_numpy(centre), torch.from_numpy(step), X.shape[1:]).to(device).eval()
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    was_training = module.training
    out = []
    try:
        for p in params:
            p.requires_grad_(False)
        with torch_rng(rng):
            adversary = attack.build(chart, radius / width, rng)
            for start in range(0, len(X), attack.config.batch_size):
                xb = torch.from_numpy(X[start : start + attack.config.batch_size].reshape(-1, 1, 1, centre.size))
                u = (0.5 + (xb - torch.from_numpy(centre)) / width).to(device)
                yb = torch.as_tensor(y[start : start + attack.config.batch_size], dtype=torch.int64).to(device)
                adv = adversary(u, yb)
                out.append(((adv - u).flatten(1) * chart.step).detach().cpu().numpy())
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
        module.train(was_training)
    delta = np.concatenate(out).reshape(X.shape) if out else np.zeros_like(X)
    if not attack.minimum_norm:
        # (u_adv - u) * width may exceed the radius by float32 rounding of u, never by more.
        excess = float(np.abs(delta).max(initial=0.0)) - radius
        if excess > 8 * np.finfo(np.float32).eps * width:
            raise BenchError(f"attack {attack.name} left the eps ball by {excess:.3g} (radius {radius:.3g}): the "
                             "[0, 1] chart does not hold the windows; this is a bug in bench.attacks")
        np.clip(delta, -radius, radius, out=delta)
    return delta
