"""Train a generator until it learnt: an inner validation split, a cheap quality signal, and when to stop.

Every generator (ESC-GAN, DE-3DGAN and the four baselines) holds out whole trials of its
training fold (:func:`inner_split`), trains on the rest, and after each epoch scores its own
samples with a **probe**: a small fixed classifier (standardisation and L2 logistic regression
over band log-power or DE features) trained on generated windows only and scored on the
held-out real windows (train-on-synthetic, test-on-real). The same probe trained on the real
windows the generator trains on gives the ceiling the signal is read against.
:class:`FitMonitor` keeps the best state by that signal, stops on a plateau (``patience``), at
the time budget (``fit_budget_s``) or after the configured epochs, and reports what it used.

Nothing here sees the test fold: the runner gives a generator its training fold only, and the
split is made inside it.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.config import ComponentConfig
from bench.errors import ConfigError
from datasets.features import DEFAULT_BANDS

if TYPE_CHECKING:
    from torch import nn

PROBE_PER_CLASS = 250
"""Generated windows per class the probe is trained on at each evaluation (fewer when the inner
training split has fewer)."""


@dataclass(frozen=True)
class StoppingConfig(ComponentConfig):
    """When a generator's training stops; shared by every generator's config.

    Parameters
    ----------
    val_fraction : float
        Share of the training fold's trials held out as the inner validation split (0.2); 0
        trains on everything and stops only at ``epochs`` or the budget (no signal).
    patience : int
        Evaluations without an improvement of the signal by more than ``min_delta`` after which
        training stops (0: never on a plateau; train for ``epochs``).
    min_delta : float
        Smallest gain of the probe's balanced accuracy that counts as an improvement (0.005).
    eval_every : int
        Epochs between evaluations of the signal (1).
    fit_budget_s : float
        Wall-clock seconds a fit may take (0: no limit); ``bench run --fit-budget`` sets it for
        every generator. A fit stopped by the budget depends on the machine's speed; the fit
        cache keeps reruns identical.
    keep_best : bool
        Restore the state with the best signal when training stops (True).
    """

    val_fraction: float = 0.2
    patience: int = 0
    min_delta: float = 0.005
    eval_every: int = 1
    fit_budget_s: float = 0.0
    keep_best: bool = True

    def __post_init__(self) -> None:
        name = type(self).__qualname__
        if not 0 <= self.val_fraction < 0.5:
            raise ConfigError(f"{name}.val_fraction must be in [0, 0.5), got {self.val_fraction!r}; 0 turns the inner "
                              "validation split off")
        for field in ("patience", "eval_every"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < (field == "eval_every"):
                raise ConfigError(f"{name}.{field} must be an integer >= {int(field == 'eval_every')}, got {value!r}")
        for field in ("min_delta", "fit_budget_s"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name}.{field} must be a finite number >= 0, got {value!r}")


def inner_split(groups: np.ndarray | None, y: np.ndarray, fraction: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hold out about ``fraction`` of each class's trials (whole trials, as the protocols split).

    Parameters
    ----------
    groups : ndarray, shape (n,), or None
        Trial of every window (any hashable ids); None treats every window as its own trial.
    y : ndarray of int, shape (n,)
    fraction : float
        In (0, 0.5).
    rng : numpy Generator

    Returns
    -------
    fit, val : ndarray of int64
        Window indices; every class with at least two trials keeps one in each part, a class
        with one trial stays in ``fit``.
    """
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    uniq, trial = np.unique(groups, return_inverse=True)
    trial_class = np.zeros(len(uniq), dtype=np.int64)
    trial_class[trial] = y  # a trial's windows share its label under every task
    held = np.zeros(len(uniq), dtype=bool)
    for c in np.unique(trial_class):
        members = rng.permutation(np.flatnonzero(trial_class == c))
        if len(members) >= 2:
            held[members[: max(1, min(len(members) - 1, round(fraction * len(members))))]] = True
    val = held[trial]
    return np.flatnonzero(~val), np.flatnonzero(val)


