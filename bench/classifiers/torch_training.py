"""The one training loop of every torch classifier, and what it needs.

A torch classifier subclasses :class:`TorchClassifier` and only says how to :meth:`~TorchClassifier.build`
its network (plus, optionally, a weight :meth:`~TorchClassifier.constrain` applied after every
optimiser step). Fitting is the same for all of them:

1. the standardisation statistics are computed on the training windows given to ``fit``;
2. ``module_ = Sequential(Standardize(mean, std), network)`` maps windows in their own units to
   logits, so attacks differentiate through the standardisation too;
3. Adam on cross-entropy over shuffled mini-batches for a fixed number of epochs; the model after
   the last epoch is the final one (no selection on any held-out data).

Everything random (initialisation, dropout, shuffling) happens inside
:func:`bench.seeding.torch_rng`, so a fit is a function of its ``rng`` and leaves torch's global
random state as it found it. torch itself is imported only when a network is built or trained, so
registering the classifiers costs nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.components import WINDOW_NDIM, Classifier
from bench.config import ComponentConfig, check_positive_ints
from bench.standardisation import standardisation
from bench.errors import ConfigError
from bench.estimator import SKLEARN_TABLE_CHECKS, table_checks_fail
from bench.lazy import lazy_attributes
from bench.seeding import child_seed, torch_rng

if TYPE_CHECKING:
    import torch
    from torch import nn


PREDICT_MODES = ("eval", "train")


@dataclass(frozen=True)
class TorchConfig(ComponentConfig):
    """Training settings shared by every torch classifier.

    Parameters
    ----------
    epochs : int
        Passes over the training windows; the model after the last one is kept.
    batch_size : int
        Windows per optimiser step (the last batch of an epoch may be smaller).
    lr : float
        Adam learning rate.
    weight_decay : float
        Adam's L2 penalty (added to the gradient, as ``torch.optim.Adam`` does).
    dropout : float
        Dropout probability of the network's dropout layers, in [0, 1).
    predict_mode : {"eval", "train"}
        The mode the network scores in. ``eval`` (default): dropout off, BatchNorm running
        statistics. ``train``: dropout on and BatchNorm batch statistics, as a reference that never
        calls ``eval()`` scores (DE-3DGAN's ``Finetune_Classifier_Valence.py``); the dropout masks
        are drawn from a seed fixed at fit time, so scores stay reproducible.
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 0.0
    dropout: float = 0.0
    predict_mode: str = "eval"

    def __post_init__(self) -> None:
        check_positive_ints(self, "epochs", "batch_size")
        name = type(self).__qualname__
        if not self.lr > 0:
            raise ConfigError(f"{name}.lr must be > 0, got {self.lr!r}; use a small positive rate such as 1e-3")
        if not self.weight_decay >= 0:
            raise ConfigError(f"{name}.weight_decay must be >= 0, got {self.weight_decay!r}; use 0 to switch it off")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"{name}.dropout must be in [0, 1), got {self.dropout!r}; use 0 to switch it off")
        if self.predict_mode not in PREDICT_MODES:
            raise ConfigError(f"{name}.predict_mode must be one of {PREDICT_MODES}, got {self.predict_mode!r}")

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rate and weight decay (log-uniform) and dropout."""
        return {
            "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.6),
        }


@functools.cache
def _standardize_class() -> type[nn.Module]:
    import torch
    from torch import nn

    class Standardize(nn.Module):
        """``(x - mean) / std`` with the training windows' statistics held as buffers.

        Parameters
        ----------
        mean, std : ndarray, shape broadcastable to (n, *window shape)
        """

        def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean))
            self.register_buffer("std", torch.as_tensor(std))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x - self.mean) / self.std

    Standardize.__module__, Standardize.__qualname__ = __name__, "Standardize"
    return Standardize


__getattr__ = lazy_attributes(__name__, {"Standardize": _standardize_class})


def output_shape(module: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of one window's output of ``module`` (a zero input in eval mode; no state changes)."""
    import torch

    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(torch.zeros((1, *input_shape)))
    module.train(was_training)
    return tuple(out.shape[1:])


