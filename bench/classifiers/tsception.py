"""``tsception``: TSception, multi-scale temporal and hemisphere-asymmetric spatial convolutions on raw EEG.

:func:`hemisphere_pairs` finds the left/right electrode pairs of a montage from its 10-20 names;
:func:`pooled_lengths` gives the time length after each stage, so a too-short window is a clear
error instead of a shape failure deep inside torch.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bench.classifiers.torch_training import TorchClassifier, TorchConfig
from bench.config import check_positive_ints
from bench.errors import ConfigError
from bench.lazy import lazy_attributes
from bench.registry import CLASSIFIERS

if TYPE_CHECKING:
    import torch
    from torch import nn

WINDOWS_S = (0.5, 0.25, 0.125)
"""Lengths of the three temporal kernels, in seconds (the paper's inception windows)."""
POOL = 8
"""Power-layer pooling length of the temporal layer; the spatial layers pool over POOL // 4 = 2."""
POOL_STEP = 2
"""Stride of every power layer (the reference's ``int(pool * pool_step_rate)`` = 8 * 0.25)."""
FUSION_POOL = 4
"""Power-layer pooling length of the fusion layer."""
LOG_EPS = 1e-6
"""Added to the pooled power before the log, so that an all-zero window stays finite."""

_NAME = re.compile(r"^([A-Za-z]+)(\d+)$")


def hemisphere_pairs(ch_names: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices of symmetric left/right electrode pairs, from 10-20 / 10-10 channel names.

    A name ending in an odd number is over the left hemisphere, its mirror is the same letters
    with the next (even) number: Fp1/Fp2, F3/F4, FC5/FC6, T7/T8, PO7/PO8, CB1/CB2. Midline names
    ("Fz", "Cz", ...) and lateral channels whose mirror is not recorded are left out. Names match
    case-insensitively.

    Parameters
    ----------
    ch_names : tuple of str, length n_channels
        The montage, in the order of the channel axis.

    Returns
    -------
    left, right : tuple of int, each of length n_pairs
        ``left[i]`` and ``right[i]`` index the two channels of pair i, in the order of the left
        channels in ``ch_names``.

    Raises
    ------
    ConfigError
        If the names give no pair.
    """
    index = {name.upper(): i for i, name in enumerate(ch_names)}
    left, right = [], []
    for i, name in enumerate(ch_names):
        match = _NAME.match(name)
        if match and int(match[2]) % 2 == 1:
            mirror = f"{match[1]}{int(match[2]) + 1}".upper()
            if mirror in index:
                left.append(i)
                right.append(index[mirror])
    if not left:
        raise ConfigError(
            f"tsception: the channel names {list(ch_names)} (DataInfo.ch_names) give no left/right pair; "
            "its hemisphere kernel needs 10-20 names where an odd number is left and the next even number "
            "its mirror (Fp1/Fp2, F3/F4, ...): rename the channels or use a classifier without spatial "
            "asymmetry (eegnet)")
    return tuple(left), tuple(right)


def temporal_kernels(sfreq: float, scale: float = 1.0) -> tuple[int, ...]:
    """Lengths in samples of the three temporal kernels: ``int(scale * w * sfreq)`` for w in 0.5, 0.25, 0.125 s.

    Each is at least 1. ``scale`` 1 is the paper's.
    """
    return tuple(max(1, int(scale * w * sfreq)) for w in WINDOWS_S)


def pooled_lengths(n_times: int, kernels: tuple[int, ...]) -> tuple[int, int, int]:
    """Time length after the temporal, the spatial and the fusion layer (0 where nothing is left).

    Parameters
    ----------
    n_times : int
        Samples of a window.
    kernels : tuple of int
        Temporal kernel lengths, from :func:`temporal_kernels`.

    Returns
    -------
    temporal, spatial, fusion : int
        The temporal length is the sum over kernels of ``(n_times - k + 1 - POOL) // POOL_STEP + 1``
        (the three branches are concatenated along time), 0 if any branch is empty.
    """

    def pooled(length: int, pool: int) -> int:
        return max(0, (length - pool) // POOL_STEP + 1) if length >= pool else 0

    branches = [pooled(n_times - k + 1, POOL) for k in kernels]
    temporal = sum(branches) if min(branches) > 0 else 0
    spatial = pooled(temporal, POOL // 4)
    return temporal, spatial, pooled(spatial, FUSION_POOL)


@functools.cache
def _module_classes() -> dict[str, type[nn.Module]]:
    import torch
    from torch import nn

    class PowerLayer(nn.Module):
        """Log of the average power over sliding windows: ``log(avgpool(x ** 2) + eps)`` along time.

        Parameters
        ----------
        length : int
            Pooling window, in samples.

        Shapes: (n, c, h, t) -> (n, c, h, (t - length) // 2 + 1).
        """

        def __init__(self, length: int) -> None:
            super().__init__()
            self.pool = nn.AvgPool2d((1, length), stride=(1, POOL_STEP))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.log(self.pool(x.square()) + LOG_EPS)

    class TSceptionNet(nn.Module):
        """TSception on windows ``(n, n_channels, n_times) -> (n, n_classes)`` logits.

        Parameters
        ----------
        left, right : tuple of int
            Channel indices of the hemisphere pairs (:func:`hemisphere_pairs`).
        kernels : tuple of int
            Temporal kernel lengths (:func:`temporal_kernels`).
        num_T, num_S, hidden, n_classes : int
        dropout : float
        """

        def __init__(self, left: tuple[int, ...], right: tuple[int, ...], kernels: tuple[int, ...], num_T: int,
                     num_S: int, hidden: int, n_classes: int, dropout: float) -> None:
            super().__init__()
            n_pairs = len(left)
            self.register_buffer("order", torch.tensor(left + right, dtype=torch.long))
            self.temporal = nn.ModuleList(
                nn.Sequential(nn.Conv2d(1, num_T, (1, k)), PowerLayer(POOL)) for k in kernels)
            self.bn_t = nn.BatchNorm2d(num_T)
            self.global_kernel = nn.Sequential(nn.Conv2d(num_T, num_S, (2 * n_pairs, 1)), PowerLayer(POOL // 4))
            self.hemisphere_kernel = nn.Sequential(nn.Conv2d(num_T, num_S, (n_pairs, 1), stride=(n_pairs, 1)),
                                                   PowerLayer(POOL // 4))
            self.bn_s = nn.BatchNorm2d(num_S)
            self.fusion = nn.Sequential(nn.Conv2d(num_S, num_S, (3, 1)), PowerLayer(FUSION_POOL))
            self.bn_fusion = nn.BatchNorm2d(num_S)
            self.classify = nn.Sequential(OrderedDict(
                fc=nn.Linear(num_S, hidden), act=nn.ReLU(), drop=nn.Dropout(dropout), out=nn.Linear(hidden, n_classes)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.index_select(1, self.order).unsqueeze(1)  # (n, 1, 2 n_pairs, t): left rows, then right rows
            x = self.bn_t(torch.cat([branch(x) for branch in self.temporal], dim=-1))
            # rows: the global kernel (1), then the left and the right hemisphere (2)
            x = self.bn_s(torch.cat([self.global_kernel(x), self.hemisphere_kernel(x)], dim=2))
            x = self.bn_fusion(self.fusion(x))  # (n, num_S, 1, t'')
            return self.classify(x.mean(dim=-1).flatten(1))

    classes = {"PowerLayer": PowerLayer, "TSceptionNet": TSceptionNet}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


__getattr__ = lazy_attributes(__name__, {name: (lambda n=name: _module_classes()[n])
                                         for name in ("PowerLayer", "TSceptionNet")})


@CLASSIFIERS.register("tsception")
class TSception(TorchClassifier):
    """TSception: multi-scale temporal and hemisphere-asymmetric spatial CNN on raw EEG (Ding et al., 2022).

    ========================================================= ===================================
    layer                                                     output
    ========================================================= ===================================
    channels reordered: the left of every pair, then the right (1, 2P, T)
    dynamic temporal layer: 3 convolutions (1, k_i), k_i =    (num_T, 2P, L), L = sum of the
    0.5, 0.25, 0.125 s x sfreq, each a power layer            three branches' lengths
    (pool 8, stride 2); concatenated along time; BN
    asymmetric spatial layer: global kernel (2P, 1) and       (num_S, 3, L')
    hemisphere kernel (P, 1) with stride P (left, right),
    each a power layer (pool 2, stride 2); stacked; BN
    high-level fusion: conv (3, 1), power layer (pool 4); BN  (num_S, 1, L'')
    mean over time, FC to ``hidden``, ReLU, dropout, FC       (n_classes,)
    ========================================================= ===================================

    The power layer is ``log(avgpool(x ** 2))``, the log of the average power of each feature map
    over a sliding window. P is the number of symmetric electrode pairs, found from
    ``DataInfo.ch_names`` by :func:`hemisphere_pairs` (DEAP: 14 pairs, its 4 midline channels
    left out, as in the reference's 28-channel input; SEED: 27 pairs, 8 midline channels left
    out; AMIGOS: 7 pairs, all 14 channels). The paper's network on DEAP (28 channels, 128 Hz, num_T = num_S =
    15, hidden 32) has 12,563 parameters for 2 classes.

    Ding, Robinson, Zhang, Zeng, Guan, "TSception: Capturing Temporal Dynamics and Spatial
    Asymmetry from EEG for Emotion Recognition", IEEE Trans. Affective Computing 14(3) (published
    online 2022).
    Reference code: github.com/yi-ding-cs/TSception (``networks.py``, ``main-DEAP.py``); also
    TorchEEG's ``TSCeption``.

    Input: ``raw`` windows, shape (n, n_channels, n_times); ``n_times`` must leave at least one
    sample in every temporal branch and after the fusion layer (>= 71 samples at 128 Hz).
    Output of ``module_``: logits, shape (n, n_classes).

    Parameters
    ----------
    config : TSception.Config
    info : DataInfo
        ``info.ch_names`` gives the hemisphere pairs and ``info.sfreq`` the temporal kernels.
    device : str

    Notes
    -----
    Deviations from the paper and the reference code:

    - The hemisphere pairs come from the channel names, so any 10-20 montage works; the
      reference hard-codes DEAP's 28 lateral channels. Midline and unpaired channels are not
      used, as in the reference.
    - ``log(avgpool(x ** 2) + 1e-6)``: the small constant keeps an all-zero input finite (the
      paper's power layer has none). The power layer is the published paper's (and TorchEEG's);
      one version of the reference ``networks.py`` uses LeakyReLU and average pooling instead.
    - Inputs are standardised per channel (mean and standard deviation over the training
      windows and time); the paper feeds the 4-45 Hz band-passed DEAP signals unscaled.
    - A fixed number of epochs (200, a project choice) and the model after the last one; the
      reference trains up to 500 epochs and keeps the checkpoint with the best validation
      accuracy. Adam 1e-3, batch 64, dropout 0.5, hidden 32 and num_T = num_S = 15 are the
      reference's, with no weight decay. The paper's 4-s windows are this project's
      ``segment.window_s``; the default 1-s window leaves 30 time steps after the fusion layer
      at 128 Hz.
    - The ``quick`` profile is a CPU setting, not the paper's: 6 temporal and 6 spatial filters,
      hidden 16, 5 epochs at 3e-3: one fit on the synthetic dataset's first trial-kfold fold
      takes ~26 s on one thread, balanced accuracy 0.91 (5 folds: 0.878 +- 0.027; 2 epochs at
      1e-3 stay at chance). ``paper`` is the reference's setting.
    - Seeds come from the run's derived generators instead of a global seed.
    """

    representation = "raw"
    cost_s = 26.0
    norm_axes = (0, 2)

    @dataclass(frozen=True)
    class Config(TorchConfig):
        """TSception settings; the defaults are the reference's (``main-DEAP.py``).

        Parameters
        ----------
        num_T : int
            Filters of each temporal kernel.
        num_S : int
            Filters of the global and of the hemisphere spatial kernel (and of the fusion layer).
        hidden : int
            Units of the hidden fully connected layer.
        kernel_scale : float
            Multiplies the temporal kernels' lengths (1: 0.5, 0.25, 0.125 s as in the paper).
        dropout : float
            Dropout after the hidden layer.
        epochs, batch_size, lr, weight_decay
            As in :class:`~bench.classifiers.torch_training.TorchConfig` (reference: Adam 1e-3,
            batch 64, no weight decay).
        """

        num_T: int = 15
        num_S: int = 15
        hidden: int = 32
        kernel_scale: float = 1.0
        dropout: float = 0.5
        epochs: int = 200
        batch_size: int = 64
        lr: float = 1e-3

        PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
            "quick": {"num_T": 6, "num_S": 6, "hidden": 16, "epochs": 5, "lr": 3e-3},
            "paper": {},
        }

        def __post_init__(self) -> None:
            super().__post_init__()
            check_positive_ints(self, "num_T", "num_S", "hidden")
            if isinstance(self.kernel_scale, bool) or not isinstance(self.kernel_scale, (int, float)) or not (
                    0 < self.kernel_scale <= 4):
                raise ConfigError(f"TSception.Config.kernel_scale must be a number in (0, 4], got "
                                  f"{self.kernel_scale!r}; use 1 for the paper's 0.5/0.25/0.125-s kernels")

        @classmethod
        def tiny(cls) -> TSception.Config:
            return cls.for_profile("quick", {"num_T": 2, "num_S": 2, "hidden": 4, "kernel_scale": 0.25, "epochs": 1,
                                             "batch_size": 16})

        @staticmethod
        def search_space(trial: Any) -> dict[str, Any]:
            """Learning rate, weight decay, dropout, epochs and the filter counts."""
            return {**TorchConfig.search_space(trial), "epochs": trial.suggest_int("epochs", 20, 200, step=20),
                    "num_T": trial.suggest_categorical("num_T", [6, 9, 15]),
                    "num_S": trial.suggest_categorical("num_S", [6, 9, 15]),
                    "hidden": trial.suggest_categorical("hidden", [16, 32, 64])}

    def build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        """TSception for windows of shape (n_channels, n_times) -> ``n_classes`` logits."""
        cfg = self.config
        if len(input_shape) != 2 or input_shape[0] != len(self.info.ch_names):
            raise ConfigError(f"tsception needs raw windows of shape (channels, times) with one row per name in "
                              f"DataInfo.ch_names ({len(self.info.ch_names)}), got {input_shape}")
        left, right = hemisphere_pairs(self.info.ch_names)
        kernels = temporal_kernels(self.info.sfreq, cfg.kernel_scale)
        if pooled_lengths(input_shape[1], kernels)[2] < 1:
            need = next(t for t in range(1, 1 + 64 * max(kernels)) if pooled_lengths(t, kernels)[2] >= 1)
            raise ConfigError(f"tsception: windows of {input_shape[1]} samples are too short for temporal kernels of "
                              f"{kernels} samples and its pooling; use windows of at least {need} samples "
                              "(segment.window_s) or a smaller kernel_scale")
        return _module_classes()["TSceptionNet"](left, right, kernels, cfg.num_T, cfg.num_S, cfg.hidden, n_classes,
                                                 cfg.dropout)