def probe_features(X: np.ndarray, representation: str, sfreq: float) -> np.ndarray:
    """The probe's features: natural-log band power per channel of signals, the values of DE windows.

    Parameters
    ----------
    X : ndarray, shape (n, *window)
        ``raw`` (n, C, T), ``raw-grid`` (n, T, H, W), ``de`` (n, C, B) or ``de-grid`` (n, B, H, W).
    representation : str
    sfreq : float

    Returns
    -------
    ndarray of float64, shape (n, n_features)
        Band power from the periodogram over the bands of :data:`~datasets.features.DEFAULT_BANDS`
        (``log(power + 1e-12)``, so silent channels are constant, not infinite).
    """
    X = np.asarray(X, dtype=np.float64)
    if representation not in ("raw", "raw-grid"):
        return X.reshape(len(X), -1)
    signals = X if representation == "raw" else np.moveaxis(X, 1, -1).reshape(len(X), -1, X.shape[1])
    power = np.abs(np.fft.rfft(signals - signals.mean(axis=-1, keepdims=True), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(signals.shape[-1], 1.0 / sfreq)
    bands = [power[..., (freqs >= lo) & (freqs < hi)].sum(axis=-1) for _, lo, hi in DEFAULT_BANDS]
    return np.log(np.stack(bands, axis=-1) + 1e-12).reshape(len(X), -1)


class Probe:
    """Train-on-synthetic balanced accuracy on held-out real windows, with a fixed small classifier.

    Parameters
    ----------
    x_fit, y_fit : ndarray, shapes (n_fit, *window) and (n_fit,)
        The real windows the generator trains on; they give the ceiling (:attr:`real_score`) and
        the features that vary (constant ones, such as empty grid cells, are left out).
    x_val, y_val : ndarray
        Held-out real windows of the same training fold.
    representation : str
    sfreq : float
    n_classes : int

    Attributes
    ----------
    real_score : float
        Balanced accuracy on ``x_val`` of the probe trained on ``x_fit``.
    per_class : dict of int to int
        Windows per class to generate at each evaluation.
    """

    def __init__(self, x_fit: np.ndarray, y_fit: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                 representation: str, sfreq: float, n_classes: int) -> None:
        self.representation, self.sfreq, self.n_classes = representation, sfreq, n_classes
        f_fit = probe_features(x_fit, representation, sfreq)
        self.live = f_fit.std(axis=0) > 0
        self.f_val, self.y_val = probe_features(x_val, representation, sfreq)[:, self.live], y_val
        counts = np.bincount(y_fit, minlength=n_classes)
        self.per_class = {c: int(min(n, PROBE_PER_CLASS)) for c, n in enumerate(counts) if n}
        self.real_score = self._score(f_fit[:, self.live], y_fit)

    def score(self, x_syn: np.ndarray, y_syn: np.ndarray) -> float:
        """Balanced accuracy on the held-out real windows of the probe trained on ``x_syn`` (0 when it cannot be trained)."""
        if len(np.unique(y_syn)) < 2:
            return 0.0
        features = probe_features(x_syn, self.representation, self.sfreq)[:, self.live]
        if not np.isfinite(features).all():
            return 0.0
        return self._score(features, y_syn)

    def _score(self, features: np.ndarray, y: np.ndarray) -> float:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import balanced_accuracy_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500))
        model.fit(features, y)
        return float(balanced_accuracy_score(self.y_val, model.predict(self.f_val)))


@dataclass
class FitReport:
    """What a generator's training used and reached; ``Method.fit_report_`` after ``fit``.

    Attributes
    ----------
    epochs, steps : int
        Epochs run and optimiser updates of the generator made.
    seconds : float
        Wall-clock seconds of training (evaluations included).
    stop_reason : {"plateau", "budget", "epochs"}
    best_epoch : int
        Epoch whose state was kept (the last one without a signal or without ``keep_best``).
    signal, signal_real : float
        The probe's balanced accuracy on the inner validation split for the kept state, and for
        the real windows the generator trained on (NaN without a validation split).
    curve : list of dict
        Per evaluation: ``epoch``, ``step``, ``seconds``, ``signal``.
    """

    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    stop_reason: str = "epochs"
    best_epoch: int = 0
    signal: float = math.nan
    signal_real: float = math.nan
    curve: list[dict[str, float]] | None = None

    def stats(self) -> dict[str, float]:
        """The numeric part, as ``fit.*`` method stats (the results table's ``method.fit.*`` columns)."""
        return {"fit.epochs": float(self.epochs), "fit.steps": float(self.steps), "fit.seconds": self.seconds,
                "fit.best_epoch": float(self.best_epoch), "fit.signal": self.signal, "fit.signal_real": self.signal_real,
                "fit.stopped_early": float(self.stop_reason != "epochs")}