class TorchClassifier(Classifier):
    """Base of the torch classifiers: shared fit (standardise, Adam, cross-entropy) and scoring.

    Subclasses set ``representation``, ``Config`` (a :class:`TorchConfig`) and ``norm_axes``, and
    implement :meth:`build`.

    Attributes
    ----------
    norm_axes : tuple of int
        Axes of the ``(n, *window shape)`` input over which the standardisation mean and standard
        deviation are computed: ``(0,)`` standardises every feature, ``(0, 2)`` every channel of
        ``(n, channels, times)`` windows.
    on_epoch : callable (epoch, mean training loss) -> None, or None
        Called after every epoch (Optuna pruning hooks in here); may raise to stop training.
    on_batch : callable (x, y) -> (x, target), or None
        Replaces every training batch before the loss: ``x`` in the windows' own units on the
        device, ``y`` int64 labels; ``target`` is labels (n,) or class probabilities
        (n, n_classes). Online augmentation recipes (ESC-GAN's ``paper`` recipe) hook in here.
    module_ : nn.Module
        After ``fit``: ``Sequential(Standardize, network)``, windows in their own units -> logits.
    history_ : list of float
        Mean training cross-entropy of every epoch so far.
    input_shape_ : tuple of int
        Window shape seen by ``fit``.
    """

    differentiable: ClassVar[bool] = True
    estimator_xfail = table_checks_fail(
        "a torch classifier learns from windows of its representation, (n, channels, times), (n, channels, bands) "
        "or (n, ..., 9, 9); scikit-learn's check fits a flat (n, n_features) table of a few features",
        SKLEARN_TABLE_CHECKS)
    cost_s = 10.0
    hooks: ClassVar[frozenset[str]] = frozenset({"on_batch", "on_epoch"})
    norm_axes: ClassVar[tuple[int, ...]] = (0,)
    config: TorchConfig
    on_epoch: Callable[[int, float], None] | None = None
    on_batch: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None

    def build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        """The network, mapping standardised windows of ``input_shape`` to ``n_classes`` logits."""
        raise NotImplementedError

    def constrain(self, network: nn.Module) -> None:
        """Adjust weights after every optimiser step (e.g. max-norm); nothing by default."""

    def _fit(self, X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator) -> None:
        """Train on windows ``X`` (n, *window shape) with labels ``y`` (n,) in ``0 .. n_classes - 1``."""
        import torch

        X = self._windows(X, "fit")
        self.input_shape_ = X.shape[1:]
        self.history_: list[float] = []
        mean, std = standardisation(X, self.norm_axes)
        with torch_rng(rng):
            network = self.build(self.input_shape_, self.info.n_classes)
            self.module_ = torch.nn.Sequential(_standardize_class()(mean, std), network).to(self.device)
            shuffle = torch.Generator().manual_seed(child_seed(rng))
            self.predict_seed_ = child_seed(rng)
            self._train(torch.from_numpy(X), torch.tensor(y), shuffle)
        self.module_.eval()

    def _train(self, X: torch.Tensor, y: torch.Tensor, shuffle: torch.Generator) -> None:
        import torch

        cfg = self.config
        network = self.module_[1]
        optimiser = torch.optim.Adam(self.module_.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        loss_fn = torch.nn.CrossEntropyLoss()
        for epoch in range(cfg.epochs):
            self.module_.train()
            total = torch.zeros((), device=self.device)  # summed on the device: no sync per batch
            for batch in torch.randperm(len(X), generator=shuffle).split(cfg.batch_size):
                xb, yb = X[batch].to(self.device), y[batch].to(self.device)
                if self.on_batch is not None:
                    xb, yb = self.on_batch(xb, yb)
                loss = loss_fn(self.module_(xb), yb)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                self.constrain(network)
                total += loss.detach() * len(batch)
            self.history_.append(total.item() / len(X))
            if self.on_epoch is not None:
                self.on_epoch(epoch, self.history_[-1])

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Softmax of ``module_``'s logits, shape (n, n_classes), float64 (batched, in ``predict_mode``)."""
        import torch

        X = self._windows(X, "predict_proba")
        if X.shape[1:] != self.input_shape_:
            raise ConfigError(f"{self.name}.predict_proba: windows of shape {X.shape[1:]}, but fit saw "
                              f"{self.input_shape_}; score windows of the representation it was trained on")
        was_training = self.module_.training
        self.module_.train(self.config.predict_mode == "train")
        try:
            with torch.no_grad(), torch_rng(np.random.default_rng(self.predict_seed_)):
                logits = [self.module_(b.to(self.device)).double().cpu()
                          for b in torch.from_numpy(X).split(self.config.batch_size)]
        finally:
            self.module_.train(was_training)
        return torch.softmax(torch.cat(logits), dim=1).numpy()

    def features(self, X: np.ndarray) -> np.ndarray:
        """Penultimate-layer features: the input of the network's last linear layer (eval mode, batched).

        Parameters
        ----------
        X : ndarray, shape (n, *window shape)
            Windows in their own units, of the shape ``fit`` saw.

        Returns
        -------
        ndarray, shape (n, n_features), float32
        """
        import torch

        X = self._windows(X, "features")
        last = [m for m in self.module_.modules() if isinstance(m, torch.nn.Linear)]
        if not last:
            raise ConfigError(f"{self.name}.features: the network has no linear layer whose input is the "
                              "feature vector")
        captured: list[torch.Tensor] = []
        hook = last[-1].register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].detach().flatten(1)))
        try:
            self.predict_proba(X)
        finally:
            hook.remove()
        return torch.cat(captured).cpu().numpy()

    def _windows(self, X: np.ndarray, where: str) -> np.ndarray:
        X = np.require(X, np.float32, ("C", "W"))  # no copy of a writable float32 array; never written to
        if X.ndim != 1 + WINDOW_NDIM[self.representation]:
            raise ConfigError(f"{self.name}.{where}: expected {self.representation} windows, an array of "
                              f"{1 + WINDOW_NDIM[self.representation]} dimensions (n, *window shape), got {X.shape}; "
                              "reshape flat features into windows first")
        return X