class FitMonitor:
    """Called after every epoch of a generator's training: evaluate, remember the best state, say when to stop.

    Parameters
    ----------
    config : StoppingConfig
    epochs : int
        The most epochs the training runs.
    modules : sequence of nn.Module
        Whose state is the fitted state (kept and restored with ``keep_best``).
    probe : Probe or None
        None: no signal (no validation split); stops at ``epochs`` or the budget only.
    sample : callable (counts) -> (X, y)
        Generated windows of the given per-class counts, in the representation of the probe;
        called with the networks as they are (the caller switches eval/train mode around it).
    label : str
        Shown on the progress line.
    clock : callable
        Seconds (``time.perf_counter``); replaceable in tests.
    """

    def __init__(self, config: StoppingConfig, epochs: int, modules: Sequence[nn.Module], probe: Probe | None,
                 sample: Callable[[dict[int, int]], tuple[np.ndarray, np.ndarray]], label: str = "fit",
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.config, self.epochs, self.modules, self.probe, self.sample = config, epochs, list(modules), probe, sample
        self.clock = clock
        self.start = clock()
        self.report = FitReport(signal_real=probe.real_score if probe else math.nan, curve=[])
        self._best: list[dict[str, Any]] | None = None
        self._best_signal = -math.inf
        self._since_best = 0
        self._last_epoch_s = 0.0
        self._bar = _progress(label, epochs)

    def after_epoch(self, epoch: int, steps: int) -> bool:
        """Record epoch ``epoch`` (1-based) after ``steps`` generator updates in all; True when training should stop."""
        cfg, now = self.config, self.clock()
        elapsed = now - self.start
        self._last_epoch_s = elapsed - self.report.seconds
        self.report.epochs, self.report.steps, self.report.seconds = epoch, steps, elapsed
        stop = None
        if self.probe is not None and (epoch % cfg.eval_every == 0 or epoch == self.epochs):
            signal = self.probe.score(*self.sample(self.probe.per_class))
            self.report.curve.append({"epoch": epoch, "step": steps, "seconds": self.clock() - self.start,
                                      "signal": signal})
            if self.report.best_epoch == 0 or signal >= self.report.signal:  # a tie keeps the later state
                self.report.best_epoch, self.report.signal = epoch, signal
                if cfg.keep_best:
                    self._best = [copy.deepcopy(m.state_dict()) for m in self.modules]
            if signal > self._best_signal + cfg.min_delta:
                self._best_signal, self._since_best = signal, 0
            else:
                self._since_best += 1
                if cfg.patience and self._since_best >= cfg.patience:
                    stop = "plateau"
        elapsed = self.clock() - self.start
        if stop is None and cfg.fit_budget_s and elapsed + self._last_epoch_s > cfg.fit_budget_s:
            stop = "budget"  # another epoch would overrun
        if stop is None and epoch >= self.epochs:
            stop = "epochs"
        self._show(epoch, elapsed)
        if stop is not None:
            self.report.stop_reason, self.report.seconds = stop, elapsed
        return stop is not None

    def finish(self) -> FitReport:
        """Restore the best state (``keep_best`` with a signal) and return the report."""
        if self._best is not None:
            for module, state in zip(self.modules, self._best):
                module.load_state_dict(state)
        else:  # the last state is kept
            self.report.best_epoch = self.report.epochs
            self.report.signal = self.report.curve[-1]["signal"] if self.report.curve else math.nan
        if self._bar is not None:
            self._bar.close()
        return self.report

    def _show(self, epoch: int, elapsed: float) -> None:
        if self._bar is None:
            return
        left = (self.epochs - epoch) * elapsed / max(epoch, 1)
        if self.config.fit_budget_s:
            left = min(left, max(self.config.fit_budget_s - elapsed, 0.0))
        self._bar.set_postfix_str(f"signal {self.report.signal:.3f} (real {self.report.signal_real:.3f}), "
                                  f"~{left:.0f} s left", refresh=False)
        self._bar.update(1)


def _progress(label: str, epochs: int) -> Any:
    """A progress line below the study's cells bar on a terminal; None elsewhere (logs, tests, CI)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=epochs, desc=label, position=1, leave=False, unit="epoch", dynamic_ncols=True)


def monitored_split(config: StoppingConfig, groups: np.ndarray | None, y: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The windows a generator trains on and its inner validation split (empty when ``val_fraction`` is 0)."""
    if not config.val_fraction:
        return np.arange(len(y)), np.arange(0)
    return inner_split(groups, y, config.val_fraction, rng)
